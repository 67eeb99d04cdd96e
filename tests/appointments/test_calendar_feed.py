"""A stylist's calendar feed (.ics): their appointments from 30 days back to 180 ahead,
stable UIDs, SEQUENCE = revision, cancelled ones marked, minimal client details; known
only by its secret token, which the admin rotates."""

from __future__ import annotations

import datetime
import zoneinfo

import icalendar
import pytest
import time_machine
from django.urls import reverse

from appointments import services
from appointments.models import CalendarFeed
from appointments.views.calendar_feed import calendar_feed_url
from tests.factories import (
    AppointmentFactory,
    AppointmentKindFactory,
    CustomerFactory,
    StaffMemberFactory,
    UserFactory,
    working_week,
)

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
UTC = datetime.UTC
NOW = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=NEW_YORK)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def feed(stylist):
    return services.calendar_feed_for(stylist)


@pytest.fixture
def claire(store):
    return CustomerFactory(
        first_name="Claire",
        last_name="Dubois",
        email="claire@example.com",
        phone="+12125550142",
        home_store=store,
    )


def at(days: float, hour: int = 14) -> datetime.datetime:
    day = NOW.date() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=NEW_YORK)


def events(response) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def uid(appointment) -> str:
    return f"appointment-{appointment.pk}@clienteling.example.com"


def test_the_feed_has_the_stylists_appointments_as_events(
    client, store, stylist, feed, claire, settings
):
    settings.SITE_URL = "https://clienteling.example.com"
    store.address_line, store.postal_code, store.city = "120 Prince St", "10012", "New York"
    store.save()
    try_on = AppointmentKindFactory(name="In-store try-on")
    tomorrow = AppointmentFactory(stylist=stylist, customer=claire, kind=try_on, starts_at=at(1))
    moved = AppointmentFactory(
        stylist=stylist, customer=claire, kind=try_on, starts_at=at(3), revision=3
    )
    cancelled = AppointmentFactory(
        stylist=stylist,
        customer=claire,
        kind=try_on,
        starts_at=at(2),
        status="cancelled",
        cancelled_at=NOW,
    )
    requested = AppointmentFactory(
        stylist=stylist, customer=claire, kind=try_on, starts_at=at(4), status="requested"
    )
    last_month = AppointmentFactory(
        stylist=stylist, customer=claire, kind=try_on, starts_at=at(-29), status="completed"
    )
    AppointmentFactory(stylist=stylist, customer=claire, kind=try_on, starts_at=at(-31))
    AppointmentFactory(stylist=stylist, customer=claire, kind=try_on, starts_at=at(181))
    AppointmentFactory(customer=claire, kind=try_on, starts_at=at(1))  # another stylist's

    response = client.get(f"/calendar/{feed.token}.ics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    found = events(response)
    assert set(found) == {uid(a) for a in (tomorrow, moved, cancelled, requested, last_month)}
    event = found[uid(tomorrow)]
    assert event.start == tomorrow.starts_at and event.start.utcoffset() == datetime.timedelta(0)
    assert event.end == tomorrow.ends_at
    assert b"DTSTART:20261208T190000Z" in response.content  # UTC, not floating or local
    assert str(event["SUMMARY"]) == "In-store try-on · Claire D."
    assert str(event["LOCATION"]) == "SoHo, 120 Prince St, 10012 New York"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["SEQUENCE"] == 1
    assert str(event["URL"]) == (
        "https://clienteling.example.com" + reverse("appointments:appointment", args=[tomorrow.pk])
    )
    assert found[uid(moved)]["SEQUENCE"] == 3
    assert str(found[uid(cancelled)]["STATUS"]) == "CANCELLED"
    assert str(found[uid(requested)]["STATUS"]) == "TENTATIVE"
    body = response.content.decode()
    for private in ("Dubois", "claire@example.com", "5550142", "555-0142"):
        assert private not in body


def test_a_uid_stays_and_the_sequence_follows_a_move(client, store, stylist, feed, claire):
    kind = AppointmentKindFactory(name="In-store try-on")
    working_week(stylist)
    appointment = services.appointment_book(
        customer=claire, kind=kind, stylist=stylist, starts_at=at(1, 11)
    )
    before = events(client.get(f"/calendar/{feed.token}.ics"))

    services.appointment_reschedule(appointment=appointment, starts_at=at(2, 15))
    after = events(client.get(f"/calendar/{feed.token}.ics"))

    assert set(before) == set(after)
    (event,) = after.values()
    assert event["SEQUENCE"] == 2 and event.start == at(2, 15)


def test_in_home_and_video_appointments_give_their_place(client, stylist, feed, claire):
    at_home = AppointmentKindFactory(name="In-home try-on", place="home")
    video = AppointmentKindFactory(name="Virtual styling", place="virtual")
    home_visit = AppointmentFactory(
        stylist=stylist, customer=claire, kind=at_home, starts_at=at(1), address="12 Main St"
    )
    call = AppointmentFactory(
        stylist=stylist,
        customer=claire,
        kind=video,
        starts_at=at(2),
        video_link="https://meet.example.com/styling-abc",
    )
    no_link = AppointmentFactory(stylist=stylist, customer=claire, kind=video, starts_at=at(3))
    anonymous = AppointmentFactory(stylist=stylist, customer=None, kind=video, starts_at=at(4))

    found = {
        str(event["UID"]).split("@")[0]: event
        for event in events(client.get(f"/calendar/{feed.token}.ics")).values()
    }

    assert str(found[f"appointment-{home_visit.pk}"]["LOCATION"]) == "12 Main St"
    assert (
        str(found[f"appointment-{call.pk}"]["LOCATION"]) == "https://meet.example.com/styling-abc"
    )
    assert "Video call" in str(found[f"appointment-{no_link.pk}"]["LOCATION"])
    assert str(found[f"appointment-{anonymous.pk}"]["SUMMARY"]) == "Virtual styling · a client"


def test_the_feed_costs_two_queries_whatever_the_number_of_appointments(
    client, stylist, feed, claire, django_assert_num_queries
):
    kind = AppointmentKindFactory(name="In-store try-on")
    AppointmentFactory(stylist=stylist, customer=claire, kind=kind, starts_at=at(1))
    # The feed with its stylist and store; the appointments with kind, client and store.
    with django_assert_num_queries(2):
        client.get(f"/calendar/{feed.token}.ics")
    for day in range(2, 6):
        AppointmentFactory(
            stylist=stylist, customer=CustomerFactory(), kind=kind, starts_at=at(day)
        )
    with django_assert_num_queries(2):
        response = client.get(f"/calendar/{feed.token}.ics")
    assert len(events(response)) == 5


def test_an_unknown_or_rotated_token_is_a_404(client, feed):
    old = feed.token
    assert client.get("/calendar/not-a-token.ics").status_code == 404

    feed.rotate()

    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{feed.token}.ics").status_code == 200


def test_the_feed_of_a_stylist_who_left_is_a_404(client, stylist, feed):
    stylist.user.is_active = False
    stylist.user.save()
    assert client.get(f"/calendar/{feed.token}.ics").status_code == 404


def test_the_feed_refuses_other_methods(client, feed):
    assert client.post(f"/calendar/{feed.token}.ics").status_code == 405


def test_the_admin_shows_the_feed_address_and_rotates_it(client, feed, settings):
    settings.SITE_URL = "https://clienteling.example.com"
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    old = feed.token

    page = client.get(reverse("admin:appointments_calendarfeed_change", args=[feed.pk]))
    assert calendar_feed_url(feed) in page.content.decode()
    assert calendar_feed_url(feed) == f"https://clienteling.example.com/calendar/{old}.ics"
    listing = client.get(reverse("admin:appointments_calendarfeed_changelist"))
    assert listing.status_code == 200 and "Sofia" in listing.content.decode()

    response = client.post(
        reverse("admin:appointments_calendarfeed_changelist"),
        {"action": "rotate_feeds", "_selected_action": [feed.pk]},
        follow=True,
    )

    assert "New addresses for 1 calendar feed(s)" in response.content.decode()
    feed.refresh_from_db()
    assert feed.token != old
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert CalendarFeed.objects.count() == 1


def test_an_associate_cannot_open_the_feed_admin(client, associate, feed):
    client.force_login(associate.user)
    response = client.get(reverse("admin:appointments_calendarfeed_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_another_stylists_token_gives_only_their_own_appointments(
    client, store, stylist, feed, claire
):
    kind = AppointmentKindFactory(name="In-store try-on")
    other = StaffMemberFactory(store=store, role="stylist")
    theirs = AppointmentFactory(stylist=other, customer=claire, kind=kind, starts_at=at(1))
    AppointmentFactory(stylist=stylist, customer=claire, kind=kind, starts_at=at(2))

    found = events(client.get(f"/calendar/{services.calendar_feed_for(other).token}.ics"))

    assert [str(u).split("@")[0] for u in found] == [f"appointment-{theirs.pk}"]
