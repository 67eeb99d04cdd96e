"""What the email provider tells us about our emails, and the emails clients send back.

The provider's webhooks (django-anymail's views, `customers/webhooks/email.py`) call
these with anymail's normalised event names, so any ESP anymail supports feeds the same
writes: a delivery receipt, a bounce that retires the address, a spam complaint that
withdraws email consent at once, opens and clicks for the reasons engine, and replies
that join the client's conversation.
"""

from __future__ import annotations

import datetime
import logging
import re

from django.db import transaction
from django.utils import timezone

from clienteling.channels import channel as channel_spec
from clienteling.core.errors import ApplicationError

from ..models import EngagementEvent, Message, Source, Suppression
from .consent import consent_record
from .outreach import email_inbound, message_delivery_update, message_provider_accepted
from .reasons import reasons_refresh_after_commit
from .suppression import suppression_add

logger = logging.getLogger(__name__)

# anymail's EventType values, grouped by what they mean for us.
DELIVERED = frozenset({"delivered"})
# The address is dead or refused (SoftBounce included: anymail cannot tell it apart).
FAILED = frozenset({"bounced", "rejected"})
# The client said stop through their mail client or the provider: consent withdrawn.
WITHDRAWN = {
    "complained": "Reported an email as spam",
    "unsubscribed": "Unsubscribed through the email provider",
}
ENGAGEMENT = {
    "opened": EngagementEvent.Kind.EMAIL_OPEN,
    "clicked": EngagementEvent.Kind.EMAIL_CLICK,
}


def email_message_find(*, reference: str, provider_id: str) -> Message | None:
    """The Message an event is about: by our reference (the metadata we sent with it), else
    by the provider's id. None when it is not one of ours (another app's, or erased)."""
    messages = Message.objects.select_related("customer")
    if reference and reference.isdigit():
        message = messages.filter(pk=int(reference)).first()
        if message is not None:
            return message
    if provider_id:
        return messages.filter(provider_id=provider_id).order_by("pk").first()
    return None


def email_event_record(
    *,
    kind: str,
    reference: str = "",
    provider_id: str = "",
    event_id: str = "",
    occurred_at: datetime.datetime | None = None,
) -> str:
    """Apply one tracking event from the email provider; returns what it did.

    `kind` is anymail's normalised event type ("delivered", "bounced", "complained",
    "opened"...). `event_id` is the provider's id for the event, unique per event: an
    open or click recorded once is not recorded again when the webhook is retried.
    Events about messages we don't know, and kinds we don't use, are ignored.
    """
    message = email_message_find(reference=reference, provider_id=provider_id)
    if message is None:
        logger.info("Email event %s for an unknown message (%s)", kind, provider_id)
        return "unknown"
    if kind in DELIVERED or kind in FAILED:
        if reference and provider_id:
            # The receipt may come before the worker recorded the send, or instead of it
            # (it died after the ESP accepted the email): the ESP's word records it.
            message_provider_accepted(reference=str(message.pk), provider_id=provider_id)
            message.refresh_from_db(fields=["provider_id"])
        if not message.provider_id:
            return "ignored"
        status = "delivered" if kind in DELIVERED else "failed"
        message_delivery_update(provider_id=message.provider_id, status=status)
        return status
    if kind in WITHDRAWN:
        # Kept apart from the client's record too: a spam report outlives an erasure and
        # a re-import that says "consent: yes" (only the client's own opt-in lifts it).
        suppression_add(
            channel=channel_spec(message.channel).consent,
            address=message.customer.email,
            reason=Suppression.Reason.COMPLAINT
            if kind == "complained"
            else Suppression.Reason.OTHER,
        )
        try:
            consent_record(
                customer=message.customer,
                channel=channel_spec(message.channel).consent,
                granted=False,
                source=Source.CLIENT,
                wording=WITHDRAWN[kind],
                by=None,
                only_if_changed=True,
            )
        except ApplicationError:
            # An erased client (nothing of theirs left to stop): nothing goes to them anyway.
            logger.info("Email %s with nothing to record for client %s", kind, message.customer_id)
            return "ignored"
        return "withdrawn"
    if kind in ENGAGEMENT:
        if not event_id:
            return "ignored"
        with transaction.atomic():
            _, created = EngagementEvent.objects.get_or_create(
                source=Source.EMAIL_PLATFORM,
                external_id=event_id,
                defaults={
                    "customer": message.customer,
                    "kind": ENGAGEMENT[kind],
                    "occurred_at": occurred_at or timezone.now(),
                },
            )
            if created:
                reasons_refresh_after_commit([message.customer_id])
        return "engagement" if created else "repeated"
    return "ignored"


# Where a reply's quoted history starts: "On <date>, <name> wrote:" (Gmail and Apple
# Mail, sometimes folded on two lines), Outlook's separator or header block, a quoted line.
_QUOTE_START = re.compile(
    r"^(?:On\b[^\n]{0,200}(?:\n[^\n]{0,200})?\bwrote:[ \t]*$"
    r"|-{2,}[ \t]*Original Message[ \t]*-{2,}|_{8,}[ \t]*$|From:[ \t]|>)",
    re.IGNORECASE | re.MULTILINE,
)


def email_reply_text(text: str) -> str:
    """A client's reply without the message it quotes: what comes before the quote."""
    text = text.replace("\r\n", "\n")
    for match in _QUOTE_START.finditer(text):
        above = text[: match.start()].strip()
        if above:
            return above
    return text.strip()


def email_reply_received(*, from_address: str, subject: str, text: str) -> dict[str, int]:
    """A client answered one of our emails: the reply, without what it quotes, joins their
    conversation (see `email_inbound`)."""
    body = email_reply_text(text)
    if not from_address or not (body or subject.strip()):
        return {"clients": 0}
    return email_inbound(from_address=from_address, subject=subject, body=body)
