"""Health: /health/ for load balancers (database, cache, broker), heartbeats of workers
and beat for `manage.py health`, and `manage.py run_job` for every periodic job."""

from __future__ import annotations

import asyncio
import io
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import CommandError, call_command

from clienteling.ops import health

pytestmark = pytest.mark.django_db


def test_health_answers_ok_with_each_check_in_json(client):
    response = client.get("/health/?format=json")
    assert response.status_code == 200
    body = response.json()
    text = str(body)
    for check in ("Database", "Cache", "Broker"):
        assert check in text


def test_the_broker_check_fails_when_the_broker_is_unreachable():
    result = asyncio.run(health.Broker(url="redis://127.0.0.1:1/0").get_result())
    assert result.error is not None
    assert "127.0.0.1:1" not in str(result.error)  # no address in a public report
    assert asyncio.run(health.Broker().get_result()).error is None


def test_web_health_command_passes_here():
    out = io.StringIO()
    call_command("health", stdout=out)
    assert "Database: ok" in out.getvalue()
    assert "Broker: ok" in out.getvalue()


def test_worker_health_needs_a_recent_heartbeat():
    host = f"test-host-{time.monotonic_ns()}"
    with pytest.raises(CommandError):
        call_command("health", "--worker", "--host", host, stdout=io.StringIO())
    health.record_worker_heartbeat(host)
    out = io.StringIO()
    call_command("health", "--worker", "--host", host, stdout=out)
    assert "worker: ok" in out.getvalue()
    cache.set(health.worker_key(host), time.time() - 600, 3600)
    with pytest.raises(CommandError):
        call_command("health", "--worker", "--host", host, stdout=io.StringIO())


def test_beat_health_follows_the_heartbeat_task():
    cache.delete(health.BEAT_KEY)
    with pytest.raises(CommandError):
        call_command("health", "--beat", stdout=io.StringIO())
    health.beat_heartbeat()
    call_command("health", "--beat", stdout=io.StringIO())
    assert "ops-beat-heartbeat" in settings.CELERY_BEAT_SCHEDULE


def test_the_worker_heartbeat_thread_writes_the_key():
    cache.delete(health.worker_key())
    health._start_heartbeat()
    try:
        deadline = time.monotonic() + 5
        while health.heartbeat_age(health.worker_key()) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        health._stop_heartbeat()
    assert health.heartbeat_age(health.worker_key()) < 10


def test_run_job_lists_every_periodic_job():
    out = io.StringIO()
    call_command("run_job", stdout=out)
    for name in settings.CELERY_BEAT_SCHEDULE:
        assert name in out.getvalue()


def test_run_job_runs_a_job_by_hand_and_says_how_long_it_took():
    out = io.StringIO()
    call_command("run_job", "reasons-refresh-hourly", stdout=out)
    assert "reasons-refresh-hourly: started" in out.getvalue()
    assert "reasons-refresh-hourly: done in" in out.getvalue()


def test_run_job_refuses_an_unknown_job():
    with pytest.raises(CommandError, match="no job"):
        call_command("run_job", "no-such-job", stdout=io.StringIO())
