"""Who a notification rings and what it says: fitting-room pages and their escalation, a
client writing back, an online booking; quiet once taken; nothing when push is off."""

from __future__ import annotations

import pytest

from appointments import services as appointment_services
from appointments.models import Page
from clienteling.push.models import Notice
from clienteling.push.tasks import notices_deliver
from customers.services.outreach import client_replied
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    RoomFactory,
    StaffMemberFactory,
    VisitFactory,
)
from tests.push.conftest import subscribe

pytestmark = pytest.mark.django_db


def _notices(**filters) -> list[tuple[str, str, str, str]]:
    return sorted(
        Notice.objects.filter(**filters).values_list("user__username", "kind", "title", "url")
    )


@pytest.fixture
def floor(store, associate, stylist, other_store_associate):
    """Everyone with a phone subscribed: alice and sofia (this store), bob (the other)."""
    for staff in (associate, stylist, other_store_associate):
        subscribe(staff.user, f"https://push.example.com/{staff.user.username}")
    return store


def test_push_off_queues_nothing_and_sends_nothing(
    floor, associate, django_capture_on_commit_callbacks
):
    room = RoomFactory(store=floor, name="Room 3")
    VisitFactory(room=room, associate=associate)
    with django_capture_on_commit_callbacks() as callbacks:
        appointment_services.page_send(room=room, kind=Page.Kind.SIZE)
    assert Notice.objects.count() == 0
    assert not any("notices_deliver" in repr(callback) for callback in callbacks)


def test_a_page_rings_its_associate_with_the_client_s_first_name_only(
    push_on, floor, associate, django_capture_on_commit_callbacks
):
    room = RoomFactory(store=floor, name="Room 3")
    claire = CustomerFactory(first_name="Claire", last_name="Dubois", home_store=floor)
    VisitFactory(room=room, associate=associate, customer=claire)
    with django_capture_on_commit_callbacks() as callbacks:
        page = appointment_services.page_send(
            room=room, kind=Page.Kind.SIZE, sku="", size="38"
        ).page
    assert _notices() == [("alice", "page", "Claire in Room 3: another size", "/rooms/pages/")]
    notice = Notice.objects.get()
    assert notice.tag == f"page-{page.pk}"
    assert "Dubois" not in f"{notice.title} {notice.body}"
    assert notice.body == "Asks for another size (38)."
    # One task after commit, carrying ids only.
    assert len(callbacks) >= 1


def test_an_escalated_page_rings_the_floor_and_names_the_client_only_to_who_may_see_them(
    push_on, floor, associate, stylist, other_store, django_capture_on_commit_callbacks
):
    room = RoomFactory(store=floor, name="Room 3")
    # A client of the other store, looked after by alice wherever she shops.
    visitor = CustomerFactory(
        first_name="Ines", home_store=other_store, assigned_associate=associate
    )
    VisitFactory(room=room, associate=associate, customer=visitor)
    page = appointment_services.page_send(room=room, kind=Page.Kind.HELP).page
    Notice.objects.all().delete()
    Page.objects.filter(pk=page.pk).update(created_at=page.created_at.replace(year=2020))
    assert appointment_services.page_escalate(page_id=page.pk)
    assert _notices() == [
        ("alice", "page_escalated", "Ines in Room 3: help", "/rooms/pages/"),
        ("sofia", "page_escalated", "A client in Room 3: help", "/rooms/pages/"),
    ]


def test_taking_a_page_quiets_it_on_every_phone_it_rang(push_on, floor, associate, stylist):
    room = RoomFactory(store=floor, name="Room 3")
    VisitFactory(room=room, associate=associate)
    page = appointment_services.page_send(room=room, kind=Page.Kind.SIZE).page
    Page.objects.filter(pk=page.pk).update(created_at=page.created_at.replace(year=2020))
    appointment_services.page_escalate(page_id=page.pk)
    Notice.objects.all().delete()

    appointment_services.page_acknowledge(page=page, staff=stylist)
    closes = Notice.objects.filter(kind=Notice.Kind.CLOSE)
    assert sorted(closes.values_list("user__username", flat=True)) == ["alice", "sofia"]
    assert {(n.tag, n.title) for n in closes} == {
        (f"page-{page.pk}", f"{stylist.display_name} is on it: Room 3")
    }
    assert {n.payload()["type"] for n in closes} == {"close"}


def test_the_client_leaving_quiets_their_pages(push_on, floor, associate):
    room = RoomFactory(store=floor, name="Room 3")
    visit = VisitFactory(room=room, associate=associate)
    page = appointment_services.page_send(room=room, kind=Page.Kind.SIZE).page
    Notice.objects.all().delete()
    appointment_services.visit_end(visit=visit)
    assert _notices() == [("alice", "close", "The client has left Room 3", "")]
    assert Notice.objects.get().tag == f"page-{page.pk}"


def test_a_client_writing_back_rings_their_associate_without_the_message(push_on, floor, associate):
    claire = CustomerFactory(first_name="Claire", home_store=floor, assigned_associate=associate)
    client_replied(customer=claire, channel="sms", body="Is the blue dress in a 38?")
    assert _notices() == [
        ("alice", "client_replied", "Claire wrote back", f"/clients/{claire.pk}/conversation/")
    ]
    notice = Notice.objects.get()
    assert "blue dress" not in notice.body
    assert notice.tag == f"client-{claire.pk}"


def test_a_client_without_an_associate_rings_their_store_s_floor_only(
    push_on, floor, associate, stylist
):
    walk_in = CustomerFactory(first_name="Hugo", home_store=floor, assigned_associate=None)
    client_replied(customer=walk_in, channel="email", body="Thanks!")
    assert [n[0] for n in _notices()] == ["alice", "sofia"]


def test_an_online_booking_waiting_rings_the_stylist_and_accepting_quiets_it(
    push_on, floor, stylist
):
    appointment = AppointmentFactory(
        stylist=stylist, status="requested", customer__first_name="Claire"
    )
    from appointments.services.notices import booking_request_notify

    booking_request_notify(appointment=appointment)
    assert _notices() == [
        (
            "sofia",
            "booking_request",
            "Claire booked online: In-store try-on",
            f"/appointments/{appointment.pk}/",
        )
    ]
    Notice.objects.all().delete()
    appointment_services.appointment_advance(appointment=appointment, action="approve", by=stylist)
    assert _notices() == [("sofia", "close", "Accepted: In-store try-on", "")]


def test_people_without_a_device_or_no_longer_active_get_nothing(push_on, store):
    quiet = StaffMemberFactory(store=store, user__username="nodevice")
    gone = StaffMemberFactory(store=store, user__username="gone", user__is_active=False)
    subscribe(gone.user, "https://push.example.com/gone")
    room = RoomFactory(store=store)
    VisitFactory(room=room, associate=None)
    appointment_services.page_send(room=room, kind=Page.Kind.HELP)  # everyone at once
    assert Notice.objects.filter(user__in=[quiet.user, gone.user]).count() == 0


def test_a_notice_already_sent_is_not_sent_again(push_on, floor, associate, monkeypatch):
    sent = []
    monkeypatch.setattr("pywebpush.webpush", lambda **kwargs: sent.append(kwargs))
    notice = Notice.objects.create(user=associate.user, kind="page", tag="page-1", title="Room 1")
    assert notices_deliver([notice.pk]) == 1
    assert notices_deliver([notice.pk]) == 0
    assert len(sent) == 1


def test_the_escalation_sweep_rings_the_floor(push_on, floor, associate, stylist):
    room = RoomFactory(store=floor, name="Room 3")
    VisitFactory(room=room, associate=associate)
    page = appointment_services.page_send(room=room, kind=Page.Kind.HELP).page
    Page.objects.filter(pk=page.pk).update(created_at=page.created_at.replace(year=2020))
    Notice.objects.all().delete()
    assert appointment_services.pages_escalate_due() == 1
    assert [(n[0], n[1]) for n in _notices()] == [
        ("alice", "page_escalated"),
        ("sofia", "page_escalated"),
    ]


def test_the_sweep_sends_what_its_task_missed_and_drops_stale_news(push_on, associate, monkeypatch):
    import datetime

    from django.utils import timezone

    from clienteling.push.services import notices_sweep

    sent = []
    monkeypatch.setattr("pywebpush.webpush", lambda **kwargs: sent.append(kwargs))
    subscribe(associate.user, "https://push.example.com/alice")
    now = timezone.now()
    for age, tag in ((5, "fresh"), (120, "missed"), (3600, "stale")):
        Notice.objects.create(
            user=associate.user,
            kind="page",
            tag=tag,
            title=tag,
            created_at=now - datetime.timedelta(seconds=age),
        )
    assert notices_sweep(now=now) == 1
    assert len(sent) == 1 and '"tag": "missed"' in sent[0]["data"]
    assert list(Notice.objects.values_list("tag", flat=True)) == ["fresh"]
