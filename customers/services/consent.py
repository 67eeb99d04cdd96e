"""Consent recorded by a member of staff: one change, with its proof, in the history and
in the audit trail at once.

The consent history is append-only (`ConsentEvent`): what is in force is always the
latest event per channel. Integrations, self sign-up and STOP replies write theirs in
bulk (`consents_append_if_changed`, `consent_revoke`); this is the one write for a person
at the counter or in the admin, who answers for it by name.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from clienteling.core.errors import ApplicationError

from ..models import ConsentEvent, ContactChannel, Customer, Message, Source
from .audit import audit_consent_changes
from .customers import consent_wording


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
    if channel not in ContactChannel.values:
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
    wording: str,
    by: AbstractBaseUser,
    at: datetime.datetime | None = None,
) -> ConsentEvent:
    """Record that the client gave (`granted`) or withdrew consent for `channel`, as
    `by` took it down: the event, with its wording and source, and its audit row commit
    together or not at all. `wording` is what the client agreed to; left empty for a
    grant, the store's standard sentence for the channel (`consent_wording`) is kept.

    Always appended, even when the state does not change: a staff member confirming a
    consent with new wording is itself worth keeping. A withdrawal also drops what is
    queued on that channel, as a STOP reply does (delivery checks consent again anyway).
    """
    if by is None or not by.is_authenticated:
        raise ApplicationError("A consent taken by staff needs the person who took it.")
    consent_check(
        customer=customer,
        channel=channel,
        source=source,
        at=at,
    )
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
        recorded_by=by,
    )
    event.full_clean()
    event.save()
    audit_consent_changes([event])
    if not granted:
        Message.objects.filter(
            customer=customer, channel=channel, status=Message.Status.QUEUED
        ).update(status=Message.Status.SUPPRESSED, suppressed_reason="The client said stop.")
    return event
