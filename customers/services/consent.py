"""Consent: the one place where a client's yes or no to a channel is written.

Every change goes through here, wherever it comes from: the counter (quick-add), the
client's own sign-up, the fitting-room tablet, a public booking, an integration's push,
a STOP reply, an unsubscribe link, the admin. Each is appended to the history
(`ConsentEvent`, never edited: what is in force is the latest event per channel) with
its source, the words the client agreed to, who recorded it (a member of staff, who
answers for it by name, or nobody when the client or an integration did) and when, and
gets its row in the audit trail in the same transaction. A withdrawal also drops what
is queued on the channels that need that consent (delivery checks consent again anyway).

`consent_record` records one change for a client in hand; `consents_record` records
many in a few queries (ingest, sign-up, quick-add), optionally only those that change
what is in force, which makes repeated pushes idempotent.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from clienteling.channels import channel as channel_spec
from clienteling.channels import channels, is_channel
from clienteling.core.errors import ApplicationError
from clienteling.stores.models import Store

from ..models import ConsentEvent, Customer, Message, Source, UnsentChannel, consent_channel_choices
from .audit import audit_consent_changes

# Sources a member of staff answers for: a consent from them needs the person, by name.
STAFF_SOURCES = frozenset({Source.ASSOCIATE, Source.QUESTIONNAIRE})
# Sources that are the client's own act (their device, their text): an opt-in from one
# of these lifts a suppression (`suppression`), one from anywhere else does not.
OWN_SOURCES = frozenset({Source.CLIENT, Source.SMS_REPLY})

# The channels the app sends nothing by: how the client would be reached, and which of
# their attributes holds the address (none for app notifications).
_UNSENT_BY = {
    UnsentChannel.PHONE: ("by phone call", "phone"),
    UnsentChannel.PUSH: ("through app notifications", ""),
}


def consent_address_attribute(channel: str) -> str:
    """Which attribute of a client holds the address a consent is about ("phone"), or ""."""
    if channel in _UNSENT_BY:
        return _UNSENT_BY[channel][1]
    spec = next((spec for spec in channels() if spec.consent == channel), None)
    return spec.address_attribute if spec else ""


def consent_wording(channel: str, store: Store) -> str:
    """The sentence the client agrees to for a channel, as shown to them and kept with the consent."""
    how = channel_spec(channel).by if is_channel(channel) else _UNSENT_BY[channel][0]
    return (
        f"I agree that {store.name} may contact me {how} with personal messages about my orders, "
        f"appointments and pieces chosen for me. I can say stop at any time."
    )


@dataclass(frozen=True)
class ConsentAnswer:
    """A client's answer for one channel, as a form collects it."""

    channel: str
    granted: bool


@dataclass(frozen=True)
class ConsentChange:
    """One grant or withdrawal for `consents_record`."""

    customer_id: int
    channel: str
    granted: bool
    source: str
    wording: str = ""
    at: datetime.datetime | None = None
    # The member of staff who took it down; None when the client or an integration did.
    by: AbstractBaseUser | None = None


def _person(source: str, by: AbstractBaseUser | None) -> AbstractBaseUser | None:
    """Who answers for the change: required when a member of staff took it down."""
    person = by if by is not None and by.is_authenticated else None
    if person is None and source in STAFF_SOURCES:
        raise ApplicationError("A consent taken by staff needs the person who took it.")
    return person


def consent_check(
    *,
    customer: Customer | None,
    channel: str,
    source: str,
    at: datetime.datetime | None = None,
) -> None:
    """Raise ApplicationError (naming the field at fault) if this consent cannot be
    recorded. Forms call it to answer before saving; `consent_record` calls it again.
    `customer` may be None while the client is being created (nothing to check yet)."""
    if channel not in dict(consent_channel_choices()):
        raise ApplicationError("Choose a channel.", field="channel")
    if source not in Source.values:
        raise ApplicationError("Choose where the consent comes from.", field="source")
    if at is not None and at > timezone.now():
        raise ApplicationError("A consent cannot be recorded in the future.", field="recorded_at")
    if customer is not None and customer.erased_at is not None:
        raise ApplicationError("This client's data was erased: record nothing new for them.")


@transaction.atomic
def consent_record(
    *,
    customer: Customer,
    channel: str,
    granted: bool,
    source: str,
    wording: str = "",
    by: AbstractBaseUser | None = None,
    at: datetime.datetime | None = None,
    only_if_changed: bool = False,
) -> ConsentEvent | None:
    """Record that the client gave (`granted`) or withdrew consent for `channel`: the
    event, with its wording and source, and its audit row commit together or not at all.

    `by` is the member of staff who took it down (required for a staff source such as
    the counter or the admin); None when the client did (sign-up, a STOP, an unsubscribe
    link) or an integration. `wording` is what the client agreed to; left empty for a
    grant, the store's standard sentence for the channel (`consent_wording`) is kept.

    Appended even when the state does not change (a staff member confirming a consent
    with new wording is worth keeping), unless `only_if_changed`: then repeating what is
    in force records nothing and returns None (a second STOP). A withdrawal drops what
    is queued on the channels that need this consent, changed or not.
    """
    person = _person(source, by)
    consent_check(customer=customer, channel=channel, source=source, at=at)
    wording = wording.strip()
    if granted and not wording:
        # A grant is only worth what the client was told: without words of their own, the
        # sentence the counter shows for this channel (what `customer_create` keeps).
        wording = consent_wording(channel, customer.home_store)
    event = ConsentEvent(
        customer=customer,
        channel=channel,
        granted=granted,
        source=source,
        wording=wording,
        recorded_at=at or timezone.now(),
        recorded_by=person,
    )
    event.full_clean()
    saved = _events_save([event], only_if_changed=only_if_changed)
    return saved[0] if saved else None


def consents_record(
    *, changes: Iterable[ConsentChange], only_if_changed: bool = True
) -> list[ConsentEvent]:
    """Record many consent changes at once (ingest, sign-up, quick-add): one query for
    what is in force, one INSERT for the events and one for their audit rows.

    With `only_if_changed` (the default), a change that repeats what is in force, or an
    earlier change of the same batch, records nothing: pushing the same consents twice
    records them once. Returns the events recorded.
    """
    channels_known = dict(consent_channel_choices())
    events = []
    for change in changes:
        if change.channel not in channels_known:
            raise ApplicationError(f"Unknown channel “{change.channel}”.", field="channel")
        if change.source not in Source.values:
            raise ApplicationError("Choose where the consent comes from.", field="source")
        event = ConsentEvent(
            customer_id=change.customer_id,
            channel=change.channel,
            granted=change.granted,
            source=change.source,
            wording=change.wording,
            recorded_by=_person(change.source, change.by),
        )
        if change.at is not None:
            event.recorded_at = change.at
        events.append(event)
    if not events:
        return []  # no savepoint, no query: most ingested clients carry no consent
    with transaction.atomic():
        return _events_save(events, only_if_changed=only_if_changed)


def _events_save(events: list[ConsentEvent], *, only_if_changed: bool) -> list[ConsentEvent]:
    if not events:
        return []
    kept = events
    if only_if_changed:
        current = {
            (event.customer_id, event.channel): event.granted
            for event in ConsentEvent.objects.current().filter(
                customer_id__in={event.customer_id for event in events},
                channel__in={event.channel for event in events},
            )
        }
        kept = []
        for event in events:
            key = (event.customer_id, event.channel)
            if current.get(key) == event.granted:
                continue
            current[key] = event.granted
            kept.append(event)
    saved = ConsentEvent.objects.bulk_create(kept)
    audit_consent_changes(saved)
    _queued_messages_drop([event for event in events if not event.granted])
    # Every opt-in of the client's own (even one repeating what is in force), never an
    # import's or an associate's: only the person lifts their own STOP.
    _suppressions_lift([event for event in events if event.granted and event.source in OWN_SOURCES])
    return saved


def _suppressions_lift(opt_ins: list[ConsentEvent]) -> int:
    if not opt_ins:
        return 0
    from .suppression import suppressions_lift

    customers = Customer.objects.in_bulk({event.customer_id for event in opt_ins})
    pairs = []
    for event in opt_ins:
        attribute = consent_address_attribute(event.channel)
        customer = customers.get(event.customer_id)
        if attribute and customer is not None:
            pairs.append((event.channel, str(getattr(customer, attribute, "") or "")))
    return suppressions_lift(pairs)


def _queued_messages_drop(withdrawals: list[ConsentEvent]) -> int:
    """Queued messages on the channels whose consent was withdrawn become "not sent":
    one UPDATE per consent channel withdrawn."""
    clients_by_consent: dict[str, set[int]] = defaultdict(set)
    for event in withdrawals:
        clients_by_consent[event.channel].add(event.customer_id)
    dropped = 0
    for consent, customer_ids in clients_by_consent.items():
        codes = [spec.code for spec in channels() if spec.consent == consent]
        if codes:
            dropped += Message.objects.filter(
                customer_id__in=customer_ids, channel__in=codes, status=Message.Status.QUEUED
            ).update(status=Message.Status.SUPPRESSED, suppressed_reason="The client said stop.")
    return dropped
