"""Request ids: taken from X-Request-ID or made, sent back, on every log line, and carried
by the Celery tasks a request enqueues into the worker's log lines."""

from __future__ import annotations

import json
import logging
import time

import pytest
from celery import shared_task

from clienteling.ops import requestid
from tests.conftest import running_worker
from tests.factories import CustomerFactory

SEEN: list[str | None] = []


@shared_task(name="tests.ops.log_request_id")
def log_request_id(customer_id: int) -> None:
    logging.getLogger("tests.ops.worker").warning("task for client %s", customer_id)
    SEEN.append(requestid.current_request_id())


def _json_lines(caplog_records) -> list[dict]:
    console = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    formatter = console.formatter
    return [json.loads(formatter.format(record)) for record in caplog_records]


@pytest.mark.django_db
def test_the_proxys_request_id_comes_back_and_is_on_every_log_line(client, caplog):
    with caplog.at_level(logging.WARNING):
        response = client.get("/no-such-page/", headers={"X-Request-ID": "edge-42.abc"})
    assert response.status_code == 404
    assert response["X-Request-ID"] == "edge-42.abc"
    lines = _json_lines([r for r in caplog.records if r.name == "django.request"])
    assert lines and all(line["request_id"] == "edge-42.abc" for line in lines)
    assert {"time", "level", "logger", "message"} <= set(lines[0])


def test_a_missing_or_odd_request_id_is_replaced_by_a_new_one(client):
    first = client.get("/livez/")["X-Request-ID"]
    odd = client.get("/livez/", headers={"X-Request-ID": "bad id\nwith newline"})
    assert len(first) == 32 and first.isalnum()
    assert odd["X-Request-ID"] != "bad id\nwith newline"
    assert len(odd["X-Request-ID"]) == 32
    assert first != client.get("/livez/")["X-Request-ID"]


def test_outside_a_request_log_lines_say_so():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    requestid.RequestIdFilter().filter(record)
    assert record.request_id == "-"


class _Lines(logging.Handler):
    """The JSON lines the console handler would write, kept for the test."""

    def __init__(self) -> None:
        super().__init__()
        console = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
        self.setFormatter(console.formatter)
        self.addFilter(requestid.RequestIdFilter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.mark.worker
def test_a_task_enqueued_in_a_request_logs_with_its_id_in_the_worker(transactional_db, store):
    customer = CustomerFactory(home_store=store)
    SEEN.clear()
    lines = _Lines()
    worker_logger = logging.getLogger("tests.ops.worker")
    # An earlier in-process worker (celery's start_worker, loglevel "error") may have
    # raised the root logger's level: this logger says its own.
    level = worker_logger.level
    worker_logger.setLevel(logging.WARNING)
    worker_logger.addHandler(lines)
    token = requestid._request_id.set("req-from-web-1")
    try:
        log_request_id.delay(customer.pk)  # published with the id in its headers
    finally:
        requestid._request_id.reset(token)
    try:
        with running_worker():
            deadline = time.monotonic() + 20
            while not SEEN and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        worker_logger.removeHandler(lines)
        worker_logger.setLevel(level)
    assert SEEN == ["req-from-web-1"]
    assert [line["request_id"] for line in lines.lines] == ["req-from-web-1"]
    assert lines.lines[0]["message"] == f"task for client {customer.pk}"
    # Outside the task (this thread, after it), nothing carries it.
    assert requestid.current_request_id() is None
