"""Email: its channel spec and the transport that hands a message to Django's backend."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage

from .base import OutgoingMessage, PermanentTransportError, SendResult, TransientTransportError
from .registry import ChannelSpec

SPEC = ChannelSpec(
    code="email",
    label="Email",
    message_label="Email",
    noun="email",
    by="by email",
    address_noun="email address",
    address_attribute="email",
    # Django's email backend is chosen by EMAIL_URL; this class hands the message to it.
    transport="clienteling.channels.email.EmailTransport",
    supports_unsubscribe_link=True,
)


class EmailTransport:
    """Sends through Django's configured email backend (EMAIL_URL; django-anymail plugs in here)."""

    def send(self, message: OutgoingMessage) -> SendResult:
        headers = dict(message.headers)
        if message.dedupe_key:
            # Our own id for the message, stable across retries.
            headers.setdefault("Message-ID", f"<{message.dedupe_key}@clienteling>")
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers=headers,
        )
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as error:
            raise PermanentTransportError(str(error)) from error
        except (TimeoutError, smtplib.SMTPException, ConnectionError) as error:
            raise TransientTransportError(str(error)) from error
        return SendResult(provider_id=headers.get("Message-ID", ""))
