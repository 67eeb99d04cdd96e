"""The managers' admin for fitting rooms: QR codes, rotating links, reservations, pages."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Reservation, Room
from customers.models import Message
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


def _datetime_fields(prefix: str, moment: datetime.datetime) -> dict[str, str]:
    local = timezone.localtime(moment)
    return {
        f"{prefix}_0": local.date().isoformat(),
        f"{prefix}_1": local.time().isoformat("seconds"),
    }


def test_reservations_are_made_in_the_app_not_the_admin(admin_client, room):
    existing = factories.ReservationFactory(room=room)
    later = existing.starts_at + datetime.timedelta(days=1)
    fields = {
        "room": room.pk,
        **_datetime_fields("starts_at", later),
        **_datetime_fields("ends_at", later + datetime.timedelta(hours=1)),
        "staged_items-TOTAL_FORMS": "0",
        "staged_items-INITIAL_FORMS": "0",
    }

    add = admin_client.post(reverse("admin:appointments_reservation_add"), fields)
    change = admin_client.post(
        reverse("admin:appointments_reservation_change", args=[existing.pk]), fields
    )

    assert add.status_code == 403 and change.status_code == 403
    existing.refresh_from_db()
    assert Reservation.objects.count() == 1 and existing.starts_at < later


def test_a_reservation_is_cancelled_through_the_service(admin_client, room):
    reservation = factories.ReservationFactory(room=room)

    response = admin_client.post(
        reverse("admin:appointments_reservation_changelist"),
        {"action": "cancel_reservations", "_selected_action": [reservation.pk]},
        follow=True,
    )

    assert "1 reservation(s) cancelled." in response.content.decode()
    reservation.refresh_from_db()
    assert reservation.cancelled_at is not None


def test_an_appointment_changes_only_its_notes_in_the_admin(admin_client, store):
    appointment = factories.AppointmentFactory(stylist__store=store, notes="Wants flats")
    other_stylist = factories.StaffMemberFactory(store=store, role="stylist")
    starts, status = appointment.starts_at, appointment.status

    page = admin_client.get(reverse("admin:appointments_appointment_change", args=[appointment.pk]))
    response = admin_client.post(
        reverse("admin:appointments_appointment_change", args=[appointment.pk]),
        {
            "notes": "Wants flats, size 38",
            "status": "cancelled",
            "stylist": other_stylist.pk,
            **_datetime_fields("starts_at", starts + datetime.timedelta(hours=3)),
        },
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.notes == "Wants flats, size 38"
    assert (appointment.starts_at, appointment.status) == (starts, status)
    assert appointment.stylist_id != other_stylist.pk
    body = page.content.decode()
    assert reverse("appointments:appointment", args=[appointment.pk]) in body
    assert 'name="starts_at_0"' not in body and 'name="status"' not in body
    assert admin_client.get(reverse("admin:appointments_appointment_add")).status_code == 403


def test_cancelling_an_appointment_in_the_admin_tells_the_client(admin_client, store):
    appointment = factories.AppointmentFactory(stylist__store=store)

    admin_client.post(
        reverse("admin:appointments_appointment_changelist"),
        {"action": "cancel_appointments", "_selected_action": [appointment.pk]},
    )

    appointment.refresh_from_db()
    assert appointment.status == "cancelled" and appointment.cancel_reason
    assert Message.objects.filter(
        customer=appointment.customer, purpose="appointment_cancelled"
    ).exists()


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
