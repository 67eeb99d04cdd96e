"""Staff appointment pages: the agenda, booking from the client card, an appointment and its
steps, moving and cancelling, a client's appointments, personal styling, and Today."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from appointments.models import Appointment, StylingEnrollment
from customers.models import AuditEvent, Message
from tests.factories import (
    AppointmentFactory,
    AppointmentKindFactory,
    ConsentEventFactory,
    CustomerFactory,
    ProductFactory,
    RoomFactory,
    StaffMemberFactory,
    working_week,
)

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
NOW = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=NEW_YORK)  # Monday 09:00
TUESDAY = datetime.date(2026, 12, 8)


def ny(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=NEW_YORK)


@pytest.fixture(autouse=True)
def monday_morning():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def try_on(db):
    return AppointmentKindFactory(name="In-store try-on", default_minutes=60)


@pytest.fixture
def claire(store, associate):
    customer = CustomerFactory(
        first_name="Claire",
        last_name="Dubois",
        home_store=store,
        assigned_associate=associate,
        email="claire@example.com",
    )
    ConsentEventFactory(customer=customer, channel="email", granted=True)
    return customer


@pytest.fixture
def working(stylist):
    working_week(stylist)
    return stylist


def slot_key(stylist, when: datetime.datetime) -> str:
    return f"{stylist.pk}@{when.astimezone(datetime.UTC):%Y-%m-%dT%H:%M:%SZ}"


def login(client, staff):
    client.force_login(staff.user)
    return client


# --- The agenda ---------------------------------------------------------------------------------


def test_a_stylist_sees_their_day_in_store_time(client, store, stylist, claire, try_on):
    AppointmentFactory(
        stylist=stylist,
        customer=claire,
        kind=try_on,
        starts_at=ny(TUESDAY, 14),
        ends_at=ny(TUESDAY, 15),
    )

    response = login(client, stylist).get(
        reverse("appointments:agenda"), {"day": TUESDAY.isoformat()}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "Claire Dubois" in body and "14:00" in body and "In-store try-on" in body


def test_the_week_view_lists_seven_days_and_htmx_gets_only_the_agenda(client, stylist, try_on):
    AppointmentFactory(
        stylist=stylist, kind=try_on, starts_at=ny(TUESDAY, 11), ends_at=ny(TUESDAY, 12)
    )

    response = login(client, stylist).get(
        reverse("appointments:agenda"),
        {"day": TUESDAY.isoformat(), "view": "week"},
        HTTP_HX_REQUEST="true",
    )

    body = response.content.decode()
    assert "<html" not in body
    assert body.count('class="card agenda-day') == 7
    assert "Week of 7 Dec" in body


def test_online_requests_waiting_for_a_yes_head_the_agenda(client, stylist, try_on):
    AppointmentFactory(
        stylist=stylist,
        customer=CustomerFactory(home_store=stylist.store, first_name="Ines", last_name="Roy"),
        kind=try_on,
        status="requested",
        starts_at=ny(TUESDAY + datetime.timedelta(days=3), 11),
        ends_at=ny(TUESDAY + datetime.timedelta(days=3), 12),
    )

    body = login(client, stylist).get(reverse("appointments:agenda")).content.decode()

    assert "Waiting for a yes (1)" in body and "Ines Roy" in body


def test_the_agenda_shows_the_stores_booking_page_and_its_qr_code(client, stylist):
    body = login(client, stylist).get(reverse("appointments:agenda")).content.decode()
    assert 'href="/book/nyc-soho/"' in body
    assert 'aria-label="QR code of the booking page"' in body

    # Day/week changes swap only the agenda: no QR code drawn for them.
    partial = client.get(reverse("appointments:agenda"), HTTP_HX_REQUEST="true")
    assert "QR code" not in partial.content.decode()


def test_the_agenda_never_shows_another_stores_appointments(client, stylist, other_store, try_on):
    elsewhere = StaffMemberFactory(store=other_store, role="stylist")
    AppointmentFactory(
        stylist=elsewhere,
        customer=CustomerFactory(home_store=other_store, last_name="Faraway"),
        kind=try_on,
        starts_at=ny(TUESDAY, 11),
        ends_at=ny(TUESDAY, 12),
    )

    response = login(client, stylist).get(
        reverse("appointments:agenda"), {"day": TUESDAY.isoformat(), "stylist": "all"}
    )

    assert "Faraway" not in response.content.decode()


def test_the_agenda_queries_do_not_grow_with_appointments(
    client, stylist, try_on, django_assert_num_queries
):
    login(client, stylist)
    url = reverse("appointments:agenda")
    params = {"day": TUESDAY.isoformat(), "view": "week", "stylist": "all"}
    for hour in (10, 12):
        AppointmentFactory(
            stylist=stylist, kind=try_on, starts_at=ny(TUESDAY, hour), ends_at=ny(TUESDAY, hour + 1)
        )
    client.get(url, params)  # the calendar feed is made on the first visit
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        client.get(url, params)
    for hour in (14, 16, 18):
        AppointmentFactory(
            stylist=StaffMemberFactory(store=stylist.store, role="stylist"),
            kind=try_on,
            starts_at=ny(TUESDAY, hour),
            ends_at=ny(TUESDAY, hour + 1),
        )
    # session + user with staff, stylists, the feed, the appointments and the requests (with
    # their clients, kinds, rooms and stylists joined)
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(url, params)


def test_the_agenda_needs_a_signed_in_staff_member(client, store):
    response = client.get(reverse("appointments:agenda"))

    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.post(reverse("appointments:agenda")).status_code in (302, 405)


# --- Booking from the client card ----------------------------------------------------------------


def test_the_booking_page_lists_the_free_times_and_htmx_refreshes_only_them(
    client, associate, claire, working, try_on
):
    login(client, associate)
    url = reverse("appointments:appointment-new")
    query = {"customer": claire.pk, "kind": try_on.pk, "day": TUESDAY.isoformat()}

    page = client.get(url, query)
    partial = client.get(url, query, HTTP_HX_REQUEST="true")

    assert page.status_code == 200
    assert "Book Claire" in page.content.decode()
    assert slot_key(working, ny(TUESDAY, 10)) in page.content.decode()
    assert "<html" not in partial.content.decode()
    assert 'id="slots"' in partial.content.decode()
    assert slot_key(working, ny(TUESDAY, 17)) in partial.content.decode()


def test_booking_a_free_time_books_and_goes_to_the_appointment(
    client, associate, claire, working, try_on, store
):
    room = RoomFactory(store=store, name="Room 2")
    dress = ProductFactory(sku="DR-1042", name="Silk wrap dress")

    response = login(client, associate).post(
        reverse("appointments:appointment-new"),
        {
            "customer": claire.pk,
            "kind": try_on.pk,
            "day": TUESDAY.isoformat(),
            "slot": slot_key(working, ny(TUESDAY, 14)),
            "room": room.pk,
            "items": "DR-1042 M\nA black belt",
            "notes": "Wedding in June",
        },
    )

    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("appointments:appointment", args=[appointment.pk])
    assert (appointment.customer, appointment.stylist, appointment.booked_by) == (
        claire,
        working,
        associate,
    )
    assert appointment.starts_at == ny(TUESDAY, 14)
    assert appointment.notes == "Wedding in June"
    assert sorted(item.label for item in appointment.reservation.staged_items.all()) == [
        "A black belt",
        f"{dress.name} · M",
    ]


def test_a_time_taken_meanwhile_keeps_what_was_typed_and_says_so(
    client, associate, claire, working, try_on
):
    AppointmentFactory(
        stylist=working, kind=try_on, starts_at=ny(TUESDAY, 14), ends_at=ny(TUESDAY, 15)
    )

    response = login(client, associate).post(
        reverse("appointments:appointment-new"),
        {
            "customer": claire.pk,
            "kind": try_on.pk,
            "day": TUESDAY.isoformat(),
            "slot": slot_key(working, ny(TUESDAY, 14)),
            "notes": "Wedding in June",
        },
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "not free" in body
    assert "Wedding in June" in body
    assert Appointment.objects.count() == 1


def test_bad_booking_input_gets_field_messages_not_errors(
    client, associate, claire, working, try_on
):
    login(client, associate)
    url = reverse("appointments:appointment-new")

    garbage = client.post(
        url, {"customer": claire.pk, "kind": "nope", "day": "someday", "slot": "x@y"}
    )
    items_without_room = client.post(
        url,
        {
            "customer": claire.pk,
            "kind": try_on.pk,
            "day": TUESDAY.isoformat(),
            "slot": slot_key(working, ny(TUESDAY, 14)),
            "items": "DR-1 M",
        },
    )
    past_day = client.get(url, {"customer": claire.pk, "kind": try_on.pk, "day": "2020-01-01"})

    assert garbage.status_code == 200 and "Choose one of the free times" in garbage.content.decode()
    assert "Choose a fitting room to stage" in items_without_room.content.decode()
    assert (
        past_day.status_code == 200 and "Choose today or a day ahead" in past_day.content.decode()
    )
    assert not Appointment.objects.exists()


def test_another_stores_client_cannot_be_booked(client, associate, other_store, working, try_on):
    stranger = CustomerFactory(home_store=other_store)

    get = login(client, associate).get(
        reverse("appointments:appointment-new"), {"customer": stranger.pk}
    )
    post = client.post(
        reverse("appointments:appointment-new"),
        {
            "customer": stranger.pk,
            "kind": try_on.pk,
            "day": TUESDAY.isoformat(),
            "slot": slot_key(working, ny(TUESDAY, 14)),
        },
    )

    assert get.status_code == 404 and post.status_code == 404
    assert not Appointment.objects.exists()


def test_booking_needs_a_client(client, associate):
    assert login(client, associate).get(reverse("appointments:appointment-new")).status_code == 404


# --- An appointment --------------------------------------------------------------------------------


@pytest.fixture
def booked(claire, working, try_on):
    from appointments import services

    return services.appointment_book(
        customer=claire, kind=try_on, stylist=working, starts_at=ny(TUESDAY, 14)
    )


def test_the_appointment_page_shows_it_with_its_messages_and_is_audited(client, associate, booked):
    response = login(client, associate).get(reverse("appointments:appointment", args=[booked.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Tuesday 8 December, 14:00–15:00" in body
    assert "Confirmation · Email" in body and "Reminder · Email" in body
    assert AuditEvent.objects.filter(
        action="view",
        customer=booked.customer,
        actor=associate.user,
        detail={"page": "appointment", "appointment": booked.pk},
    ).exists()


def test_another_stores_staff_cannot_see_or_change_an_appointment(
    client, other_store_associate, booked
):
    login(client, other_store_associate)
    urls = [
        reverse("appointments:appointment", args=[booked.pk]),
        reverse("appointments:appointment-cancel", args=[booked.pk]),
        reverse("appointments:appointment-reschedule", args=[booked.pk]),
    ]

    assert [client.get(url).status_code for url in urls] == [404, 404, 404]
    step = client.post(
        reverse("appointments:appointment-step", args=[booked.pk]), {"action": "confirm"}
    )
    cancel = client.post(
        reverse("appointments:appointment-cancel", args=[booked.pk]), {"reason": "x"}
    )

    assert step.status_code == 404 and cancel.status_code == 404
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED


def test_steps_move_it_along_and_a_wrong_step_is_explained(client, stylist, booked):
    url = reverse("appointments:appointment-step", args=[booked.pk])
    login(client, stylist)

    confirmed = client.post(url, {"action": "confirm"}, follow=True)
    again = client.post(url, {"action": "confirm"}, follow=True)

    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CONFIRMED
    assert "Client confirmed." in confirmed.content.decode()
    assert "can&#x27;t be confirmed" in again.content.decode()
    assert client.get(url).status_code == 405


def test_cancelling_asks_why_then_frees_the_time(client, stylist, booked):
    url = reverse("appointments:appointment-cancel", args=[booked.pk])
    login(client, stylist)

    empty = client.post(url, {"reason": ""})
    done = client.post(url, {"reason": "Client travelling"})

    assert empty.status_code == 200 and "This field is required" in empty.content.decode()
    assert done.status_code == 302
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELLED
    assert booked.cancel_reason == "Client travelling"


def test_moving_offers_free_times_and_moves_it(client, stylist, booked):
    url = reverse("appointments:appointment-reschedule", args=[booked.pk])
    login(client, stylist)

    page = client.get(url, {"day": TUESDAY.isoformat()})
    moved = client.post(
        url, {"day": TUESDAY.isoformat(), "slot": slot_key(stylist, ny(TUESDAY, 16))}
    )

    # Its own time is offered again: moving by a quarter of an hour is fine.
    assert slot_key(stylist, ny(TUESDAY, 14, 15)) in page.content.decode()
    assert moved.status_code == 302
    booked.refresh_from_db()
    assert booked.starts_at == ny(TUESDAY, 16) and booked.revision == 2
    assert Message.objects.filter(purpose="appointment_moved").count() == 1


# --- A client's appointments, personal styling, Today ---------------------------------------------


def test_the_client_card_loads_the_appointments_section(client, associate, claire, booked):
    login(client, associate)

    card = client.get(reverse("customers:detail", args=[claire.pk]))
    section = client.get(
        reverse("appointments:client-appointments", args=[claire.pk]), HTTP_HX_REQUEST="true"
    )

    assert reverse("appointments:client-appointments", args=[claire.pk]) in card.content.decode()
    body = section.content.decode()
    assert "<html" not in body
    assert "Tue 8 Dec, 14:00" in body
    assert f"{reverse('appointments:appointment-new')}?customer={claire.pk}" in body


def test_another_stores_client_has_no_appointments_section(client, other_store_associate, claire):
    response = login(client, other_store_associate).get(
        reverse("appointments:client-appointments", args=[claire.pk])
    )

    assert response.status_code == 404


def test_enrolling_in_personal_styling_shows_on_the_stylists_page(client, stylist, claire, booked):
    login(client, stylist)

    client.post(
        reverse("appointments:styling-enroll", args=[claire.pk]),
        {"stylist": stylist.pk, "goals": "A capsule wardrobe"},
    )
    page = client.get(reverse("appointments:styling"))

    enrollment = StylingEnrollment.objects.get()
    assert (enrollment.customer, enrollment.stylist) == (claire, stylist)
    body = page.content.decode()
    assert "Claire Dubois" in body and "A capsule wardrobe" in body
    assert reverse("appointments:appointment", args=[booked.pk]) in body  # the next session


def test_today_lists_my_appointments_and_my_clients(client, associate, stylist, booked):
    with time_machine.travel(ny(TUESDAY, 8), tick=False):
        mine = login(client, stylist).get(reverse("home")).content.decode()
        my_clients = login(client, associate).get(reverse("home")).content.decode()

    assert "Your appointments" in mine and "Claire Dubois" in mine
    assert "In-store try-on with Sofia" in my_clients
