"""Enqueueing Celery tasks from services: always after the transaction commits."""

from __future__ import annotations

from django.db import transaction


def enqueue_on_commit(task, *args) -> None:
    """Send `task` with `args` once the current transaction commits.

    Robust: if the broker is down at that moment, the error is logged instead of failing
    the request whose data is already committed; every task enqueued this way has a beat
    sweep that finds the work in the database and enqueues it again.
    """
    transaction.on_commit(lambda: task.delay(*args), robust=True)
