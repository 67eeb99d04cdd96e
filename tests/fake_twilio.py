"""A fake Twilio REST API on loopback: the real `twilio` client sends through it
(TWILIO_API_BASE_URL), and it records what each request asked for."""

from __future__ import annotations

from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator

from tests.fakes import JsonHandler, LoopbackServer

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-auth-token"


class FakeTwilio(LoopbackServer):
    """Answers POST /2010-04-01/Accounts/<sid>/Messages.json with 201 and a Message SID.

    `received` holds each request's form (From or MessagingServiceSid, To, Body,
    StatusCallback). `fail_next` holds (status, code) pairs to answer the next requests
    with, e.g. (400, 21211) for an invalid number or (503, None).
    """

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.fail_next: list[tuple[int, int | None]] = []
        fake = self

        class Handler(JsonHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {
                    key: values[-1]
                    for key, values in parse_qs(self.rfile.read(length).decode()).items()
                }
                if self.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
                    return self._answer(404, {"code": 20404, "message": "Not found"})
                fake.received.append(form)
                if fake.fail_next:
                    status, code = fake.fail_next.pop(0)
                    return self._answer(status, {"code": code, "message": "refused"})
                sid = f"SM{len(fake.received):032x}"
                return self._answer(
                    201,
                    {
                        "sid": sid,
                        "status": "queued",
                        "to": form.get("To"),
                        "from": form.get("From"),
                        "body": form.get("Body"),
                        "messaging_service_sid": form.get("MessagingServiceSid"),
                        "account_sid": ACCOUNT_SID,
                    },
                )

            def _answer(self, status: int, payload: dict):
                # Twilio's error bodies carry the HTTP status too.
                super()._answer(status, {"status": status, **payload})

        self.url = self._serve(Handler)


def twilio_post(client, path: str, params: dict[str, str], *, token: str = AUTH_TOKEN, site=""):
    """POST a form to one of our Twilio webhooks as Twilio does, signed with `token`."""
    site = site or "http://127.0.0.1:8000"
    signature = RequestValidator(token).compute_signature(site + path, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)
