"""The Celery app: settings under the CELERY_ namespace, tasks found in each app's tasks.py."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clienteling.settings")

app = Celery("clienteling")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue_on_commit(task, *args) -> None:
    """Send `task` with `args` once the current transaction commits.

    Robust: if the broker is down at that moment, the error is logged instead of failing
    the request whose data is already committed; every task enqueued this way has a beat
    sweep that finds the work in the database and enqueues it again.
    """
    from django.db import transaction

    transaction.on_commit(lambda: task.delay(*args), robust=True)
