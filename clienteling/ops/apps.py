from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "clienteling.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Connects the Celery signals (request ids into and out of tasks, the worker's
        # heartbeat) in every process: web nodes publish, workers run.
        from . import health, requestid  # noqa: F401
