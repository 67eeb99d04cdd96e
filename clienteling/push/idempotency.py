"""Writes sent again by a device are done once: the `Idempotency-Key` header.

A phone that lost signal keeps what was written (a note, a logged contact, a quick-add)
and sends it when signal returns (static/js/offline.js), each with a key of its own. The
answer may never arrive (signal lost again), so the phone sends it again: the key, kept
with a unique constraint in the same transaction as the write, makes the repeat a no-op
that answers as the first did (a redirect to the same place).
"""

from __future__ import annotations

import functools

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from .models import IdempotencyKey

HEADER = "Idempotency-Key"
KEY_MAX = 100


def idempotent(view):
    """Decorate a POST view (under `login_required`): with the header, it runs once per key
    and person; a repeat answers `Idempotent-Replayed: true` without running it."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        key = request.headers.get(HEADER, "").strip()
        if request.method != "POST" or not key or not request.user.is_authenticated:
            return view(request, *args, **kwargs)
        key = key[:KEY_MAX]
        try:
            with transaction.atomic():
                try:
                    # A concurrent repeat waits on the unique index until this one commits.
                    with transaction.atomic():
                        record = IdempotencyKey.objects.create(
                            user=request.user, key=key, path=request.path[:300]
                        )
                except IntegrityError:
                    return _replay(request, key)
                response = view(request, *args, **kwargs)
                if response.status_code >= 500:
                    raise _Failed(response)
                if response.has_header("Location"):
                    record.location = response["Location"][:300]
                    record.save(update_fields=["location"])
                return response
        except _Failed as failed:  # the key went with the rollback: the device may retry
            return failed.response

    return wrapper


def _replay(request: HttpRequest, key: str) -> HttpResponse:
    """The answer to a repeat: where the first one pointed, or a plain 200."""
    first = IdempotencyKey.objects.filter(user=request.user, key=key).first()
    if first is not None and first.location:
        response: HttpResponse = HttpResponseRedirect(first.location)
    else:
        response = HttpResponse(status=200)
    response["Idempotent-Replayed"] = "true"
    return response


class _Failed(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response
