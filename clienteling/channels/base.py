from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from clienteling.stores.models import Store


class TransientTransportError(Exception):
    """The provider may accept the same message later (timeout, 5xx, rate limit): retry."""


class PermanentTransportError(Exception):
    """The provider will never accept this message (bad address, bounced): do not retry."""


@dataclass(frozen=True)
class Sender:
    """Who a message comes from: the client's store, in its own name. An empty field means
    the project's default (DEFAULT_FROM_EMAIL, the provider's default number...)."""

    store_name: str = ""
    store_phone: str = ""
    email_name: str = ""
    email_address: str = ""
    logo_url: str = ""
    sms_from: str = ""
    messaging_service_sid: str = ""
    whatsapp_from: str = ""

    @classmethod
    def for_store(cls, store: Store | None, *, logo_url: str = "") -> Sender:
        if store is None:
            return cls()
        return cls(
            store_name=store.name,
            store_phone=store.phone,
            email_name=store.email_from_name or store.name,
            email_address=store.email_from_address,
            logo_url=logo_url,
            sms_from=store.sms_from_number,
            messaging_service_sid=store.twilio_messaging_service_sid,
            whatsapp_from=store.whatsapp_from_number,
        )


@dataclass(frozen=True)
class OutgoingMessage:
    to: str
    body: str
    subject: str = ""
    # A key unique to this message; providers that support it use it to drop duplicates.
    dedupe_key: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    sender: Sender = field(default_factory=Sender)
    # Our own reference for the message (its id): status callbacks and reconciliation
    # after a crash find it by this where the provider keeps it.
    reference: str = ""
    # The one-click unsubscribe link, for channels that carry one (email).
    unsubscribe_url: str = ""
    # What the message is for (a reason kind, or "personal"): providers that tag messages
    # (an email provider's tags) file it under this.
    purpose: str = ""
    # A provider-approved template to send instead of `body` (Twilio's Content SID for
    # WhatsApp), and its variables ({"1": "Claire", ...}); empty: `body` goes as written.
    template_id: str = ""
    template_variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    provider_id: str


class Transport(Protocol):
    def send(self, message: OutgoingMessage) -> SendResult: ...


class ReconcilingTransport(Transport, Protocol):
    """A transport whose provider accepts repeats but can be asked what it already holds
    (Twilio). Before a message goes again (a worker died mid-send, a request timed out),
    the outbox asks `sent_matching` and records a copy found instead of sending.

    A transport without it either makes the provider drop repeats itself (the HTTP
    transport's Idempotency-Key) or errs on the side of sending again (email: see the
    README, "Once, provider by provider").
    """

    def sent_matching(self, message: OutgoingMessage, *, since: datetime.datetime) -> list[str]:
        """Provider ids of messages like `message` accepted since `since`, oldest first;
        raises TransientTransportError when the provider cannot be asked."""
        ...
