"""A client's data rights, the customers half: what we hold about them (export) and
removing it (erasure). `clienteling.privacy` composes these with the appointments half;
interfaces call that one, never these directly.

Erasure keeps the client's row as an anonymous record ("Erased client", no name, no
address, no dates, no ids, no associate): orders hold on to it (PROTECT), so the store's
revenue and per-client figures still add up, and erasing twice finds nothing more to
remove. Everything that describes the person is deleted (consent history included, see
`customer_erase_own`) or, where the row counts for reports, kept without its words.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Case, CharField, Q, Value, When
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Cast, Concat
from django.http import HttpRequest
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from clienteling.channels import channels
from clienteling.stores.models import StaffMember
from clienteling.stores.scoping import managed_store_ids

from ..models import (
    AuditEvent,
    Bounce,
    ClientOffer,
    ConsentEvent,
    Contact,
    ContactPreferences,
    Customer,
    EngagementEvent,
    Message,
    NameWord,
    Note,
    Order,
    OrderLine,
    PointsMovement,
    Preference,
    Reason,
    Recommendation,
    Selection,
    SelectionItem,
    Size,
)
from ..selectors import book_size_forget
from .audit import audit_record

EXPORT_FORMAT = "clienteling.customer-export.v1"
# What an erased client's row is called: a name is required (and the admin shows it).
ERASED_NAME = "Erased client"
ERASED_MESSAGE = "The client's data was erased."


# --- Who may ------------------------------------------------------------------------------


def manages_store(*, user: AbstractBaseUser, store_id: int | None) -> bool:
    """Superusers manage every store; a manager manages their own; nobody else any.
    The admin's store scoping rule (`clienteling.stores.scoping`), one query at most."""
    stores = managed_store_ids(user)
    return stores is None or store_id in stores


def customer_is_erased(customer: Customer) -> bool:
    return customer.erased_at is not None


# --- Export -------------------------------------------------------------------------------


def json_value(value: Any) -> Any:
    """A value as JSON has it: dates in ISO 8601, money as exact strings, phones in E.164."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, PhoneNumber):
        return str(value) if value.is_valid() else value.raw_input
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_value(item) for item in value]
    return str(value)


def export_row(obj: models.Model, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """Every stored field of one row, JSON-ready; foreign keys as their `_id` column.

    Generic on purpose: a field added later is exported without anyone remembering to.
    `exclude` names what must not leave (secrets in links: tokens, digests).
    """
    skipped = set(exclude)
    row: dict[str, Any] = {}
    for model_field in obj._meta.concrete_fields:
        if model_field.name in skipped:
            continue
        if model_field.is_relation:
            row[model_field.attname] = getattr(obj, model_field.attname)
        else:
            row[model_field.name] = json_value(model_field.value_from_object(obj))
    return row


def product_ref(product) -> dict[str, Any] | None:
    if product is None:
        return None
    return {"id": product.pk, "sku": product.sku, "name": product.name}


def staff_ref(staff: StaffMember | None) -> dict[str, Any] | None:
    if staff is None:
        return None
    return {"id": staff.pk, "name": staff.display_name}


def customer_export_own(*, customer: Customer) -> dict[str, Any]:
    """Everything the customers app holds about one client, as JSON-ready values.

    About 15 queries whatever the client's history: each table is read once, with its
    products and people joined (the query-count test holds it constant).
    """
    customer = Customer.objects.select_related("home_store", "assigned_associate__user").get(
        pk=customer.pk
    )
    consents = list(customer.consent_events.order_by("recorded_at", "pk"))
    current: dict[str, bool] = {}
    for event in consents:  # oldest first: the latest per channel wins, as everywhere
        current[event.channel] = event.granted
    profile = export_row(customer, exclude=["search_name"])
    profile["home_store"] = {
        "id": customer.home_store.pk,
        "code": customer.home_store.code,
        "name": customer.home_store.name,
    }
    profile["assigned_associate"] = staff_ref(customer.assigned_associate)
    preferences = ContactPreferences.objects.filter(customer=customer).first()
    orders = (
        Order.objects.filter(customer=customer)
        .select_related("store")
        .prefetch_related(
            models.Prefetch("lines", queryset=OrderLine.objects.select_related("product"))
        )
        .order_by("placed_at", "pk")
    )
    selections = Selection.objects.filter(customer=customer).prefetch_related(
        models.Prefetch("items", queryset=SelectionItem.objects.select_related("product"))
    )
    return {
        "profile": profile,
        "current_consent": current,
        "consent_history": [export_row(event) for event in consents],
        "contact_preferences": export_row(preferences) if preferences else None,
        "sizes": [
            {**export_row(size), "category": size.category.name}
            for size in Size.objects.filter(customer=customer).select_related("category")
        ],
        "preferences": [
            export_row(preference) for preference in Preference.objects.filter(customer=customer)
        ],
        "in_their_own_words": {
            "situation": customer.situation,
            "updated_at": json_value(customer.situation_updated_at),
        },
        "orders": [
            {
                **export_row(order),
                "store": order.store.code if order.store else None,
                "lines": [
                    {**export_row(line), "product": product_ref(line.product)}
                    for line in order.lines.all()
                ],
            }
            for order in orders
        ],
        "engagement_events": [
            {**export_row(event), "product": product_ref(event.product)}
            for event in EngagementEvent.objects.filter(customer=customer)
            .select_related("product")
            .order_by("occurred_at", "pk")
        ],
        "notes": [
            export_row(note)
            for note in Note.objects.filter(customer=customer).order_by("created_at", "pk")
        ],
        "reasons": [
            export_row(reason)
            for reason in Reason.objects.filter(customer=customer).order_by("created_at", "pk")
        ],
        "contacts": [
            export_row(contact)
            for contact in Contact.objects.filter(customer=customer).order_by("occurred_at", "pk")
        ],
        "recommendations": [
            {**export_row(item), "product": product_ref(item.product)}
            for item in Recommendation.objects.filter(customer=customer).select_related("product")
        ],
        "messages": [
            export_row(message)
            for message in Message.objects.filter(customer=customer).order_by("created_at", "pk")
        ],
        "selections": [
            {
                # The token opens the client's page: it stays out of a file that travels.
                **export_row(selection, exclude=["token"]),
                "items": [
                    {**export_row(item), "product": product_ref(item.product)}
                    for item in selection.items.all()
                ],
            }
            for selection in selections
        ],
        # Points and the offers opened for them (the holdout group is not theirs to see:
        # it is a measurement, and it decides nothing they could act on).
        "points": [
            export_row(movement)
            for movement in PointsMovement.objects.filter(customer=customer).order_by("at", "pk")
        ],
        "offers": [
            {**export_row(client_offer), "offer": client_offer.offer.name}
            for client_offer in ClientOffer.objects.filter(customer=customer)
            .select_related("offer")
            .order_by("opened_at", "pk")
        ],
    }


# --- Erasure ------------------------------------------------------------------------------


@dataclass
class Erasure:
    """What one half of an erasure did: counts by what they are (for the audit and the
    admin's message), the rows whose admin history must be scrubbed, and private files
    to delete once the transaction commits."""

    counts: dict[str, int] = field(default_factory=dict)
    touched: dict[type[models.Model], list[Any]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def touch(self, model: type[models.Model], pks: Iterable[Any]) -> list[Any]:
        pks = list(pks)
        self.touched.setdefault(model, []).extend(pks)
        return pks

    def merge(self, other: Erasure) -> Erasure:
        for label, count in other.counts.items():
            self.counts[label] = self.counts.get(label, 0) + count
        for model, pks in other.touched.items():
            self.touch(model, pks)
        self.files.extend(other.files)
        return self


def customer_identifiers(customer: Customer) -> list[str]:
    """What identifies the client in free text: full name, email, phone (E.164 and its
    national digits), external ids. Used to find them in places no key leads to (the
    admin's history). The first or last name alone is not used: it would hit others."""
    terms = []
    if customer.first_name and customer.last_name:
        terms.append(customer.full_name)
    if customer.email:
        terms.append(customer.email)
    phone = customer.phone
    if phone:
        terms.append(str(phone))
        national = getattr(phone, "national_number", None)
        if national:
            terms.append(str(national))
    terms += [
        value for value in (customer.pos_customer_id, customer.ecommerce_customer_id) if value
    ]
    return [term for term in dict.fromkeys(terms) if len(term) >= 4]


def _delete(erasure: Erasure, label: str, queryset: models.QuerySet) -> None:
    erasure.touch(queryset.model, queryset.values_list("pk", flat=True))
    _, per_model = queryset.delete()
    erasure.counts[label] = per_model.get(queryset.model._meta.label, 0)


def customer_erase_own(*, customer: Customer) -> Erasure:
    """Remove or anonymise everything the customers app holds about the client.

    Deleted: consent history and contact preferences (nothing can be sent to an erased
    client, so there is nothing left to prove consent for; the audit event records that
    it existed, as a count), sizes, preferences, notes, reasons, recommendations,
    engagement events, selections, and bounces of their addresses.
    Kept without their words: messages (channel, purpose, status and times, for outreach
    figures; queued ones are withdrawn first) and the contact log (who reached out and
    the outcome, for the performance page).
    Kept as anonymous figures: orders with their lines, amounts and store, under an
    `erased-<id>` external id and no tracking number (both lead back to the person in
    other systems).
    Then the client's row loses its name, addresses, dates, ids, own words and associate.

    Runs inside the caller's transaction (`clienteling.privacy.customer_erase`), which
    locks the row first. Repeating it removes nothing more.
    """
    erasure = Erasure()
    erasure.touch(Customer, [customer.pk])
    with transaction.atomic():
        # The bounces of the client's addresses, on every channel, except an address
        # another client shares (its bounce is theirs too).
        addresses = Q(pk__in=[])
        others = Customer.objects.exclude(pk=customer.pk)
        shared: dict[str, bool] = {}
        for spec in channels():
            address = spec.address_for(customer)
            if not address:
                continue
            attribute = spec.address_attribute
            if attribute not in shared:
                value = getattr(customer, attribute)
                # Text addresses (email) compare without case; numbers as they are.
                lookup = f"{attribute}__iexact" if isinstance(value, str) else attribute
                shared[attribute] = others.filter(**{lookup: value}).exists()
            if not shared[attribute]:
                addresses |= Q(channel=spec.code, address__iexact=address)
        _delete(erasure, "bounces", Bounce.objects.filter(addresses))

        _delete(erasure, "consent_events", ConsentEvent.objects.filter(customer=customer))
        _delete(
            erasure, "contact_preferences", ContactPreferences.objects.filter(customer=customer)
        )
        _delete(erasure, "sizes", Size.objects.filter(customer=customer))
        _delete(erasure, "preferences", Preference.objects.filter(customer=customer))
        _delete(erasure, "notes", Note.objects.filter(customer=customer))
        _delete(erasure, "reasons", Reason.objects.filter(customer=customer))
        _delete(erasure, "recommendations", Recommendation.objects.filter(customer=customer))
        _delete(erasure, "engagement_events", EngagementEvent.objects.filter(customer=customer))
        erasure.touch(
            SelectionItem,
            SelectionItem.objects.filter(selection__customer=customer).values_list("pk", flat=True),
        )
        _delete(erasure, "selections", Selection.objects.filter(customer=customer))

        messages = Message.objects.filter(customer=customer)
        erasure.touch(Message, messages.values_list("pk", flat=True))
        # Nothing queued may still go: withdrawn first, then every message loses its words
        # (and what the provider knows it by: their log holds the address and the text).
        messages.filter(status=Message.Status.QUEUED).update(
            status=Message.Status.SUPPRESSED, suppressed_reason=ERASED_MESSAGE
        )
        erasure.counts["messages_anonymised"] = messages.update(
            subject="",
            body="",
            provider_id="",
            last_error="",
            # Earlier reasons may quote an address ("no consent for +1…").
            suppressed_reason=Case(
                When(status=Message.Status.SUPPRESSED, then=Value(ERASED_MESSAGE)),
                default=Value(""),
            ),
        )

        contacts = Contact.objects.filter(customer=customer)
        erasure.touch(Contact, contacts.values_list("pk", flat=True))
        erasure.counts["contacts_anonymised"] = contacts.update(body="")

        # Points and offers stay as figures, without their words (a cause names the
        # client: "Ines's birthday month"; a till's note may too).
        erasure.counts["offers_anonymised"] = ClientOffer.objects.filter(customer=customer).update(
            cause=""
        )
        erasure.counts["points_anonymised"] = PointsMovement.objects.filter(
            customer=customer
        ).update(note="")

        orders = Order.objects.filter(customer=customer)
        erasure.touch(Order, orders.values_list("pk", flat=True))
        erasure.counts["orders_kept"] = orders.update(
            external_id=Concat(Value("erased-"), Cast("pk", output_field=CharField())),
            tracking_number="",
            updated_at=timezone.now(),
        )

        # The trail keeps who did what and when, and where without the query string
        # (a search: "?q=<name>", "?email=..."); a detail naming them goes. These events
        # are about this client: their first or last name alone is reason enough.
        events = AuditEvent.objects.filter(customer_ref=customer.pk)
        searched = list(events.filter(path__contains="?").only("pk", "path"))
        for event in searched:
            event.path = event.path.split("?", 1)[0]
        AuditEvent.objects.bulk_update(searched, ["path"], batch_size=500)
        names = [name for name in (customer.first_name, customer.last_name) if len(name) >= 2]
        for term in [*customer_identifiers(customer), *names]:
            events.filter(detail__icontains=term).update(detail={})

        book_size_forget(customer.assigned_associate_id)
        Customer.objects.filter(pk=customer.pk).update(
            first_name=ERASED_NAME,
            last_name="",
            email="",
            phone="",
            birthday=None,
            anniversary=None,
            time_zone="",
            pos_customer_id=None,
            ecommerce_customer_id=None,
            situation="",
            situation_updated_at=None,
            assigned_associate=None,
            erased_at=timezone.now(),
            updated_at=timezone.now(),
        )
        _forget_name_words(f"{customer.first_name} {customer.last_name}".lower().split())
    customer.refresh_from_db()
    return erasure


def _forget_name_words(words: Iterable[str]) -> None:
    """Search's dictionary of name words (customers.models.NameWord) keeps a word while
    some client's name holds it: an erased name's words nobody else has go."""
    for word in set(words):
        if not Customer.objects.filter(search_name__contains=word).exists():
            NameWord.objects.filter(word=word).delete()


def _without_objects(change_message: str, terms: list[str]) -> str:
    """An admin change message with field names only: the `object` parts repeat the text
    of inline rows (a note, a size) and go. Plain-text messages (old entries) go whole."""
    try:
        parts = json.loads(change_message)
    except ValueError:
        return ""
    if not isinstance(parts, list):
        return ""
    kept = []
    for part in parts:
        if not isinstance(part, dict):
            continue
        cleaned = {}
        for verb, detail in part.items():
            if isinstance(detail, dict):
                detail = {key: value for key, value in detail.items() if key != "object"}
            cleaned[verb] = detail
        kept.append(cleaned)
    text = json.dumps(kept)
    if any(term.lower() in text.lower() for term in terms):
        return ""
    return text


def admin_history_scrub(*, touched: dict[type[models.Model], list[Any]], terms: list[str]) -> int:
    """The admin's history of these rows loses what it quoted of them: the row's text
    (`object_repr`, e.g. a note's first words or the client's name) and the inline texts in
    change messages. Entries elsewhere that quote the client's name, email or phone are
    scrubbed too: a full scan of the log, acceptable for a rare, manual action.
    Returns how many entries were scrubbed."""
    condition = Q(pk__in=[])
    rows = set()
    for model, pks in touched.items():
        if pks:
            content_type = ContentType.objects.get_for_model(model)
            rows.update((content_type.pk, str(pk)) for pk in pks)
            condition |= Q(content_type=content_type, object_id__in=[str(pk) for pk in pks])
    for term in terms:
        condition |= Q(object_repr__icontains=term) | Q(change_message__icontains=term)
    entries = list(LogEntry.objects.filter(condition).select_related("content_type"))
    for entry in entries:
        quoted = any(term.lower() in entry.object_repr.lower() for term in terms)
        if quoted or (entry.content_type_id, entry.object_id) in rows:
            model = entry.content_type.model_class() if entry.content_type_id else None
            name = model._meta.verbose_name if model else "object"
            entry.object_repr = f"{name} #{entry.object_id} (erased)"[:200]
        entry.change_message = _without_objects(entry.change_message, terms)
    LogEntry.objects.bulk_update(entries, ["object_repr", "change_message"], batch_size=500)
    return len(entries)


def privacy_audit(
    *,
    action: str,
    customer: Customer | None,
    customer_ref: int,
    by: AbstractBaseUser | None,
    request: HttpRequest | None,
    detail: dict[str, Any],
) -> AuditEvent:
    """An audit event from an interface (with the request's address) or from code."""
    if request is not None and customer is not None:
        return audit_record(request=request, action=action, customer=customer, detail=detail)
    return AuditEvent.objects.create(
        actor=by if by is not None and by.is_authenticated else None,
        action=action,
        customer=customer,
        customer_ref=customer_ref,
        detail=detail,
    )
