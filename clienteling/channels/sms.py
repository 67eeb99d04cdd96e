"""Text messages: the channel spec, and the transports for development and tests (a
provider's is in `http.py`; SMS_TRANSPORT picks one)."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .base import OutgoingMessage, SendResult
from .registry import ChannelSpec

SPEC = ChannelSpec(
    code="sms",
    label="SMS",
    message_label="Text message",
    noun="text messages",
    by="by text message",
    address_noun="mobile number",
    address_attribute="phone",
    transport="clienteling.channels.sms.ConsoleSmsTransport",
    transport_setting="SMS_TRANSPORT",
    has_sending_window=True,
)

logger = logging.getLogger(__name__)


class ConsoleSmsTransport:
    """Prints each SMS to standard output (the demo's default)."""

    def send(self, message: OutgoingMessage) -> SendResult:
        provider_id = message.dedupe_key or uuid.uuid4().hex
        sys.stdout.write(f"SMS to {message.to} [{provider_id}]: {message.body}\n")
        sys.stdout.flush()
        return SendResult(provider_id=provider_id)


class FileSmsTransport:
    """Appends each SMS as one JSON line to SMS_FILE_PATH/outbox.jsonl (tests and benchmarks)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory or settings.SMS_FILE_PATH)

    @property
    def outbox(self) -> Path:
        return self.directory / "outbox.jsonl"

    def send(self, message: OutgoingMessage) -> SendResult:
        self.directory.mkdir(parents=True, exist_ok=True)
        provider_id = message.dedupe_key or uuid.uuid4().hex
        record = {
            "provider_id": provider_id,
            "to": message.to,
            "body": message.body,
            "sent_at": timezone.now().isoformat(),
        }
        # One write call per line in append mode: concurrent workers don't interleave lines.
        with self.outbox.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        return SendResult(provider_id=provider_id)

    def send_batch(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        """Append the whole batch in one write (unbuffered, append mode): concurrent
        workers' batches never interleave lines."""
        self.directory.mkdir(parents=True, exist_ok=True)
        results, lines = [], []
        sent_at = timezone.now().isoformat()
        for message in messages:
            provider_id = message.dedupe_key or uuid.uuid4().hex
            record = {"provider_id": provider_id, "to": message.to, "body": message.body}
            lines.append(json.dumps({**record, "sent_at": sent_at}) + "\n")
            results.append(SendResult(provider_id=provider_id))
        with self.outbox.open("ab", buffering=0) as handle:
            handle.write("".join(lines).encode())
        return results

    def read(self) -> list[dict]:
        if not self.outbox.exists():
            return []
        return [
            json.loads(line)
            for line in self.outbox.read_text(encoding="utf-8").splitlines()
            if line
        ]
