"""One client, two stylists, the same time: refused with a sentence naming the other
appointment (unless it is meant), on the card, on the public page and when moving."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from appointments import services
from appointments.models import Appointment
from clienteling.core.errors import ApplicationError
from customers.models import Customer
from tests.factories import (
    AppointmentFactory,
    AppointmentKindFactory,
    CustomerFactory,
    StaffMemberFactory,
    working_week,
)

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
MONDAY_MORNING = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=NEW_YORK)
TUESDAY = datetime.date(2026, 12, 8)


def ny(hour: int, minute: int = 0, day: datetime.date = TUESDAY) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=NEW_YORK)


def key(stylist, when: datetime.datetime) -> str:
    return f"{stylist.pk}@{when.astimezone(datetime.UTC):%Y-%m-%dT%H:%M:%SZ}"


@pytest.fixture(autouse=True)
def at_monday_morning():
    with time_machine.travel(MONDAY_MORNING, tick=False):
        yield


@pytest.fixture
def try_on(store):
    kind = AppointmentKindFactory(name="In-store try-on", default_minutes=60)
    kind.online_stores.add(store)
    return kind


@pytest.fixture
def sofia(stylist):
    stylist.user.first_name, stylist.user.last_name = "Sofia", "Marchetti"
    stylist.user.save()
    working_week(stylist)
    return stylist


@pytest.fixture
def maya(store):
    maya = StaffMemberFactory(store=store, role="stylist", user__first_name="Maya")
    working_week(maya)
    return maya


@pytest.fixture
def claire(store):
    return CustomerFactory(
        first_name="Claire", last_name="Dubois", home_store=store, email="claire@example.com"
    )


@pytest.fixture
def with_sofia_at_ten(claire, try_on, sofia):
    return services.appointment_book(customer=claire, kind=try_on, stylist=sofia, starts_at=ny(10))


def book(customer, kind, stylist, when, **extra):
    return services.appointment_book(
        customer=customer, kind=kind, stylist=stylist, starts_at=when, **extra
    )


# --- The services ------------------------------------------------------------------------


def test_the_same_client_with_another_stylist_at_an_overlapping_time_is_refused(
    claire, try_on, maya, with_sofia_at_ten
):
    with pytest.raises(ApplicationError) as refused:
        book(claire, try_on, maya, ny(10, 30))

    assert refused.value.field == "starts_at"
    assert refused.value.message == (
        "Claire already has an appointment then: In-store try-on Tue 8 Dec at 10:00 with "
        "Sofia Marchetti. Choose another time."
    )
    assert Appointment.objects.filter(customer=claire).count() == 1


def test_an_overlap_in_another_store_is_refused_and_names_the_store(
    claire, try_on, maya, other_store
):
    elsewhere = StaffMemberFactory(
        store=other_store, role="stylist", user__first_name="Ines", user__last_name="Roux"
    )
    AppointmentFactory(
        stylist=elsewhere, customer=claire, kind=try_on, starts_at=ny(11), ends_at=ny(12)
    )

    # The time as the store booking sees it, whatever the other store's zone.
    with pytest.raises(ApplicationError, match=f"at 11:00 with Ines Roux at {other_store.name}"):
        book(claire, try_on, maya, ny(10, 30))


def test_back_to_back_appointments_and_other_clients_are_fine(
    claire, store, try_on, maya, with_sofia_at_ten
):
    assert book(claire, try_on, maya, ny(11)).starts_at == ny(11)  # right after
    jade = CustomerFactory(first_name="Jade", home_store=store)
    assert book(jade, try_on, maya, ny(10)).customer == jade


def test_cancelled_and_past_appointments_do_not_count(claire, try_on, sofia, maya):
    first = book(claire, try_on, sofia, ny(10))
    services.appointment_cancel(appointment=first, reason="Changed her mind")

    assert book(claire, try_on, maya, ny(10)).stylist == maya


def test_an_intended_overlap_is_booked_when_asked(claire, try_on, maya, with_sofia_at_ten):
    both = book(claire, try_on, maya, ny(10), allow_overlap_for_client=True)

    assert Appointment.objects.filter(customer=claire, starts_at=ny(10)).count() == 2
    assert both.stylist == maya


def test_moving_into_another_of_the_clients_appointments_is_refused(
    claire, try_on, sofia, maya, with_sofia_at_ten
):
    later = book(claire, try_on, maya, ny(14))

    with pytest.raises(ApplicationError, match="already has an appointment then"):
        services.appointment_reschedule(appointment=later, starts_at=ny(10, 15))

    later.refresh_from_db()
    assert later.starts_at == ny(14) and later.revision == 1
    # Its own time does not count against it, and an intended overlap may be moved into.
    moved = services.appointment_reschedule(appointment=later, starts_at=ny(14, 30))
    assert moved.starts_at == ny(14, 30)
    moved = services.appointment_reschedule(
        appointment=moved, starts_at=ny(10), allow_overlap_for_client=True
    )
    assert moved.starts_at == ny(10)


# --- The interfaces: a sentence, never a 500 ------------------------------------------------


def test_the_card_refuses_the_overlap_with_a_sentence(
    client, associate, claire, try_on, maya, with_sofia_at_ten
):
    client.force_login(associate.user)
    response = client.post(
        reverse("appointments:appointment-new"),
        {
            "customer": claire.pk,
            "kind": try_on.pk,
            "day": TUESDAY.isoformat(),
            "slot": key(maya, ny(10)),
            "notes": "Wedding in June",
        },
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "already has an appointment then" in body and "with Sofia" in body
    assert "Wedding in June" in body
    assert Appointment.objects.count() == 1
    # The refusal offers to book both on purpose; unticked, nothing else changes.
    assert 'name="book_anyway"' in body


def test_staff_book_anyway_once_the_overlap_is_named(
    client, associate, claire, try_on, maya, with_sofia_at_ten
):
    client.force_login(associate.user)
    data = {
        "customer": claire.pk,
        "kind": try_on.pk,
        "day": TUESDAY.isoformat(),
        "slot": key(maya, ny(10)),
    }
    assert (
        'name="book_anyway"'
        not in client.get(
            reverse("appointments:appointment-new"), {"customer": claire.pk}
        ).content.decode()
    )
    response = client.post(reverse("appointments:appointment-new"), {**data, "book_anyway": "on"})
    assert response.status_code == 302
    assert Appointment.objects.filter(customer=claire).count() == 2


def test_the_public_page_refuses_an_existing_client_booking_over_their_appointment(
    client, store, try_on, maya, with_sofia_at_ten
):
    response = client.post(
        f"/book/{store.code}/{try_on.pk}/details/",
        {
            "slot": key(maya, ny(10)),
            "stylist": "",
            "first_name": "Claire",
            "last_name": "Dubois",
            "email": "claire@example.com",
            "phone": "",
        },
    )

    body = response.content.decode()
    assert response.status_code == 200
    # Whoever typed the email learns nothing of the client: the words of a taken slot.
    assert "that time is no longer free" in body
    assert "already have an appointment" not in body and "Sofia" not in body
    assert Appointment.objects.count() == 1
    assert Customer.objects.count() == 1


def test_a_client_moving_their_own_appointment_over_another_gets_a_sentence(
    client, claire, try_on, maya, with_sofia_at_ten
):
    later = book(claire, try_on, maya, ny(14), online=True)
    token = later.manage_token

    response = client.post(
        reverse("appointment-manage-move-confirm", args=[token]),
        {"slot": key(maya, ny(10)), "stylist": ""},
        follow=True,
    )

    assert response.status_code == 200
    assert "You already have an appointment at that time" in response.content.decode()
    later.refresh_from_db()
    assert later.starts_at == ny(14)
