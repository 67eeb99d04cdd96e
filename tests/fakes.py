"""Fakes served on loopback at the boundary: an SMS provider that speaks HTTP."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonHandler(BaseHTTPRequestHandler):
    """A fake's request handler: quiet, answering JSON."""

    def log_message(self, *args):  # keep test output quiet
        pass

    def _answer(self, status: int, payload: dict):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class LoopbackServer:
    """A fake served on 127.0.0.1 by a thread, for `with fake:` blocks."""

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> str:
        """Bind `handler` to a free port; returns the server's root URL."""
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeSmsProvider(LoopbackServer):
    """A provider on 127.0.0.1: records messages, drops repeats of an Idempotency-Key,
    and can be told to fail the next N requests with a status (e.g. 503)."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.accepted: dict[str, dict] = {}
        self.fail_next: list[int] = []
        self.delay_seconds = 0.0  # how long each answer takes, to slow a batch down
        self.token = "fake-token"
        provider = self

        class Handler(JsonHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if provider.delay_seconds:
                    time.sleep(provider.delay_seconds)
                request = {"body": body, "headers": dict(self.headers)}
                provider.received.append(request)
                if self.headers.get("Authorization") != f"Bearer {provider.token}":
                    return self._answer(401, {"error": "bad token"})
                if provider.fail_next:
                    return self._answer(provider.fail_next.pop(0), {"error": "try later"})
                if not str(body.get("to", "")).startswith("+"):
                    return self._answer(422, {"error": "not a number"})
                key = self.headers.get("Idempotency-Key") or f"auto-{len(provider.received)}"
                if key not in provider.accepted:
                    provider.accepted[key] = {"id": f"SM{len(provider.accepted) + 1:05d}", **body}
                return self._answer(201, {"id": provider.accepted[key]["id"]})

        self.url = self._serve(Handler) + "/v1/messages"
