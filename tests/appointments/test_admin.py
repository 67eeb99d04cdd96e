"""The managers' admin for fitting rooms: QR codes, rotating links, reservations, pages."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Reservation, Room
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_the_room_page_shows_the_tablet_qr_code_and_link(admin_client, room, settings):
    settings.SITE_URL = "https://clienteling.example.com"
    body = admin_client.get(reverse("admin:appointments_room_change", args=[room.pk])).content
    body = body.decode()
    link = f"https://clienteling.example.com/fitting-room/{room.tablet_token}/"
    assert link in body and "<svg" in body and 'aria-label="QR code of Room 3"' in body


def test_rotating_the_tablet_link_retires_the_old_one(admin_client, client, room):
    old_token = room.tablet_token
    response = admin_client.post(
        reverse("admin:appointments_room_changelist"),
        {"action": "rotate_tablet_links", "_selected_action": [room.pk]},
        follow=True,
    )
    assert "New tablet links for 1 room(s)" in response.content.decode()
    room.refresh_from_db()
    assert room.tablet_token != old_token
    assert admin_client.get(f"/fitting-room/{old_token}/").status_code == 404
    assert admin_client.get(f"/fitting-room/{room.tablet_token}/").status_code == 200


def test_print_the_tablet_codes(admin_client, room, store):
    other = factories.RoomFactory(store=store, name="Room 4")
    response = admin_client.post(
        reverse("admin:appointments_room_changelist"),
        {"action": "print_tablet_codes", "_selected_action": [room.pk, other.pk]},
    )
    body = response.content.decode()
    assert body.count("<svg") == 2
    assert room.tablet_token in body and other.tablet_token in body


def test_an_overlapping_reservation_is_refused_in_the_admin_too(admin_client, room):
    existing = factories.ReservationFactory(room=room)
    starts = timezone.localtime(existing.starts_at + datetime.timedelta(minutes=30))
    ends = starts + datetime.timedelta(hours=1)
    response = admin_client.post(
        reverse("admin:appointments_reservation_add"),
        {
            "room": room.pk,
            "starts_at_0": starts.date().isoformat(),
            "starts_at_1": starts.time().isoformat("seconds"),
            "ends_at_0": ends.date().isoformat(),
            "ends_at_1": ends.time().isoformat("seconds"),
            "note": "",
            "staged_items-TOTAL_FORMS": "0",
            "staged_items-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "This room is already reserved at that time." in response.content.decode()
    assert Reservation.objects.count() == 1


def test_pages_are_read_only_with_their_response_times(admin_client, room, associate):
    sent = timezone.now() - datetime.timedelta(minutes=5)
    page = factories.PageFactory(
        visit=factories.VisitFactory(room=room),
        created_at=sent,
        acknowledged_by=associate,
        acknowledged_at=sent + datetime.timedelta(seconds=42),
    )
    changelist = admin_client.get(reverse("admin:appointments_page_changelist")).content.decode()
    assert "42 s" in changelist
    change = admin_client.get(reverse("admin:appointments_page_change", args=[page.pk]))
    assert "Save" not in change.content.decode()
    assert admin_client.get(reverse("admin:appointments_page_add")).status_code == 403
    assert (
        admin_client.get(reverse("admin:appointments_page_changelist") + "?o=6").status_code == 200
    )  # sortable by time to acknowledge


def test_managers_set_room_status_in_the_admin(admin_client, room):
    admin_client.post(
        reverse("admin:appointments_room_change", args=[room.pk]),
        {
            "store": room.store_id,
            "name": "Room 3",
            "position": 1,
            "status": "needs_attention",
            "is_active": "on",
        },
    )
    room.refresh_from_db()
    assert room.status == Room.Status.NEEDS_ATTENTION
