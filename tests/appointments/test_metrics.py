"""Managers' metrics: median time to acknowledge and to resolve, per store and associate."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from appointments import selectors
from appointments.models import Page
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/rooms/metrics/"


def _answered(room, staff, *, acknowledged_after, resolved_after=None, days_ago=1):
    sent = timezone.now() - datetime.timedelta(days=days_ago)
    return factories.PageFactory(
        visit=factories.VisitFactory(room=room, started_at=sent, ended_at=timezone.now()),
        created_at=sent,
        acknowledged_by=staff,
        acknowledged_at=sent + datetime.timedelta(seconds=acknowledged_after),
        resolved_by=staff if resolved_after else None,
        resolved_at=sent + datetime.timedelta(seconds=resolved_after) if resolved_after else None,
    )


@pytest.fixture
def history(room, associate, stylist, other_room, other_store_associate):
    _answered(room, associate, acknowledged_after=20, resolved_after=60)
    _answered(room, associate, acknowledged_after=40, resolved_after=120)
    _answered(room, associate, acknowledged_after=90, resolved_after=300)
    _answered(room, stylist, acknowledged_after=10)
    _answered(room, stylist, acknowledged_after=500, days_ago=60)  # outside the period
    factories.PageFactory(
        visit=factories.VisitFactory(room=room, started_at=timezone.now(), ended_at=timezone.now()),
        cancelled_at=timezone.now(),
    )
    _answered(other_room, other_store_associate, acknowledged_after=5, resolved_after=7)


def test_a_manager_sees_the_medians_of_their_store_and_associates(
    client, manager, associate, stylist, history
):
    client.force_login(manager.user)
    response = client.get(URL)
    assert response.status_code == 200
    by_store = response.context["by_store"]
    assert [(row.label, row.pages, row.acknowledged) for row in by_store] == [("SoHo", 5, 4)]
    assert by_store[0].median_acknowledge == datetime.timedelta(seconds=30)
    assert by_store[0].median_resolve == datetime.timedelta(seconds=120)
    by_associate = {row.label: row for row in response.context["by_associate"]}
    mine = by_associate[associate.display_name]
    assert (mine.pages, mine.median_acknowledge, mine.median_resolve) == (
        3,
        datetime.timedelta(seconds=40),
        datetime.timedelta(seconds=120),
    )
    assert by_associate[stylist.display_name].median_resolve is None
    assert by_associate["Nobody (the client left first)"].pages == 1
    body = response.content.decode()
    assert "30 s" in body and "2 min 00 s" in body and "Marais" not in body


def test_a_longer_period_takes_older_pages(client, manager, stylist, history):
    client.force_login(manager.user)
    today = timezone.localdate()
    start = (today - datetime.timedelta(days=90)).isoformat()
    response = client.get(URL, {"start": start, "end": today.isoformat()})
    assert response.context["by_store"][0].pages == 6


def test_the_database_and_python_medians_agree(history, store, monkeypatch):
    pages = Page.objects.filter(store=store)
    in_database = selectors.page_response_times(pages=pages, group_by="acknowledged_by")
    monkeypatch.setattr(selectors, "is_postgresql", lambda using: False)
    in_python = selectors.page_response_times(pages=pages, group_by="acknowledged_by")

    def key(row):
        return row["key"] or 0

    assert sorted(in_database, key=key) == sorted(in_python, key=key)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-02-01", "end": "2026-01-01"}, "The end must not come before the start."),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "at most a year"),
        ({"start": "soon", "end": "2026-01-01"}, "Enter a valid date."),
    ],
)
def test_a_bad_period_gets_a_field_message(client, manager, query, message):
    client.force_login(manager.user)
    response = client.get(URL, query)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_associates_are_refused_and_anonymous_users_sent_to_login(client, associate):
    assert client.get(URL)["Location"].startswith("/login/")
    client.force_login(associate.user)
    assert client.get(URL).status_code == 403
    assert client.post(URL).status_code == 405


def test_a_superuser_sees_every_store(client, history):
    client.force_login(factories.UserFactory(username="root", is_superuser=True, is_staff=True))
    response = client.get(URL)
    assert [row.label for row in response.context["by_store"]] == ["Marais", "SoHo"]
    assert response.context.get("by_associate") is None
