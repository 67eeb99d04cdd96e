"""The Celery app: settings under the CELERY_ namespace, tasks found in each app's tasks.py."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clienteling.settings")

app = Celery("clienteling")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
