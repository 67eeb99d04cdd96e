"""A fake Twilio REST API on loopback: the real `twilio` client sends through it
(TWILIO_API_BASE_URL), and it records what each request asked for."""

from __future__ import annotations

import datetime
import os
import signal
import threading
import time
from email.utils import format_datetime
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.request_validator import RequestValidator

from clienteling.channels.twilio import TwilioSmsTransport
from tests.fakes import JsonHandler, LoopbackServer

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-auth-token"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


class FakeTwilio(LoopbackServer):
    """Twilio's Messages API, as documented:

    - POST /2010-04-01/Accounts/<sid>/Messages.json answers 201 and a Message SID. Like
      Twilio, it takes the same message twice: nothing drops a repeat.
    - GET of the same path lists the messages it accepted, newest first, filtered by
      `To`, `From` and `DateSent>` / `DateSent<` (a date, or an ISO date and time, in
      GMT), in pages of `PageSize` (50 by default) with Twilio's paging keys
      (`messages`, `next_page_uri`, `page`, `page_size`...).

    `received` holds each POSTed form (From or MessagingServiceSid, To, Body or ContentSid,
    StatusCallback): what Twilio was asked to send. `fail_next` holds (status, code) pairs
    to answer the next POSTs with, e.g. (400, 21211) for an invalid number or (503, None);
    `fail_lists` the same for the next GETs. `delay_seconds` holds each POST's answer back
    after the message is taken (so a worker can die while Twilio has it).
    """

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.messages: list[dict] = []
        self.lists: list[dict[str, str]] = []
        self.fail_next: list[tuple[int, int | None]] = []
        self.fail_lists: list[tuple[int, int | None]] = []
        self.delay_seconds = 0.0
        self.lock = threading.Lock()
        fake = self

        class Handler(JsonHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {
                    key: values[-1]
                    for key, values in parse_qs(self.rfile.read(length).decode()).items()
                }
                if self.path != MESSAGES_PATH:
                    return self._answer(404, {"code": 20404, "message": "Not found"})
                with fake.lock:
                    fake.received.append(form)
                    if fake.fail_next:
                        status, code = fake.fail_next.pop(0)
                        return self._answer(status, {"code": code, "message": "refused"})
                    record = fake._accept(form)
                if fake.delay_seconds:
                    time.sleep(fake.delay_seconds)
                return self._answer(201, record)

            def do_GET(self):
                url = urlsplit(self.path)
                if url.path != MESSAGES_PATH:
                    return self._answer(404, {"code": 20404, "message": "Not found"})
                query = {key: values[-1] for key, values in parse_qs(url.query).items()}
                with fake.lock:
                    fake.lists.append(query)
                    if fake.fail_lists:
                        status, code = fake.fail_lists.pop(0)
                        return self._answer(status, {"code": code, "message": "refused"})
                    found = [m for m in reversed(fake.messages) if _matches(m, query)]
                return self._answer(200, _page(found, query))

            def _answer(self, status: int, payload: dict):
                # Twilio's error bodies carry the HTTP status too.
                if status >= 400:
                    payload = {"status": status, **payload}
                super()._answer(status, payload)

        self.url = self._serve(Handler)

    def _accept(self, form: dict[str, str]) -> dict:
        now = datetime.datetime.now(datetime.UTC)
        sid = f"SM{len(self.received):032x}"
        record = {
            "sid": sid,
            "account_sid": ACCOUNT_SID,
            "status": "queued",
            "direction": "outbound-api",
            "to": form.get("To"),
            "from": form.get("From"),
            # A template goes as its approved words; the fake only names it.
            "body": form.get("Body") or f"[template {form.get('ContentSid', '')}]",
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "date_created": format_datetime(now),
            "date_updated": format_datetime(now),
            "date_sent": format_datetime(now),
            "num_segments": "1",
            "uri": f"{MESSAGES_PATH[:-5]}/{sid}.json",
            "_sent_at": now,
        }
        self.messages.append(record)
        return _public(record)

    def sent_to(self, number: str) -> list[dict[str, str]]:
        """What Twilio was asked to send to `number`."""
        return [form for form in self.received if form.get("To") == number]


def _public(record: dict) -> dict:
    return {key: value for key, value in record.items() if not key.startswith("_")}


def _when(value: str) -> datetime.datetime:
    """A DateSent filter: "2026-11-20" (the day, GMT) or "2026-11-20T17:00:00Z"."""
    if "T" in value:
        return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    return datetime.datetime.combine(
        datetime.date.fromisoformat(value), datetime.time(), tzinfo=datetime.UTC
    )


def _matches(record: dict, query: dict[str, str]) -> bool:
    if "To" in query and record["to"] != query["To"]:
        return False
    if "From" in query and record["from"] != query["From"]:
        return False
    if "DateSent>" in query and record["_sent_at"] < _when(query["DateSent>"]):
        return False
    return not ("DateSent<" in query and record["_sent_at"] > _when(query["DateSent<"]))


def _page(found: list[dict], query: dict[str, str]) -> dict:
    """One page of a list, with Twilio's 2010-04-01 paging keys."""
    size = min(int(query.get("PageSize", 50)), 1000)
    number = int(query.get("Page", 0))
    records = found[number * size : (number + 1) * size]

    def uri(page: int) -> str:
        params = {k: v for k, v in query.items() if k not in ("Page", "PageToken")}
        return f"{MESSAGES_PATH}?{urlencode({**params, 'Page': page, 'PageSize': size})}"

    more = (number + 1) * size < len(found)
    return {
        "messages": [_public(record) for record in records],
        "page": number,
        "page_size": size,
        "start": number * size,
        "end": number * size + max(len(records) - 1, 0),
        "uri": uri(number),
        "first_page_uri": uri(0),
        "previous_page_uri": uri(number - 1) if number else None,
        "next_page_uri": uri(number + 1) if more else None,
    }


def twilio_post(client, path: str, params: dict[str, str], *, token: str = AUTH_TOKEN, site=""):
    """POST a form to one of our Twilio webhooks as Twilio does, signed with `token`
    (`path` may carry a query string, as our status callback URLs do)."""
    site = site or "http://127.0.0.1:8000"
    signature = RequestValidator(token).compute_signature(site + path, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


class TwilioSmsTransportKilledAfterAccepting(TwilioSmsTransport):
    """Fault injection for the kill tests (SMS_TRANSPORT in a real worker process): the
    text whose body is $FAULT_KILL_AFTER_BODY is sent, Twilio accepts it, and then the
    process sending it is SIGKILLed before the outbox can write "sent", once (the file
    $FAULT_KILL_MARKER records that it happened)."""

    def send(self, message):
        result = super().send(message)
        marker = os.environ.get("FAULT_KILL_MARKER", "")
        if message.body == os.environ.get("FAULT_KILL_AFTER_BODY") and marker:
            try:
                with open(marker, "x") as handle:
                    handle.write(result.provider_id)
            except FileExistsError:
                return result
            os.kill(os.getpid(), signal.SIGKILL)
        return result
