from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class TransientTransportError(Exception):
    """The provider may accept the same message later (timeout, 5xx, rate limit): retry."""


class PermanentTransportError(Exception):
    """The provider will never accept this message (bad address, bounced): do not retry."""


@dataclass(frozen=True)
class OutgoingMessage:
    to: str
    body: str
    subject: str = ""
    # A key unique to this message; providers that support it use it to drop duplicates.
    dedupe_key: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    provider_id: str


class Transport(Protocol):
    def send(self, message: OutgoingMessage) -> SendResult: ...


def get_transport(channel: str) -> Transport:
    """The transport configured for a channel ("email" or "sms")."""
    if channel == "email":
        from .email import EmailTransport

        return EmailTransport()
    if channel == "sms":
        return import_string(settings.SMS_TRANSPORT)()
    raise ValueError(f"No transport delivers the {channel!r} channel.")
