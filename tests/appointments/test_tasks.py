"""Escalation: a page nobody acknowledged in time goes to every associate, exactly once.

Time is travelled with time-machine; one test runs the countdown on a real worker.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from appointments import services
from appointments.models import Page
from appointments.tasks import page_escalate, pages_escalate_due
from tests import factories
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 14, 15, 0, tzinfo=datetime.UTC)


@pytest.fixture
def paged(room, associate, settings):
    """A page sent at T0 for the associate who brought the client."""
    settings.ROOMS_PAGE_ESCALATE_AFTER_SECONDS = 60
    with time_machine.travel(T0, tick=False):
        services.visit_start(room=room, associate=associate)
        return services.page_send(room=room, kind=Page.Kind.SIZE).page


def test_the_countdown_escalates_a_page_nobody_took_once(paged, stylist):
    with time_machine.travel(T0 + datetime.timedelta(seconds=60), tick=False):
        assert page_escalate(paged.pk) is True
        assert page_escalate(paged.pk) is False  # a repeat changes nothing
    paged.refresh_from_db()
    assert paged.escalated_at == T0 + datetime.timedelta(seconds=60)
    assert list(Page.objects.for_pager(stylist)) == [paged]


def test_before_its_time_the_task_waits_again_for_the_rest(paged, enqueued, stylist):
    enqueued.clear()
    with time_machine.travel(T0 + datetime.timedelta(seconds=42.5), tick=False):
        assert page_escalate(paged.pk) is False
    assert enqueued == [(paged.pk, 18)]  # re-enqueued for the remaining 17.5 s, rounded up
    paged.refresh_from_db()
    assert paged.escalated_at is None
    assert list(Page.objects.for_pager(stylist)) == []  # still only the associate's


def test_an_acknowledged_page_never_escalates(paged, associate):
    with time_machine.travel(T0 + datetime.timedelta(seconds=30), tick=False):
        services.page_acknowledge(page=paged, staff=associate)
    with time_machine.travel(T0 + datetime.timedelta(seconds=90), tick=False):
        assert page_escalate(paged.pk) is False
        assert pages_escalate_due() == 0
    paged.refresh_from_db()
    assert paged.escalated_at is None


def test_the_sweep_escalates_pages_whose_task_never_ran_once(paged, room, associate, settings):
    with time_machine.travel(T0 + datetime.timedelta(seconds=30), tick=False):
        young = services.page_send(room=room, kind=Page.Kind.HELP).page
    with time_machine.travel(T0 + datetime.timedelta(seconds=75), tick=False):
        assert pages_escalate_due() == 1
        assert pages_escalate_due() == 0
        assert page_escalate(paged.pk) is False  # the countdown task arriving late
    paged.refresh_from_db()
    young.refresh_from_db()
    assert paged.escalated_at == T0 + datetime.timedelta(seconds=75)
    assert young.escalated_at is None


def test_the_sweep_works_in_batches(room, associate, settings, monkeypatch):
    monkeypatch.setattr(services, "ESCALATION_SWEEP_BATCH", 2)
    visit = factories.VisitFactory(room=room, associate=associate)
    for _ in range(5):
        factories.PageFactory(visit=visit, created_at=timezone.now() - datetime.timedelta(hours=1))
    assert pages_escalate_due() == 5
    assert not Page.objects.filter(escalated_at__isnull=True).exists()


def test_a_page_that_is_gone_is_ignored():
    assert page_escalate(123456) is False


def test_an_escalation_reaches_the_colleagues_phone(
    paged, client, stylist, django_capture_on_commit_callbacks
):
    client.force_login(stylist.user)
    first = client.get("/rooms/pages/", HTTP_HX_REQUEST="true")
    assert "Room 3" not in first.content.decode()
    poll = _poll_url(first)
    assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204

    with (
        time_machine.travel(T0 + datetime.timedelta(seconds=61), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        page_escalate(paged.pk)

    response = client.get(poll, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Room 3" in response.content.decode()
    assert "For everyone" in response.content.decode()


def _poll_url(response) -> str:
    body = response.content.decode()
    return body.split('hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")


@pytest.mark.worker
def test_the_countdown_runs_on_a_real_worker(celery_worker, store, settings):
    """Sent for real: committed, enqueued after commit with its countdown, run by the worker."""
    settings.ROOMS_PAGE_ESCALATE_AFTER_SECONDS = 1
    room = factories.RoomFactory(store=store)
    associate = factories.StaffMemberFactory(store=store)
    services.visit_start(room=room, associate=associate)

    page = services.page_send(room=room, kind=Page.Kind.HELP).page

    escalated = wait_for(
        lambda: Page.objects.filter(pk=page.pk, escalated_at__isnull=False).first(), timeout=15
    )
    assert escalated.escalated_at - escalated.created_at >= datetime.timedelta(seconds=1)
    assert escalated.acknowledged_at is None
