"""The till asks who is in front of it: the POS read-back.

A till knows a client by a phone number typed any way, an email address or its own POS
id. The look-up answers with what the cashier needs to greet them (name, tier, their
associate) and the open reasons worth saying at the counter: every service reason (an
alteration ready, an order on its way) and the marketing ones whose topic the client has
not turned down. Every client returned is audited as a view, as the card is.

A key for one store reads that store's clients only; a client of another store is not
found (the caller answers 404 with no hint and records the refusal).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import HttpRequest

from clienteling.stores.models import Store

from ..models import AuditEvent, ContactPreferences, Customer, Reason
from ..reason_kinds import reason_kind
from .suppression import phone_candidates

# A phone number or an email address shared by a family: the till shows a short choice.
POS_LOOKUP_MAX_CLIENTS = 5
POS_CUSTOMER_FIELDS = (
    "first_name",
    "last_name",
    "tier",
    "pos_customer_id",
    "last_purchase_at",
    "home_store__code",
    "home_store__country",
    "assigned_associate__employee_code",
    "assigned_associate__user__username",
    "assigned_associate__user__first_name",
    "assigned_associate__user__last_name",
    "contact_preferences__topics_declined",
)


@dataclass
class PosLookup:
    """The clients the till may see, and whether another store holds a match."""

    clients: list[Customer] = field(default_factory=list)
    elsewhere: list[int] = field(default_factory=list)


def pos_phone_numbers(raw: str, *, store: Store | None) -> list[str]:
    """The E.164 forms a typed number may be, as inbound SMS matching reads a sender:
    national numbers in the store's country first, then the default region."""
    regions = [store.country] if store is not None and store.country else []
    regions.append(settings.PHONENUMBER_DEFAULT_REGION)
    numbers: list[str] = []
    for region in dict.fromkeys(regions):
        numbers += [n for n in phone_candidates(raw, region=region) if n not in numbers]
    return numbers


def _match(*, phone: str = "", email: str = "", pos_id: str = "", store: Store | None) -> Q:
    """The filter for one way of asking; matches nothing when the value cannot be one."""
    if pos_id:
        return Q(pos_customer_id=pos_id.strip())
    if email:
        # Emails are kept in lower case (every write path lowers them).
        return Q(email=email.strip().lower())
    numbers = pos_phone_numbers(phone, store=store)
    match = Q(pk__in=[])
    # OR'ed equalities on the phone's B-tree index (customer_phone_exact).
    for number in numbers:
        match |= Q(phone=number)
    return match


def pos_customer_lookup(
    *, phone: str = "", email: str = "", pos_id: str = "", store: Store | None = None
) -> PosLookup:
    """The clients matching the one value given, among `store`'s (every store's if None).

    Cost: one query for the clients with their associate and contact preferences, one
    for their due reasons; on a miss with a store, one more to tell a refusal (another
    store's client) from a plain miss.
    """
    match = _match(phone=phone, email=email, pos_id=pos_id, store=store)
    everyone: QuerySet[Customer] = Customer.objects.not_erased().filter(match)
    visible = everyone if store is None else everyone.filter(home_store=store)
    # Only the columns the till's answer uses: the look-up is on the till's critical path,
    # and compiling and reading four tables' every column was most of its time.
    clients = list(
        visible.select_related("home_store", "assigned_associate__user", "contact_preferences")
        .only(*POS_CUSTOMER_FIELDS)
        .prefetch_related(
            Prefetch(
                "reasons",
                queryset=Reason.objects.due()
                .only("customer_id", "kind", "why", "due_on", "score")
                .order_by("-score", "due_on", "pk"),
                to_attr="due_reasons",
            )
        )
        .order_by(F("last_purchase_at").desc(nulls_last=True), "pk")[:POS_LOOKUP_MAX_CLIENTS]
    )
    elsewhere: list[int] = []
    if not clients and store is not None:
        elsewhere = list(everyone.values_list("pk", flat=True)[:POS_LOOKUP_MAX_CLIENTS])
    return PosLookup(clients=clients, elsewhere=elsewhere)


def pos_reasons(customer: Customer) -> list[Reason]:
    """The due reasons worth saying at the till: service ones, and marketing ones whose
    topic the client has not turned down (a birthday for someone who declined occasions
    stays unsaid). Reads what `pos_customer_lookup` loaded: no query."""
    try:
        declined = set(customer.contact_preferences.topics_declined or [])
    except ContactPreferences.DoesNotExist:
        declined = set()
    kept = []
    for reason in getattr(customer, "due_reasons", []):
        spec = reason_kind(reason.kind)
        if spec.is_marketing and spec.topic is not None and spec.topic in declined:
            continue
        kept.append(reason)
    return kept


def pos_lookup_audit(*, request: HttpRequest, clients: list[Customer]) -> int:
    """One VIEW row per client the till was shown, in one INSERT."""
    user = request.user if request.user.is_authenticated else None
    rows = [
        AuditEvent(
            actor=user,
            action=AuditEvent.Action.VIEW,
            customer=customer,
            customer_ref=customer.pk,
            ip_address=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.headers.get("User-Agent", "")[:200],
            path=request.path[:300],  # not the query: it holds the phone or email asked
            detail={"via": "pos-lookup"},
        )
        for customer in clients
    ]
    AuditEvent.objects.bulk_create(rows)
    return len(rows)
