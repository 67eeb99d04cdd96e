"""Fixtures for fitting rooms: rooms in the personas' stores, and escalation tasks kept
out of the broker unless a real worker runs."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def room(store):
    return factories.RoomFactory(store=store, name="Room 3")


@pytest.fixture
def other_room(other_store):
    return factories.RoomFactory(store=other_store, name="Salon 1")


@pytest.fixture(autouse=True)
def enqueued(request, monkeypatch):
    """Escalation countdowns enqueued by the code under test: (page id, countdown) pairs.

    Tests marked `worker` publish for real, to the worker on Redis.
    """
    calls: list[tuple[int, int]] = []
    if request.node.get_closest_marker("worker"):
        yield calls
        return
    from appointments.tasks import page_escalate

    monkeypatch.setattr(
        page_escalate,
        "apply_async",
        lambda args, countdown=None, **kwargs: calls.append((args[0], countdown)),
    )
    yield calls
