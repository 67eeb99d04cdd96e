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
from django.db import connection
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from clienteling.stores.models import Store

from ..models import AuditEvent, ClientOffer, ContactPreferences, Customer, Reason
from ..reason_kinds import reason_kind
from .offers import declines_offers
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
    for their due reasons, one for their usable offers; on a miss with a store, one more
    to tell a refusal (another store's client) from a plain miss.
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
            ),
            # The offers usable at this till: one query for every client found.
            Prefetch(
                "client_offers",
                queryset=_usable_offers(store),
                to_attr="usable_offers",
            ),
        )
        .order_by(F("last_purchase_at").desc(nulls_last=True), "pk")[:POS_LOOKUP_MAX_CLIENTS]
    )
    elsewhere: list[int] = []
    if not clients and store is not None:
        elsewhere = list(everyone.values_list("pk", flat=True)[:POS_LOOKUP_MAX_CLIENTS])
    return PosLookup(clients=clients, elsewhere=elsewhere)


def _usable_offers(store: Store | None) -> QuerySet[ClientOffer]:
    """Open offers, within their dates, of an offer that is on, for any store or this one."""
    offers = ClientOffer.objects.usable().select_related("offer__reward_category")
    if store is not None:
        offers = offers.filter(Q(offer__store__isnull=True) | Q(offer__store=store))
    return offers.only(
        "customer_id",
        "cause",
        "valid_until",
        "offer__code",
        "offer__name",
        "offer__reward",
        "offer__reward_multiplier",
        "offer__reward_amount",
        "offer__reward_gift",
        "offer__reward_category__name",
    ).order_by("valid_until", "pk")


def pos_offers(customer: Customer) -> list[ClientOffer]:
    """The offers the till may mention and redeem: none for a client who turned offers
    down, whatever is open. Reads what `pos_customer_lookup` loaded: no query."""
    try:
        if declines_offers(customer.contact_preferences.topics_declined):
            return []
    except ContactPreferences.DoesNotExist:
        pass
    return list(getattr(customer, "usable_offers", []))


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
    """One VIEW row per client the till was shown, in one INSERT statement.

    Durable before the answer leaves: outside a transaction the statement commits on its
    own (one round trip: `bulk_create` wraps it in BEGIN and COMMIT, three), inside one
    it is part of it; if it fails, the request fails and nothing is shown.
    """
    user = request.user if request.user.is_authenticated else None
    values = {
        "at": timezone.now(),
        "actor": user.pk if user is not None else None,
        "action": AuditEvent.Action.VIEW.value,
        "ip_address": request.META.get("REMOTE_ADDR") or None,
        "user_agent": request.headers.get("User-Agent", "")[:200],
        "path": request.path[:300],  # not the query: it holds the phone or email asked
        "detail": {"via": "pos-lookup"},
    }
    fields = [AuditEvent._meta.get_field(name) for name in values]
    quote = connection.ops.quote_name
    columns = [quote(field.column) for field in fields]
    columns += [
        quote(AuditEvent._meta.get_field(name).column) for name in ("customer", "customer_ref")
    ]
    constants = ", ".join(f"%s::{field.db_type(connection)}" for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {constants}, client.id, client.id FROM unnest(%s::bigint[]) AS client(id)",
            [
                *(
                    field.get_db_prep_save(value, connection)
                    for field, value in zip(fields, values.values(), strict=True)
                ),
                [customer.pk for customer in clients],
            ],
        )
        return cursor.rowcount
