"""The benchmark's work that needs the benchmark's database, in child processes.

The runner itself never opens the benchmark database through Django: its own settings
are whatever `manage.py` was started with. Each step below runs as

    python -m clienteling.bench.child ACTION INPUT.json OUTPUT.json

with the environment from `server.bench_environment` (production settings, the bench
database), so it sees exactly what gunicorn sees. A batch job running in its own
process also gives an honest peak memory: the process's max RSS, as a worker's would be.
"""

from __future__ import annotations

import io
import json
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any

INTEGRATION_NAME = "bench"


def max_rss_mb() -> float:
    """This process's peak resident memory so far (Linux counts KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def cleanup() -> dict[str, int]:
    """Remove the orders earlier runs pushed, so a reused data set keeps its size."""
    from customers.models import Order
    from customers.services import customer_refresh_totals

    from .payloads import EXTERNAL_ID_PREFIX

    orders = Order.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX)
    customer_ids = set(orders.values_list("customer_id", flat=True))
    deleted = orders.count()
    if deleted:
        orders.delete()
        customer_refresh_totals(customer_ids=customer_ids)
    return {"orders_removed": deleted}


def flush_bench_redis() -> None:
    """Drop what earlier runs left in Redis: tasks that pages and the API enqueued (no
    worker runs here) and rate-limit counters. Only ever the benchmark's own databases,
    and only when this process uses them (server.BENCH_BROKER_URL, BENCH_CACHE_URL).
    """
    import redis
    from django.conf import settings

    from .server import BENCH_BROKER_URL, BENCH_CACHE_URL

    in_use = {settings.CELERY_BROKER_URL, settings.CACHES["default"].get("LOCATION")}
    for url in (BENCH_BROKER_URL, BENCH_CACHE_URL):
        if url not in in_use:
            continue
        try:
            redis.Redis.from_url(url, socket_timeout=5).flushdb()
        except redis.RedisError as error:
            print(f"bench: could not empty {url}: {error}", file=sys.stderr)


def actors():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db.models import Count

    from clienteling.demo import data as demo
    from clienteling.stores.models import StaffMember

    from .scenarios import Actors

    # The demo's story associate (`ava`) and its superuser (`admin`), as the README tells
    # people to sign in. A data set without them: the associate with the largest book
    # and the first superuser (or one made for the benchmark) stand in.
    user_model = get_user_model()
    associate = (
        StaffMember.objects.select_related("user", "store")
        .filter(user__username=demo.STORY_ASSOCIATE)
        .first()
    )
    if associate is None:
        associate = (
            StaffMember.objects.associates()
            .select_related("user", "store")
            .annotate(book_size=Count("book"))
            .order_by("-book_size", "pk")
            .first()
        )
    if associate is None:
        raise RuntimeError("the data set has no associate to sign in as")
    admin = (
        user_model.objects.filter(
            username=demo.ADMIN_USERNAME, is_superuser=True, is_active=True
        ).first()
        or user_model.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    )
    if admin is None:
        admin = user_model.objects.create_superuser("bench-admin", "bench-admin@example.com", None)
    # The same account an operator would make for a POS (it holds customers.ingest_data).
    # Keys are shown once: each run rotates to a new one and reads it from the output.
    out = io.StringIO()
    call_command("create_integration", INTEGRATION_NAME, "--rotate", stdout=out)
    key = out.getvalue().strip().splitlines()[-1].removeprefix("Authorization: Token ")
    integration = user_model.objects.get(username=f"integration-{INTEGRATION_NAME}")
    return Actors(associate=associate, admin=admin, integration=integration), key


def session_key_for(user) -> str:
    """A signed-in session stored in the database, as a login would leave it."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    if settings.TWO_FACTOR_REQUIRED and (user.is_superuser or user.is_staff):
        # As after typing the authenticator's code: the session holds a verified device.
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="bench", defaults={"confirmed": True}
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def data_counts() -> dict[str, int]:
    """Rows per model of the project's apps (the data set's size, as it is right now)."""
    from django.apps import apps

    counts: dict[str, int] = {}
    for label in ("stores", "catalog", "customers", "appointments"):
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        for model in config.get_models():
            counts[model._meta.label_lower] = model._base_manager.count()
    return counts


def versions() -> dict[str, str]:
    import platform
    from importlib.metadata import version

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    return {
        "python": platform.python_version(),
        "postgresql": postgres,
        **{
            name: version(name)
            for name in ("django", "djangorestframework", "gunicorn", "psycopg", "celery")
        },
    }


def prepare(payload: dict[str, Any]) -> dict[str, Any]:
    """Clean up, sign in, let each scenario pick its data, and measure the data set."""
    from django.conf import settings

    from .scenarios import http_scenario

    removed = cleanup()
    flush_bench_redis()
    cast, api_token = actors()
    data: dict[str, Any] = {}
    failures: dict[str, str] = {}
    for name in payload["scenarios"]:
        scenario = http_scenario(name)
        if scenario.prepare is None:
            data[name] = {}
            continue
        try:
            data[name] = scenario.prepare(cast)
        except Exception as error:  # one broken scenario must not stop the others
            failures[name] = f"prepare failed: {error!r}"
            traceback.print_exc()
    return {
        "shared": {
            "session_cookie": settings.SESSION_COOKIE_NAME,
            "sessions": {
                "associate": session_key_for(cast.associate.user),
                "admin": session_key_for(cast.admin),
            },
            "associate": cast.associate.user.get_username(),
            "admin": cast.admin.get_username(),
            "api_token": api_token,
        },
        "data": data,
        "failures": failures,
        "counts": data_counts(),
        "versions": versions(),
        "cleanup": removed,
    }


def count_queries(payload: dict[str, Any]) -> dict[str, Any]:
    """SQL queries of one request per scenario, in-process through Django's test client.

    Each request is made twice and the second one counted: the first pays for what a
    fresh process does once (content types, permissions), which gunicorn's warm workers
    do not pay per request either.
    """
    from http.cookies import SimpleCookie

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from .scenarios import RequestSpec

    results: dict[str, Any] = {}
    for name, raw in payload["requests"].items():
        spec = RequestSpec.from_dict(raw)
        headers = dict(spec.headers)
        content_type = headers.pop("Content-Type", "application/octet-stream")
        client = Client(HTTP_HOST="127.0.0.1")
        cookie = headers.pop("Cookie", None)
        if cookie:
            client.cookies = SimpleCookie(cookie)
        try:
            for number in range(2):
                with CaptureQueriesContext(connection) as captured:
                    response = client.generic(
                        spec.method,
                        spec.path,
                        data=spec.body_for(number, "q") or "",
                        content_type=content_type,
                        headers=headers,
                    )
            results[name] = {"queries": len(captured), "status": response.status_code}
        except Exception as error:
            traceback.print_exc()
            results[name] = {"queries": None, "status": None, "error": repr(error)}
    return results


def run_batch(payload: dict[str, Any]) -> dict[str, Any]:
    """Time one batch job and report this process's peak memory before and after it."""
    from .scenarios import batch_scenario

    scenario = batch_scenario(payload["name"])
    baseline = max_rss_mb()
    started = time.perf_counter()
    outcome = scenario.run(payload)
    seconds = time.perf_counter() - started
    # A job that runs its own workers (the fan-out) reports their time and peak itself.
    return {
        **outcome,
        "seconds": outcome.get("seconds", seconds),
        "peak_rss_mb": outcome.get("peak_rss_mb", max_rss_mb()),
        "baseline_rss_mb": baseline,
    }


ACTIONS = {"prepare": prepare, "queries": count_queries, "batch": run_batch}


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[1] not in ACTIONS:
        print(f"usage: python -m clienteling.bench.child {{{','.join(ACTIONS)}}} IN OUT")
        return 2
    import django

    django.setup()
    payload = json.loads(Path(argv[2]).read_text())
    result = ACTIONS[argv[1]](payload)
    Path(argv[3]).write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
