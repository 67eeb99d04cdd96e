from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from clienteling.errors import ApplicationError

from ..models import Contact, Customer, Reason

# Channels that carry a message to the client: they need the client's consent. A call or
# a visit that already happened is only recorded.
CONSENTED_CHANNELS = {Contact.Channel.EMAIL: "email", Contact.Channel.SMS: "sms"}


def reason_close(
    *,
    reason: Reason,
    by: AbstractBaseUser | None,
    state: str = Reason.State.DONE,
    closed_note: str = "",
) -> bool:
    """Close an open (or snoozed) reason; return False if it was already closed.

    A conditional UPDATE, so two associates closing it at once close it once.
    """
    if state not in (Reason.State.DONE, Reason.State.DISMISSED):
        raise ApplicationError("A reason closes as done or dismissed.", field="state")
    if state == Reason.State.DISMISSED and not closed_note.strip():
        raise ApplicationError(
            "Say why you dismiss it, so the next person knows.", field="closed_note"
        )
    updated = Reason.objects.filter(
        pk=reason.pk, state__in=[Reason.State.OPEN, Reason.State.SNOOZED]
    ).update(
        state=state,
        closed_at=timezone.now(),
        closed_by=by,
        closed_note=closed_note.strip(),
    )
    return updated == 1


def reason_snooze(*, reason: Reason, until: datetime.date) -> bool:
    """Hide an open reason from Today until a later day."""
    if until <= timezone.localdate():
        raise ApplicationError("Snooze until a day after today.", field="until")
    updated = Reason.objects.filter(
        pk=reason.pk, state__in=[Reason.State.OPEN, Reason.State.SNOOZED]
    ).update(state=Reason.State.SNOOZED, snoozed_until=until)
    return updated == 1


@transaction.atomic
def contact_log(
    *,
    customer: Customer,
    staff_user: AbstractBaseUser,
    channel: str,
    outcome: str,
    body: str = "",
    direction: str = Contact.Direction.OUTBOUND,
    reason: Reason | None = None,
) -> Contact:
    """Record a contact with a client; the reason it answers is closed as done.

    An outbound email or SMS needs the client's current consent for that channel: this is
    checked here, whatever page or API calls it.
    """
    if reason is not None and reason.customer_id != customer.pk:
        raise ApplicationError("That reason is about another client.", field="reason")
    consent_channel = CONSENTED_CHANNELS.get(channel)
    if (
        direction == Contact.Direction.OUTBOUND
        and consent_channel
        and not customer.has_consent(consent_channel)
    ):
        raise ApplicationError(
            f"{customer.first_name} has not agreed to hear from us by {channel}.", field="channel"
        )
    contact = Contact.objects.create(
        customer=customer,
        staff=staff_user,
        channel=channel,
        direction=direction,
        outcome=outcome,
        body=body.strip(),
        reason=reason,
    )
    if reason is not None:
        reason_close(reason=reason, by=staff_user)
    return contact
