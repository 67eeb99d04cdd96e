"""Text messages through Twilio: the transport, and what its webhooks need to be read.

Select it with SMS_TRANSPORT=clienteling.channels.twilio.TwilioSmsTransport and set
TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_DEFAULT_FROM. Each store sends in its
own name: its Messaging Service (MG...) when it has one, else its business number, else
the default number. Every message asks for status callbacks on /hooks/twilio/status/.

Twilio's Messages API has no idempotency key: it accepts the same message twice. So a
message is reconciled before it is sent again (`sent_matching`): a worker that died after
Twilio accepted a text, but before "sent" was written, or a request that timed out after
Twilio took it, leaves a message the outbox sends again only when Twilio's own list of
messages to that number holds no copy of it. And the status callback's URL carries our
reference (`?ref=<message id>`), so a callback that arrives before the Message SID was
recorded (or instead of it, after a crash) still finds its message.
"""

from __future__ import annotations

import datetime
import logging
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from ..core.http import absolute_url
from .base import OutgoingMessage, PermanentTransportError, SendResult, TransientTransportError

logger = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"

# Refusals at send time that are about the number itself: the message will never go.
# 21211 invalid "To", 21214 not reachable, 21217 not a valid number, 21401 invalid
# number, 21407 country not supported, 21421 invalid number, 21604 "To" missing,
# 21610 the recipient replied STOP to Twilio, 21612 unreachable route, 21614 not a mobile.
REFUSED_NUMBER_CODES = frozenset(
    {21211, 21214, 21217, 21401, 21407, 21421, 21604, 21610, 21612, 21614}
)

# Delivery failures (status callbacks) and what they mean in plain words.
ERROR_REASONS = {
    "21211": "The number is not a valid phone number.",
    "21610": "The client replied STOP to this number: carriers block further texts.",
    "21614": "The number is not a mobile number.",
    "30001": "Twilio's queue was full: the text was not sent.",
    "30002": "The Twilio account is suspended.",
    "30003": "The phone is unreachable (switched off, or out of service).",
    "30004": "The recipient blocks texts from this number.",
    "30005": "The number does not exist, or no longer does.",
    "30006": "The number is a landline, or its carrier cannot receive texts.",
    "30007": "The carrier filtered the text as spam.",
    "30008": "The carrier could not deliver the text (unknown error).",
    "30009": "Part of the text went missing on the way.",
    "30010": "The text cost more than the maximum price set.",
    "30034": "The sending number is not registered for texts to US numbers (10DLC).",
    "63016": "Outside WhatsApp's 24-hour window: only an approved template can be sent.",
}
# Failures that say the number itself is bad; SMS_BAD_NUMBER_FAILURES of them bounce it.
BAD_NUMBER_ERROR_CODES = frozenset({"21211", "21614", "30003", "30005", "30006"})


def error_reason(code: str | int | None, status: str = "") -> str:
    """A Twilio error code in plain words, for the message's "last error"."""
    code = str(code or "").strip()
    if not code:
        return "Not delivered." if status in ("failed", "undelivered") else ""
    words = ERROR_REASONS.get(code, "The text could not be delivered.")
    return f"{words} (Twilio error {code})"


class LoopbackAwareHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, sending to `base_url` instead of api.twilio.com when one is
    given (a fake in tests: TWILIO_API_BASE_URL)."""

    def __init__(self, base_url: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if self.base_url and url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def twilio_client() -> Client:
    http_client = LoopbackAwareHttpClient(
        base_url=settings.TWILIO_API_BASE_URL, timeout=settings.TWILIO_TIMEOUT_SECONDS
    )
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)


class TwilioSmsTransport:
    """Sends one text with `messages.create`; the provider id is the Message SID.

    Errors: a refusal about the number (REFUSED_NUMBER_CODES) is permanent (the number is
    bounced); 429, 5xx and network errors are transient (retried with backoff). Any other
    refusal (bad credentials, a sender not allowed) is ours to fix, not the client's: it
    is transient too, logged, and fails the message after MESSAGE_MAX_ATTEMPTS without
    bouncing the client's number.
    """

    def __init__(self, client: Client | None = None) -> None:
        self.client = client or twilio_client()

    # What the message is called in errors and logs.
    noun = "text"

    def options(self, message: OutgoingMessage) -> dict[str, str]:
        """The arguments of `messages.create` for this message (subclasses change them)."""
        sender = message.sender
        callback = absolute_url(reverse("twilio-status"))
        if message.reference:
            # Our own reference rides on the callback: Twilio signs the whole URL, so the
            # webhook can trust it, and it finds the message without its SID.
            callback += "?" + urlencode({"ref": message.reference})
        options: dict[str, str] = {
            "to": message.to,
            "body": message.body,
            "status_callback": callback,
        }
        if sender.messaging_service_sid:
            options["messaging_service_sid"] = sender.messaging_service_sid
        else:
            options["from_"] = sender.sms_from or settings.TWILIO_DEFAULT_FROM
        return options

    def send(self, message: OutgoingMessage) -> SendResult:
        options = self.options(message)
        try:
            created = self.client.messages.create(**options)
        except TwilioRestException as error:
            detail = (
                f"Twilio refused the {self.noun}: {error.status} {error.code or ''} {error.msg}"
            )
            if error.status == 429 or error.status >= 500:
                raise TransientTransportError(detail) from error
            if error.code in REFUSED_NUMBER_CODES:
                raise PermanentTransportError(detail) from error
            logger.error("Twilio refused a %s for a reason of ours: %s", self.noun, detail)
            raise TransientTransportError(detail) from error
        except requests.RequestException as error:  # timeouts, refused connections, resets
            raise TransientTransportError(f"Twilio unreachable: {error}") from error
        return SendResult(provider_id=created.sid or "")

    # Twilio lists at most this many messages to one number when reconciling.
    lookup_limit = 100
    # Clocks differ: a copy created this long before our claim still counts.
    lookup_skew = datetime.timedelta(minutes=2)

    def sent_matching(self, message: OutgoingMessage, *, since: datetime.datetime) -> list[str]:
        """The SIDs of messages Twilio already holds that look like `message` (the same
        recipient and sender, created since `since`, the same body unless it goes as an
        approved template), oldest first. The outbox calls this before it sends a message
        again, and skips the send when one of them is not yet another message's.

        `messages.list` filtered by To and From (not by the Messaging Service's number,
        which Twilio picks per message), newest first, stopping at `since`. Not filtered
        on DateSent: a text still queued at Twilio (a long batch from one number) has no
        date sent yet, and it is exactly the one not to send twice. Raises
        TransientTransportError when Twilio cannot be asked: the outbox then waits.
        """
        options = self.options(message)
        filters = {"to": options["to"]}
        if "from_" in options:
            filters["from_"] = options["from_"]
        since = since - self.lookup_skew
        found: list[str] = []
        try:
            for record in self.client.messages.stream(
                **filters, limit=self.lookup_limit, page_size=50
            ):
                created = record.date_created or record.date_sent
                if created is not None and created < since:
                    break
                service = options.get("messaging_service_sid")
                if service and record.messaging_service_sid != service:
                    continue
                if "body" in options and (record.body or "").strip() != options["body"].strip():
                    continue
                if record.direction and not record.direction.startswith("outbound"):
                    continue
                found.append(record.sid)
        except TwilioException as error:  # a refused page raises the base class
            raise TransientTransportError(
                f"Twilio could not list the {self.noun}s sent: {error}"
            ) from error
        except requests.RequestException as error:
            raise TransientTransportError(f"Twilio unreachable: {error}") from error
        return list(reversed(found))


def signature_valid(url: str, params, signature: str) -> bool:
    """Whether a webhook really comes from Twilio: `url` is the public URL Twilio called,
    `params` the POSTed form (a QueryDict), `signature` the X-Twilio-Signature header."""
    token = settings.TWILIO_AUTH_TOKEN
    if not token or not signature:
        return False
    return RequestValidator(token).validate(url, params, signature)


def twiml(reply: str = "") -> str:
    """TwiML answering an inbound text: nothing, or one text back to the sender."""
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return str(response)
