"""A generic HTTP SMS provider: POST JSON, bearer token, idempotency key, explicit timeouts."""

from __future__ import annotations

import httpx
from django.conf import settings

from .base import OutgoingMessage, PermanentTransportError, SendResult, TransientTransportError


class HttpSmsTransport:
    """Sends `{"to", "from", "body"}` to SMS_HTTP_URL.

    The message's dedupe key goes in the Idempotency-Key header, so a resend after a
    crash is dropped by the provider. Timeouts, 429 and 5xx are transient (retried by
    the outbox); other 4xx mean the provider will never take it (a bad number).
    """

    def __init__(
        self, url: str | None = None, token: str | None = None, timeout: float | None = None
    ) -> None:
        self.url = url or settings.SMS_HTTP_URL
        self.token = token or settings.SMS_HTTP_TOKEN
        self.timeout = timeout or settings.SMS_HTTP_TIMEOUT_SECONDS

    def send(self, message: OutgoingMessage) -> SendResult:
        headers = {"Authorization": f"Bearer {self.token}"}
        if message.dedupe_key:
            headers["Idempotency-Key"] = message.dedupe_key
        try:
            response = httpx.post(
                self.url,
                json={"to": message.to, "from": settings.SMS_FROM, "body": message.body},
                headers=headers,
                timeout=self.timeout,
            )
        except httpx.TransportError as error:  # connection refused, timeouts, resets
            raise TransientTransportError(f"SMS provider unreachable: {error}") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientTransportError(f"SMS provider answered {response.status_code}")
        if response.status_code >= 400:
            raise PermanentTransportError(
                f"SMS provider refused the message: {response.status_code} {response.text[:200]}"
            )
        try:
            provider_id = str(response.json().get("id", ""))
        except ValueError:
            provider_id = ""
        return SendResult(provider_id=provider_id or message.dedupe_key)
