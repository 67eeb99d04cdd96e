"""django-anymail's signals, for any ESP it supports: tracking events and inbound email.

anymail's views (`/hooks/anymail/<esp>/tracking/` and `.../inbound/`) check the ESP's
basic auth (ANYMAIL["WEBHOOK_SECRET"]) or signature, normalise the payload and send these
signals; the receivers only translate anymail's event into a call to the services
(`customers.services.email_events`). Connected in `CustomersConfig.ready()`.
"""

from __future__ import annotations

import hashlib

from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent
from django.utils.html import strip_tags

from clienteling.channels.email import METADATA_MESSAGE

from ..services.email_events import email_event_record, email_reply_received

# EngagementEvent.external_id holds 64 characters.
EXTERNAL_ID_LENGTH = 64


def event_external_id(event: AnymailTrackingEvent, esp_name: str) -> str:
    """A stable id for the event, the same each time the ESP retries its webhook: the ESP's
    own event id where it sends one; else (Postmark's opens and clicks carry none) the
    message, kind, time and link the event is about."""
    key = event.event_id or "|".join(
        str(part or "")
        for part in (
            event.message_id,
            event.event_type,
            event.timestamp.isoformat() if event.timestamp else "",
            event.click_url,
        )
    )
    readable = f"{esp_name.lower()}:{key}"
    if len(readable) <= EXTERNAL_ID_LENGTH:
        return readable
    digest = hashlib.sha256(readable.encode()).hexdigest()
    return f"{esp_name.lower()[: EXTERNAL_ID_LENGTH - 41]}:{digest[:40]}"


def tracking_received(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    """A delivery, bounce, complaint, open or click about one of our emails."""
    metadata = event.metadata or {}
    email_event_record(
        kind=event.event_type,
        reference=str(metadata.get(METADATA_MESSAGE, "")),
        provider_id=str(event.message_id or ""),
        event_id=event_external_id(event, esp_name),
        occurred_at=event.timestamp,
    )


def inbound_received(sender, event: AnymailInboundEvent, esp_name: str, **kwargs) -> None:
    """An email to our inbound address: a client answering one of ours."""
    message = event.message
    if message is None or message.spam_detected:
        return
    sender_address = message.from_email
    # The ESP's own reply-only text where it has one (Postmark's StrippedTextReply).
    text = message.stripped_text or message.text or strip_tags(message.html or "")
    email_reply_received(
        from_address=sender_address.addr_spec if sender_address else "",
        subject=message.subject or "",
        text=text,
    )
