"""Email: its channel spec and the transport that hands a message to Django's backend.

The backend is chosen by settings: EMAIL_URL (console, file, memory, SMTP) or
EMAIL_PROVIDER, an ESP through django-anymail. Every email goes out in the store's own
name and look: a text part (the body as written) and an HTML part rendered from
`templates/emails/message.html`, with the one-click unsubscribe link in its footer.
"""

from __future__ import annotations

import re
import smtplib
from email.headerregistry import Address
from email.utils import parseaddr

from anymail.exceptions import (
    AnymailAPIError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
)
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from .base import (
    OutgoingMessage,
    PermanentTransportError,
    Sender,
    SendResult,
    TransientTransportError,
)
from .registry import ChannelSpec

SPEC = ChannelSpec(
    code="email",
    label="Email",
    message_label="Email",
    noun="email",
    by="by email",
    address_noun="email address",
    address_attribute="email",
    # Django's email backend is chosen by EMAIL_URL or EMAIL_PROVIDER (django-anymail).
    transport="clienteling.channels.email.EmailTransport",
    supports_unsubscribe_link=True,
)

HTML_TEMPLATE = "emails/message.html"
# The key of our own reference in an ESP's metadata: tracking webhooks find the Message by it.
METADATA_MESSAGE = "message"


def from_address(sender: Sender) -> str:
    """`"Store Name" <address>`: the store's own address, else DEFAULT_FROM_EMAIL's, in the
    store's name. With no store at all, DEFAULT_FROM_EMAIL as it is."""
    if not sender.email_name:
        return settings.DEFAULT_FROM_EMAIL
    address = sender.email_address or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    # Address quotes a name holding commas or quotes; the backend encodes non-ASCII.
    return str(Address(display_name=sender.email_name, addr_spec=address))


def paragraphs(body: str) -> list[str]:
    """The plain-text body as paragraphs (split on blank lines), for the HTML part."""
    text = body.replace("\r\n", "\n").strip()
    return [part.strip("\n") for part in re.split(r"\n[ \t]*\n", text) if part.strip()]


def html_body(message: OutgoingMessage) -> str:
    """The HTML part: the body's paragraphs (escaped by the template), the store's name and
    logo, and the unsubscribe link."""
    sender = message.sender
    return render_to_string(
        HTML_TEMPLATE,
        {
            "subject": message.subject,
            "paragraphs": paragraphs(message.body),
            "store_name": sender.store_name or sender.email_name,
            "store_phone": sender.store_phone,
            "logo_url": sender.logo_url,
            "unsubscribe_url": message.unsubscribe_url,
        },
    )


# Django's backends that write where they run (a file, memory, the console): a batch is
# handed over in one go, with no provider to answer for each message.
LOCAL_BACKENDS = frozenset(
    f"django.core.mail.backends.{name}.EmailBackend"
    for name in ("filebased", "locmem", "console", "dummy")
)


class EmailTransport:
    """Sends through Django's configured email backend (EMAIL_URL, or an ESP by anymail)."""

    def send(self, message: OutgoingMessage) -> SendResult:
        email = self._email(message)
        try:
            email.send(fail_silently=False)
        except (AnymailRecipientsRefused, AnymailInvalidAddress) as error:
            # The ESP refused the address (invalid, suppressed after a bounce or complaint).
            raise PermanentTransportError(str(error)) from error
        except AnymailAPIError as error:
            # Network errors and the ESP's 5xx: the same message may go later.
            raise TransientTransportError(str(error)) from error
        except smtplib.SMTPRecipientsRefused as error:
            raise PermanentTransportError(str(error)) from error
        except (TimeoutError, smtplib.SMTPException, ConnectionError) as error:
            raise TransientTransportError(str(error)) from error
        return self._result(email)

    @property
    def can_send_batch(self) -> bool:
        """Whether `send_batch` may be used: only with a backend that writes locally
        (file, memory, console). An ESP or SMTP server answers for each message, and each
        is recorded as soon as it answered (`send`)."""
        return settings.EMAIL_BACKEND in LOCAL_BACKENDS

    def send_batch(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        """Hand a batch to a local backend over one connection (the file backend writes
        it to one file)."""
        emails = [self._email(message) for message in messages]
        try:
            get_connection(fail_silently=False).send_messages(emails)
        except OSError as error:
            raise TransientTransportError(str(error)) from error
        return [self._result(email) for email in emails]

    def _email(self, message: OutgoingMessage) -> EmailMultiAlternatives:
        headers = dict(message.headers)
        if message.dedupe_key:
            # Our own id for the message, stable across retries.
            headers.setdefault("Message-ID", f"<{message.dedupe_key}@clienteling>")
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body,
            from_email=from_address(message.sender),
            to=[message.to],
            reply_to=[settings.EMAIL_REPLY_TO] if settings.EMAIL_REPLY_TO else None,
            headers=headers,
        )
        email.attach_alternative(html_body(message), "text/html")
        # anymail's extras (Django's own backends ignore them): the ESP keeps the metadata
        # and tags and sends them back with every tracking event.
        if message.reference:
            email.metadata = {METADATA_MESSAGE: message.reference}
        if message.purpose:
            email.tags = [message.purpose]
        return email

    @staticmethod
    def _result(email: EmailMultiAlternatives) -> SendResult:
        status = getattr(email, "anymail_status", None)
        if status is not None and status.message_id is not None:
            # The ESP's id (one recipient: one id): receipts may carry only this.
            return SendResult(provider_id=str(status.message_id))
        return SendResult(provider_id=email.extra_headers.get("Message-ID", ""))
