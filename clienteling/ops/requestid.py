"""A request id in every log line, from the web request into the Celery tasks it enqueues.

The id comes from the proxy's `X-Request-ID` (when it looks like one) or is made here;
it goes back on the response, onto every log record (`RequestIdFilter`, the JSON logs'
`request_id`), and into the headers of every task published while it is current. The
worker makes it current again while the task runs, so its log lines carry it too.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

from celery import signals
from django.core.signals import request_finished
from django.dispatch import receiver

HEADER = "X-Request-ID"
TASK_HEADER = "request_id"
# What we accept from outside: short, and nothing that could break a log line.
VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE: every later log line of the request carries its id."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        request_id = given if VALID.match(given) else new_request_id()
        request.request_id = request_id
        # Not reset on the way out: Django logs a 4xx or 5xx after the middleware chain
        # has returned, and that line must carry the id too. `request_finished` (after
        # the response is sent) clears it; the next request sets its own first.
        _request_id.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


@receiver(request_finished)
def _request_id_done(**kwargs) -> None:
    _request_id.set(None)


class RequestIdFilter(logging.Filter):
    """Puts `request_id` on every record ("-" outside a request or a task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


@signals.before_task_publish.connect
def _publish_with_request_id(headers=None, **kwargs) -> None:
    request_id = _request_id.get()
    if request_id and headers is not None and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


_task_tokens: dict[str, contextvars.Token] = {}


@signals.task_prerun.connect
def _task_request_id(task_id=None, task=None, **kwargs) -> None:
    request = task.request if task is not None else None
    request_id = getattr(request, TASK_HEADER, None) or (
        (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    )
    if request_id and VALID.match(str(request_id)) and task_id:
        _task_tokens[task_id] = _request_id.set(str(request_id))


@signals.task_postrun.connect
def _task_request_id_done(task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None) if task_id else None
    if token is not None:
        _request_id.reset(token)
