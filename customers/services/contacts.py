from __future__ import annotations

import datetime
import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from clienteling.channels import is_channel
from clienteling.core.errors import ApplicationError

from ..models import Contact, Customer, MessageTemplate, Reason
from ..reason_kinds import reason_kind
from .outreach import message_queue
from .policy import message_policy


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
    subject: str = "",
    direction: str = Contact.Direction.OUTBOUND,
    reason: Reason | None = None,
    template: MessageTemplate | None = None,
) -> Contact:
    """Record a contact with a client; the reason it answers is closed as done.

    `template`: a message template with an approved version on the channel (WhatsApp's
    Content SID), sent as that approved template (outside WhatsApp's 24-hour window,
    the only thing that can go); `body` is then its words, for the contact log.

    An email or text "sent" from the app goes through the outbox and the send-time
    policy (consent, quiet hours, weekly cap, topics): if the policy says no, nothing is
    saved and the error says why. A call or a visit that already happened is recorded.
    """
    if reason is not None and reason.customer_id != customer.pk:
        raise ApplicationError("That reason is about another client.", field="reason")
    message = None
    if (
        direction == Contact.Direction.OUTBOUND
        and is_channel(channel)
        and outcome == Contact.Outcome.SENT
    ):
        kind = reason.kind if reason else ""
        spec = reason_kind(kind) if reason else None
        # A personal message (no reason) is marketing, under no topic a client can refuse.
        is_marketing = spec.is_marketing if spec else True
        topic = (spec.topic or "") if spec else ""
        decision = message_policy(
            customer=customer,
            channel=channel,
            is_marketing=is_marketing,
            topic=topic,
            template=template,
        )
        if not decision.allowed:
            raise ApplicationError(decision.reason, field="channel")
        message = message_queue(
            customer=customer,
            channel=channel,
            body=body,
            subject=subject or f"A note from {customer.home_store.name}",
            purpose=kind or "personal",
            topic=topic,
            is_marketing=is_marketing,
            sender=staff_user,
            reason=reason,
            template=template,
            dedupe_key=f"contact:{uuid.uuid4().hex}",
        )
    contact = Contact.objects.create(
        customer=customer,
        staff=staff_user,
        channel=channel,
        direction=direction,
        outcome=outcome,
        body=body.strip(),
        reason=reason,
        message=message,
    )
    if reason is not None:
        reason_close(reason=reason, by=staff_user)
    return contact


@transaction.atomic
def conversation_reply(
    *, customer: Customer, staff_user: AbstractBaseUser, channel: str, body: str
) -> Contact:
    """Answer the client in their conversation; their open "wrote back" reasons are done."""
    if not body.strip():
        raise ApplicationError("Write your reply first.", field="body")
    contact = contact_log(
        customer=customer,
        staff_user=staff_user,
        channel=channel,
        outcome=Contact.Outcome.SENT,
        body=body,
        subject=f"Re: your message to {customer.home_store.name}",
    )
    for reason in customer.reasons.open().filter(kind=Reason.Kind.CLIENT_REPLIED):
        reason_close(reason=reason, by=staff_user)
    return contact
