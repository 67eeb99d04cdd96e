from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


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
