"""Two associates tap "I'm on it" at the same moment: exactly one wins, the other is told who."""

from __future__ import annotations

import html
import threading

import pytest
from django.db import connections
from django.test import Client

from appointments import services
from appointments.models import Page
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 5


def _tap_together(url: str, users) -> list:
    """POST `url` from one thread per user, released at the same instant."""
    barrier = threading.Barrier(len(users))
    responses: list = [None] * len(users)

    def tap(index: int, user) -> None:
        client = Client()
        client.force_login(user)
        try:
            barrier.wait(timeout=10)
            responses[index] = client.post(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="pager")
        finally:
            connections.close_all()  # this thread's connection, before the database is dropped

    threads = [threading.Thread(target=tap, args=(i, user)) for i, user in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return responses


def test_concurrent_acknowledgements_have_exactly_one_winner(store, monkeypatch):
    # Both requests load the page (still free) and then meet here, right before the claim:
    # a check-then-act would let both win; the conditional UPDATE lets exactly one.
    claim = services.page_acknowledge
    both_loaded = threading.Barrier(2)

    def claim_together(**kwargs):
        both_loaded.wait(timeout=10)
        return claim(**kwargs)

    monkeypatch.setattr(services, "page_acknowledge", claim_together)
    room = factories.RoomFactory(store=store, name="Room 3")
    marcus = factories.StaffMemberFactory(store=store, user__first_name="Marcus")
    ava = factories.StaffMemberFactory(store=store, user__first_name="Ava")
    for _ in range(ROUNDS):
        page = services.page_send(room=room, kind=Page.Kind.HELP).page

        responses = _tap_together(f"/rooms/pages/{page.pk}/acknowledge/", [marcus.user, ava.user])

        page.refresh_from_db()
        assert page.acknowledged_by in (marcus, ava)
        bodies = {
            staff.pk: html.unescape(response.content.decode())
            for staff, response in zip([marcus, ava], responses, strict=True)
        }
        winner, loser = (marcus, ava) if page.acknowledged_by == marcus else (ava, marcus)
        assert all(response.status_code == 200 for response in responses)
        assert "You're on it: Room 3" in bodies[winner.pk]
        assert f"{winner.display_name} is on it." in bodies[loser.pk]
        services.page_resolve(page=page, staff=winner)
