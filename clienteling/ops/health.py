"""Health: what a load balancer asks a web node, and what an orchestrator asks a worker
or the beat scheduler, through django-health-check.

- Web (`/health/`): the database answers a query, the cache stores and reads a key, the
  broker answers (the library's Database and Cache checks, our Broker check).
- Worker: every worker process writes a heartbeat key in the shared cache (Redis) every
  HEARTBEAT_SECONDS while it runs (`worker_ready` starts the thread);
  `manage.py health --worker` fails when this machine's key is older than
  HEARTBEAT_STALE_SECONDS.
- Beat: beat sends `ops.beat_heartbeat` every minute (CELERY_BEAT_SCHEDULE) and a worker
  records when it ran: `manage.py health --beat` fails when that is older than
  BEAT_STALE_SECONDS, which also catches a scheduler whose tasks nobody runs.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
import time

from celery import shared_task, signals
from django.conf import settings
from django.core.cache import cache
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15
HEARTBEAT_STALE_SECONDS = 60
BEAT_STALE_SECONDS = 180
WORKER_KEY = "ops:heartbeat:worker:{host}"
BEAT_KEY = "ops:heartbeat:beat"
# Kept past their staleness, so a stale heartbeat reads as "old", not as "never".
KEY_SECONDS = 24 * 3600


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (Redis: PING; any kombu transport).

    `url`: the broker's address, by default CELERY_BROKER_URL (never shown in reports)."""

    url: str | None = dataclasses.field(default=None, repr=False)

    def run(self) -> None:
        from kombu import Connection

        url = self.url or settings.CELERY_BROKER_URL
        transport_options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        try:
            with Connection(url, connect_timeout=3, transport_options=transport_options) as conn:
                conn.ensure_connection(max_retries=1, timeout=3)
        except Exception as error:  # kombu raises per transport; the kind is enough
            raise ServiceUnavailable(f"broker unreachable: {type(error).__name__}") from error


WEB_CHECKS = (
    "health_check.checks.Database",
    "health_check.checks.Cache",
    "clienteling.ops.health.Broker",
)


def worker_key(host: str | None = None) -> str:
    return WORKER_KEY.format(host=host or socket.gethostname())


def record_worker_heartbeat(host: str | None = None) -> None:
    cache.set(worker_key(host), time.time(), KEY_SECONDS)


def heartbeat_age(key: str) -> float | None:
    """Seconds since the heartbeat under `key`, or None when there has never been one."""
    value = cache.get(key)
    return None if value is None else max(0.0, time.time() - float(value))


def _heartbeat_loop(stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            record_worker_heartbeat()
        except Exception:  # the cache is down: the heartbeat goes stale, as it should
            logger.warning("worker heartbeat: the cache is unreachable", exc_info=True)
        stop.wait(HEARTBEAT_SECONDS)


_stop = threading.Event()


@signals.worker_ready.connect
def _start_heartbeat(**kwargs) -> None:
    if getattr(settings, "WORKER_HEARTBEAT_ENABLED", True):
        _stop.clear()
        threading.Thread(target=_heartbeat_loop, args=(_stop,), daemon=True).start()


@signals.worker_shutdown.connect
def _stop_heartbeat(**kwargs) -> None:
    _stop.set()


@shared_task(name="ops.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    """Every minute from beat: when it last ran. At-most-once is enough (the next one
    comes a minute later)."""
    cache.set(BEAT_KEY, time.time(), KEY_SECONDS)
