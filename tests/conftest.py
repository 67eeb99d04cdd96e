"""Personas and shared fixtures.

Personas: `store` and `other_store`; `associate`, `stylist` and `manager` work in `store`;
`other_store_associate` works in `other_store`; `integration` is the POS/e-commerce
account that pushes data through the API with a token.
"""

from __future__ import annotations

import contextlib

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from clienteling.integrations.models import ALL_SCOPES, IntegrationToken
from clienteling.stores.models import StaffMember
from tests import factories


@pytest.fixture
def store(db):
    return factories.StoreFactory(name="SoHo", code="nyc-soho", time_zone="America/New_York")


@pytest.fixture
def other_store(db):
    return factories.StoreFactory(
        name="Marais", code="paris-marais", time_zone="Europe/Paris", country="FR"
    )


@pytest.fixture
def associate(store):
    return factories.StaffMemberFactory(
        user__username="alice",
        user__first_name="Alice",
        store=store,
        role=StaffMember.Role.ASSOCIATE,
    )


@pytest.fixture
def stylist(store):
    return factories.StaffMemberFactory(
        user__username="sofia", user__first_name="Sofia", store=store, role=StaffMember.Role.STYLIST
    )


@pytest.fixture
def manager(store):
    return factories.StaffMemberFactory(
        user__username="charlie",
        user__first_name="Charlie",
        user__is_staff=True,
        store=store,
        role=StaffMember.Role.MANAGER,
    )


@pytest.fixture
def other_store_associate(other_store):
    return factories.StaffMemberFactory(
        user__username="bob",
        user__first_name="Bob",
        store=other_store,
        role=StaffMember.Role.ASSOCIATE,
    )


@pytest.fixture
def integration(db):
    user = factories.UserFactory(username="pos-integration", first_name="POS")
    user.user_permissions.add(Permission.objects.get(codename="ingest_data"))
    return user


@pytest.fixture
def api_client(integration):
    _, key = IntegrationToken.issue(user=integration, name="pos", scopes=ALL_SCOPES)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@contextlib.contextmanager
def running_worker():
    """A real Celery worker on the app's broker, in a thread of the test process."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connections

    from clienteling.celery import app

    def close_worker_connections(**kwargs):
        # Runs in the worker's thread: its connections would otherwise outlive the test
        # and keep the test database from being dropped.
        connections.close_all()

    task_postrun.connect(close_worker_connections, weak=False)
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=10
        ) as worker:
            yield worker
    finally:
        task_postrun.disconnect(close_worker_connections)


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker on Redis, in a thread of the test process.

    Tasks touch the database through their own connection, so tests that use it need
    committed data: this fixture pulls in `transactional_db`.
    """
    from clienteling.celery import app

    app.control.purge()  # nothing left over from an earlier run
    with running_worker() as worker:
        yield worker


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.1):
    """Poll until predicate() is truthy (a task on the real worker finished) or fail."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Rate-limit counters and cached values never leak from one test into the next.

    A key prefix of its own per test rather than a flush: test runs of other worktrees
    share the Redis database, and a flush from one would wipe another's counters.
    """
    import uuid

    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"t-{uuid.uuid4().hex[:12]}"}
        for name, config in settings.CACHES.items()
    }
    yield
