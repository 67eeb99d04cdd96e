"""The public booking pages: a store's page (kind, day and time, details, confirmation) and
the client's own link (see, move, cancel). No login; nothing about an existing client is
ever shown; POSTs are rate-limited; bad input gets a sentence, never a 500."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from html import unescape
from urllib.parse import quote

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from appointments import services
from appointments.models import Appointment, TimeOff
from appointments.views.booking import SLOT_GONE
from customers.models import ConsentEvent, Customer, Message, Reason
from customers.services import consent_wording
from tests.factories import (
    AppointmentFactory,
    AppointmentKindFactory,
    ConsentEventFactory,
    CustomerFactory,
    StaffMemberFactory,
    working_week,
)

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
UTC = datetime.UTC
# A Monday in December, 09:00 in New York: with the default 12 hours' notice, Tuesday is
# the first day with a free time.
MONDAY_MORNING = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=NEW_YORK)
TUESDAY = datetime.date(2026, 12, 8)


def ny(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=NEW_YORK)


def key(stylist, when: datetime.datetime) -> str:
    return f"{stylist.pk}@{when.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def text(response) -> str:
    return unescape(response.content.decode())


def links(response, prefix: str) -> list[str]:
    """The hrefs of a page that start with `prefix`, in order."""
    return [
        unescape(href)
        for href in re.findall(r'href="([^"]+)"', response.content.decode())
        if unescape(href).startswith(prefix)
    ]


@pytest.fixture(autouse=True)
def at_monday_morning():
    with time_machine.travel(MONDAY_MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def store(store):
    store.address_line, store.postal_code, store.city = "120 Prince St", "10012", "New York"
    store.phone = "+12125550100"
    store.save()
    return store


@pytest.fixture
def try_on(store):
    kind = AppointmentKindFactory(name="In-store try-on", default_minutes=60)
    kind.online_stores.add(store)
    return kind


@pytest.fixture
def sofia(stylist):
    stylist.user.last_name = "Marchetti"
    stylist.user.save()
    working_week(stylist)  # 10:00-18:00 every day
    return stylist


@pytest.fixture
def maya(store):
    maya = StaffMemberFactory(
        store=store, role="stylist", user__first_name="Maya", user__last_name="Lind"
    )
    working_week(maya)
    return maya


@pytest.fixture
def claire(store):
    customer = CustomerFactory(
        first_name="Claire",
        last_name="Dubois",
        home_store=store,
        email="claire@example.com",
        phone="+12125550142",
    )
    ConsentEventFactory(customer=customer, channel="email", granted=True)
    return customer


def times_url(store, kind) -> str:
    return f"/book/{store.code}/{kind.pk}/"


def details_url(store, kind) -> str:
    return f"/book/{store.code}/{kind.pk}/details/"


def details(slot: str, **extra) -> dict:
    data = {
        "slot": slot,
        "stylist": "",
        "first_name": "Jade",
        "last_name": "Okafor",
        "email": "jade@example.com",
        "phone": "",
    }
    data.update(extra)
    return data


def manage_url(appointment, action: str = "") -> str:
    return f"/my-appointment/{appointment.manage_token}/" + (f"{action}/" if action else "")


# --- The whole flow ------------------------------------------------------------------------


def test_a_client_books_a_try_on_from_kind_to_confirmation(client, store, try_on, sofia):
    page = client.get(f"/book/{store.code}/")
    assert page.status_code == 200
    assert "In-store try-on" in text(page) and "60 minutes" in text(page)
    assert links(page, "/book/") == [times_url(store, try_on)]

    times = client.get(times_url(store, try_on))
    assert times.status_code == 200
    body = text(times)
    assert "Times on Tue 8 Dec" in body  # Monday has nothing left after 12 hours' notice
    day_links = links(times, times_url(store, try_on) + "?day=")
    assert day_links[0] == times_url(store, try_on) + "?day=2026-12-08"
    assert len(day_links) == 20  # the next 21 days, Monday (today) has no free time
    assert f'hx-get="{day_links[0]}"' in times.content.decode()
    time_links = links(times, details_url(store, try_on))
    assert time_links[0] == details_url(store, try_on) + "?slot=" + quote(
        key(sofia, ny(TUESDAY, 10)), safe=""
    )

    form = client.get(time_links[0])
    assert form.status_code == 200
    assert "Tue 8 Dec at 10:00" in text(form) and "with Sofia" in text(form)
    assert consent_wording("email", store) in text(form)
    assert 'type="checkbox" name="consent_email"' in form.content.decode()
    assert "checked" not in form.content.decode()  # nothing ticked for the client

    response = client.post(
        details_url(store, try_on),
        details(key(sofia, ny(TUESDAY, 10)), consent_email="on", phone="(212) 555-0199"),
    )

    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/my-appointment/{appointment.manage_token}/booked/"
    assert (appointment.stylist, appointment.starts_at) == (sofia, ny(TUESDAY, 10))
    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.booked_through == Appointment.BookedThrough.ONLINE
    jade = appointment.customer
    assert (jade.first_name, jade.last_name, jade.email) == ("Jade", "Okafor", "jade@example.com")
    assert str(jade.phone) == "+12125550199"
    assert jade.joined_via == Customer.JoinedVia.ONLINE
    # Nobody at the counter is asked to greet someone who booked from home.
    assert not Reason.objects.filter(customer=jade, kind=Reason.Kind.SIGNED_UP).exists()
    consent = ConsentEvent.objects.get(customer=jade)
    assert (consent.channel, consent.granted, consent.source) == ("email", True, "client")
    assert consent.wording == consent_wording("email", store)
    purposes = sorted(Message.objects.filter(customer=jade).values_list("purpose", flat=True))
    assert purposes == ["appointment_confirmation", "appointment_reminder", "appointment_reminder"]

    done = client.get(response["Location"])
    body = text(done)
    assert done.status_code == 200 and done["Cache-Control"] == "no-store"
    assert "You're booked" in body and "In-store try-on" in body
    assert "Tue 8 Dec at 10:00" in body and "Sofia" in body and "Marchetti" not in body
    assert "SoHo, 120 Prince St, 10012 New York" in body
    assert f"http://testserver/my-appointment/{appointment.manage_token}/" in body


def test_the_kinds_page_lists_only_the_active_kinds_this_store_offers_online(
    client, store, other_store, try_on
):
    AppointmentKindFactory(name="Virtual styling", place="virtual")  # not online anywhere
    elsewhere = AppointmentKindFactory(name="In-home try-on", place="home")
    elsewhere.online_stores.add(other_store)
    retired = AppointmentKindFactory(name="Bridal fitting", is_active=False)
    retired.online_stores.add(store)

    body = text(client.get(f"/book/{store.code}/"))

    assert "In-store try-on" in body
    assert not {"Virtual styling", "In-home try-on", "Bridal fitting"} & set(
        re.findall(r"<strong>([^<]+)</strong>", body)
    )


def test_a_kind_the_store_does_not_offer_online_is_a_404_at_every_step(
    client, store, other_store, sofia
):
    staff_only = AppointmentKindFactory(name="Virtual styling", place="virtual")
    elsewhere = AppointmentKindFactory(name="In-home try-on", place="home")
    elsewhere.online_stores.add(other_store)
    retired = AppointmentKindFactory(name="Bridal fitting", is_active=False)
    retired.online_stores.add(store)

    for kind in (staff_only, elsewhere, retired):
        slot = key(sofia, ny(TUESDAY, 10))
        assert client.get(times_url(store, kind)).status_code == 404
        assert client.get(details_url(store, kind) + "?slot=" + quote(slot)).status_code == 404
        assert client.post(details_url(store, kind), details(slot)).status_code == 404
    assert client.get(f"/book/{store.code}/999999/").status_code == 404
    assert client.get("/book/no-such-store/").status_code == 404
    assert not Appointment.objects.exists() and not Customer.objects.exists()


def test_a_closed_store_has_no_booking_page(client, store, try_on):
    store.is_active = False
    store.save()
    assert client.get(f"/book/{store.code}/").status_code == 404
    assert client.get(times_url(store, try_on)).status_code == 404


# --- Days and times ------------------------------------------------------------------------


def test_times_inside_the_kinds_notice_are_not_offered(client, store, try_on, sofia):
    try_on.online_min_notice_hours = 30  # Monday 09:00 + 30 h: Tuesday 15:00
    try_on.save()

    body = text(client.get(times_url(store, try_on) + "?day=2026-12-08"))
    response = client.get(
        details_url(store, try_on) + "?slot=" + quote(key(sofia, ny(TUESDAY, 14)))
    )

    assert re.findall(r">(\d\d:\d\d)</a>", body)[0] == "15:00"
    assert ">14:45</a>" not in body
    assert response.status_code == 200
    assert SLOT_GONE in text(response)
    assert ">14:45<" not in text(response) and "15:00" in text(response)  # the day's times


def test_only_days_with_a_free_time_are_shown(client, store, try_on, stylist):
    working_week(stylist, days=[1, 3])  # Tuesdays and Thursdays
    TimeOff.objects.create(
        stylist=stylist, starts_at=ny(TUESDAY, 0), ends_at=ny(TUESDAY + datetime.timedelta(1), 0)
    )

    response = client.get(times_url(store, try_on))

    days = [link.rsplit("=", 1)[1] for link in links(response, times_url(store, try_on) + "?day=")]
    assert days[:3] == ["2026-12-10", "2026-12-15", "2026-12-17"]  # Tue 8 is time off
    assert all(datetime.date.fromisoformat(day).weekday() in (1, 3) for day in days)
    assert "Times on Thu 10 Dec" in text(response)


def test_no_free_time_in_three_weeks_says_so_with_the_stores_phone(client, store, try_on):
    response = client.get(times_url(store, try_on))
    assert response.status_code == 200
    assert "no free time in the next three weeks" in text(response)
    assert "tel:+12125550100" in text(response)


def test_a_time_several_stylists_have_free_shows_once_for_the_one_with_fewer_appointments(
    client, store, try_on, sofia, maya, claire
):
    AppointmentFactory(stylist=sofia, customer=claire, starts_at=ny(TUESDAY, 16))

    response = client.get(times_url(store, try_on) + "?day=2026-12-08")

    body = response.content.decode()
    assert body.count(">10:00</a>") == 1
    ten = links(response, details_url(store, try_on))[0]
    assert quote(key(maya, ny(TUESDAY, 10)), safe="") in ten  # Sofia already has one
    assert body.count(">16:00</a>") == 1  # Maya's: Sofia is busy then


def test_a_client_may_choose_their_stylist(client, store, try_on, sofia, maya):
    page = client.get(times_url(store, try_on))
    assert f'href="{times_url(store, try_on)}?stylist={sofia.pk}"' in page.content.decode()

    response = client.get(times_url(store, try_on) + f"?day=2026-12-08&stylist={sofia.pk}")
    first = links(response, details_url(store, try_on))[0]
    assert first.endswith(f"&stylist={sofia.pk}")
    assert quote(key(sofia, ny(TUESDAY, 10)), safe="") in first

    client.post(details_url(store, try_on), details(key(sofia, ny(TUESDAY, 10)), stylist=sofia.pk))
    assert Appointment.objects.get().stylist == sofia


def test_the_times_of_another_day_come_as_a_partial_for_htmx(client, store, try_on, sofia):
    response = client.get(times_url(store, try_on) + "?day=2026-12-09", HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and body.strip().startswith('<section id="booking-times"')
    assert "Times on Wed 9 Dec" in body and ">10:00</a>" in body
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    "query",
    [
        "day=2026-13-45",
        "day=yesterday",
        "day=1999-01-01",
        "day=2027-06-01",  # beyond the three weeks offered
        "day=2026-12-08T10:00",
        "stylist=abc",
        "stylist=999999",
        "day=%00",
    ],
)
def test_garbage_on_the_times_page_gets_a_sentence_not_a_500(client, store, try_on, sofia, query):
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.get(times_url(store, try_on) + "?" + query, **headers)
        assert response.status_code == 200
        assert "Choose one of the" in text(response)


def test_the_days_times_cost_the_same_queries_with_one_or_three_stylists(
    client, store, try_on, sofia, django_assert_num_queries
):
    url = times_url(store, try_on) + "?day=2026-12-08"
    # The store, the kind, its stylists; working hours, what they hold, their time off;
    # how many appointments each has that day (to give a shared time to the least busy).
    with django_assert_num_queries(7):
        one = client.get(url, HTTP_HX_REQUEST="true")
    for _ in range(2):
        working_week(StaffMemberFactory(store=store, role="stylist"))
    with django_assert_num_queries(7):
        three = client.get(url, HTTP_HX_REQUEST="true")
    assert one.content.decode().count("</a>") == three.content.decode().count("</a>") > 0


def test_the_whole_times_page_costs_the_same_queries_with_one_or_three_stylists(
    client, store, try_on, sofia
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(times_url(store, try_on)).status_code == 200
        return len(queries)

    one = count()
    for _ in range(2):
        working_week(StaffMemberFactory(store=store, role="stylist"))
    assert count() == one


# --- Details and booking -------------------------------------------------------------------


def test_a_time_taken_meanwhile_keeps_what_was_typed_and_shows_the_days_times(
    client, store, try_on, sofia, claire
):
    services.appointment_book(
        customer=claire, kind=try_on, stylist=sofia, starts_at=ny(TUESDAY, 10)
    )

    response = client.post(
        details_url(store, try_on),
        details(key(sofia, ny(TUESDAY, 10)), first_name="Jade", email="jade@example.com"),
    )

    body = text(response)
    assert response.status_code == 200
    assert SLOT_GONE in body
    assert 'value="Jade"' in body and 'value="jade@example.com"' in body
    assert "Times on Tue 8 Dec" in body
    assert f'value="{key(sofia, ny(TUESDAY, 11))}"' in body  # free again after 11:00
    assert f'value="{key(sofia, ny(TUESDAY, 10))}"' not in body
    assert Appointment.objects.count() == 1
    assert not Customer.objects.filter(email="jade@example.com").exists()  # rolled back


def test_a_time_taken_meanwhile_goes_to_another_free_stylist_when_the_client_did_not_choose(
    client, store, try_on, sofia, maya, claire
):
    services.appointment_book(
        customer=claire, kind=try_on, stylist=sofia, starts_at=ny(TUESDAY, 10)
    )

    response = client.post(details_url(store, try_on), details(key(sofia, ny(TUESDAY, 10))))

    assert response.status_code == 302
    booked = Appointment.objects.get(customer__email="jade@example.com")
    assert (booked.stylist, booked.starts_at) == (maya, ny(TUESDAY, 10))


def test_a_chosen_stylist_is_kept_even_when_another_is_free(
    client, store, try_on, sofia, maya, claire
):
    services.appointment_book(
        customer=claire, kind=try_on, stylist=sofia, starts_at=ny(TUESDAY, 10)
    )

    response = client.post(
        details_url(store, try_on), details(key(sofia, ny(TUESDAY, 10)), stylist=sofia.pk)
    )

    assert response.status_code == 200 and SLOT_GONE in text(response)
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "", "phone": ""}, "Give an email or a mobile number"),
        ({"email": "", "phone": "12"}, "Enter a valid phone number"),
        ({"email": "jade@", "phone": ""}, "Enter a valid email address"),
        ({"first_name": ""}, "This field is required"),
        ({"first_name": "x" * 101}, "at most 100 characters"),
        ({"slot": ""}, "Choose a time."),
        ({"slot": "garbage"}, "Choose one of the times offered."),
        ({"slot": "5@not-a-date"}, "Choose one of the times offered."),
        ({"slot": "abc@2026-12-08T15:00:00+00:00"}, "Choose one of the times offered."),
        ({"slot": "{sofia}@2026-12-08T15:00:00"}, "Choose one of the times offered."),  # naive
        ({"slot": "{sofia}@2026-12-08T15:07:00+00:00"}, SLOT_GONE),  # not a slot start
        ({"slot": "{sofia}@2027-03-08T15:00:00+00:00"}, SLOT_GONE),  # beyond three weeks
        ({"slot": "{sofia}@2026-12-01T15:00:00+00:00"}, SLOT_GONE),  # in the past
        ({"slot": "{other}@2026-12-08T15:00:00+00:00"}, "Choose one of the times offered."),
        ({"slot": "9" * 30 + "@2026-12-08T15:00:00+00:00"}, "Choose one of the times offered."),
        ({"slot": "x" * 500}, "Choose one of the times offered."),
        ({"slot": "{sofia}@0001-01-01T00:00:00+01:00"}, "Choose one of the times offered."),
        ({"slot": "{sofia}@9999-12-31T23:30:00-01:00"}, "Choose one of the times offered."),
        ({"slot": "{sofia}@9999-12-31T23:30:00+00:00"}, "Choose one of the times offered."),
    ],
)
def test_bad_details_get_a_field_message_and_book_nothing(
    client, store, other_store, try_on, sofia, changes, message
):
    other = StaffMemberFactory(store=other_store, role="stylist")
    working_week(other)
    data = details(key(sofia, ny(TUESDAY, 10)))
    data.update(
        {name: value.format(sofia=sofia.pk, other=other.pk) for name, value in changes.items()}
    )

    response = client.post(details_url(store, try_on), data)

    assert response.status_code == 200
    assert message in text(response)
    assert not Appointment.objects.exists() and not Customer.objects.exists()


@pytest.mark.parametrize(
    "slot",
    [
        "",
        "garbage",
        "5@2026-12-08T15:00:00",
        "1@2026-12-08T15:00:00+00:00",
        "%00",
        "1@0001-01-01T00:00:00%2B01:00",
        "1@2026-12-08T15:00:00 00:00",  # an unencoded "+"
    ],
)
def test_a_details_link_with_a_bad_time_gets_a_sentence_and_a_way_back(
    client, store, try_on, sofia, slot
):
    response = client.get(details_url(store, try_on) + "?slot=" + slot)
    assert response.status_code == 200
    assert "Choose one of the times offered." in text(response) or SLOT_GONE in text(response)
    assert f'href="{times_url(store, try_on)}' in response.content.decode()


def test_an_existing_client_is_matched_without_revealing_anything(
    client, store, try_on, sofia, claire
):
    new = client.post(details_url(store, try_on), details(key(sofia, ny(TUESDAY, 10))))
    response = client.post(
        details_url(store, try_on),
        details(
            key(sofia, ny(TUESDAY, 12)),
            first_name="Mallory",
            last_name="",
            email="CLAIRE@example.com",
        ),
    )

    assert new.status_code == response.status_code == 302
    appointment = Appointment.objects.get(starts_at=ny(TUESDAY, 12))
    assert appointment.customer == claire
    assert Customer.objects.count() == 2  # Claire and Jade: no duplicate of Claire
    claire.refresh_from_db()
    assert (claire.first_name, claire.last_name) == ("Claire", "Dubois")  # nothing touched
    assert not Reason.objects.filter(customer=claire, kind=Reason.Kind.SIGNED_UP).exists()
    for url in (response["Location"], manage_url(appointment)):
        body = text(client.get(url))
        assert not {"Claire", "Dubois", "claire@example.com", "555-0142", "Mallory"} & set(
            re.findall(r"[\w@.-]+", body)
        )

    # Whoever typed Claire's email sees what a new client sees.
    def page(url: str) -> str:
        body = text(client.get(url))
        return body[body.index("<main") : body.index("Your personal link")]

    assert page(new["Location"]).replace("10:00", "12:00") == page(response["Location"])


def test_an_empty_box_does_not_withdraw_a_consent_the_client_gave_before(
    client, store, try_on, sofia, claire
):
    client.post(
        details_url(store, try_on),
        details(key(sofia, ny(TUESDAY, 10)), email="claire@example.com", phone="+12125550142"),
    )

    current = {e.channel: e.granted for e in ConsentEvent.objects.current().filter(customer=claire)}
    assert current == {"email": True}
    assert Message.objects.get(purpose="appointment_confirmation").channel == "email"


def test_a_kind_that_needs_approval_ends_requested_and_says_so(client, store, try_on, sofia):
    try_on.online_needs_approval = True
    try_on.save()

    form = client.get(details_url(store, try_on) + "?slot=" + quote(key(sofia, ny(TUESDAY, 10))))
    response = client.post(details_url(store, try_on), details(key(sofia, ny(TUESDAY, 10))))

    assert "Ask for this time" in text(form)
    appointment = Appointment.objects.get()
    assert appointment.status == Appointment.Status.REQUESTED
    assert list(Message.objects.values_list("purpose", flat=True)) == ["appointment_request"]
    done = text(client.get(response["Location"]))
    assert "Waiting for the stylist to confirm" in done and "Request sent" in done
    assert "Waiting for the stylist to confirm" in text(client.get(manage_url(appointment)))


def test_an_in_home_try_on_asks_for_the_address_and_shows_it_to_the_client(client, store, sofia):
    at_home = AppointmentKindFactory(
        name="In-home try-on", place="home", default_minutes=60, travel_minutes=30
    )
    at_home.online_stores.add(store)
    slot = key(sofia, ny(TUESDAY, 11))

    missing = client.post(details_url(store, at_home), details(slot))
    response = client.post(details_url(store, at_home), details(slot, address="12 Main St, Apt 4"))

    assert missing.status_code == 200 and "This field is required" in text(missing)
    appointment = Appointment.objects.get()
    assert appointment.address == "12 Main St, Apt 4"
    body = text(client.get(response["Location"]))
    assert "At your home: 12 Main St, Apt 4" in body and "120 Prince St" not in body


def test_a_video_appointment_shows_its_link(client, store, sofia, settings):
    settings.VIDEO_ROOM_URL_TEMPLATE = "https://meet.example.com/styling-{token}"
    virtual = AppointmentKindFactory(name="Virtual styling", place="virtual")
    virtual.online_stores.add(store)

    response = client.post(details_url(store, virtual), details(key(sofia, ny(TUESDAY, 10))))

    appointment = Appointment.objects.get()
    body = client.get(response["Location"]).content.decode()
    assert f'href="{appointment.video_link}"' in body
    assert appointment.video_link.startswith("https://meet.example.com/styling-")


def test_bookings_are_rate_limited_per_address_and_a_limited_post_saves_nothing(
    client, store, try_on, sofia, settings
):
    settings.BOOKING_RATE = "2/h"
    client.post(details_url(store, try_on), details("garbage"), REMOTE_ADDR="10.0.0.9")
    first = client.post(
        details_url(store, try_on), details(key(sofia, ny(TUESDAY, 10))), REMOTE_ADDR="10.0.0.9"
    )

    limited = client.post(
        details_url(store, try_on),
        details(key(sofia, ny(TUESDAY, 12)), email="late@example.com"),
        REMOTE_ADDR="10.0.0.9",
    )

    assert first.status_code == 302
    assert limited.status_code == 429
    assert "nothing was booked" in text(limited)
    assert Appointment.objects.count() == 1
    assert not Customer.objects.filter(email="late@example.com").exists()
    elsewhere = client.post(
        details_url(store, try_on),
        details(key(sofia, ny(TUESDAY, 12)), email="late@example.com"),
        REMOTE_ADDR="10.0.0.10",
    )
    assert elsewhere.status_code == 302


def test_the_booking_form_needs_the_csrf_token(store, try_on, sofia):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(details_url(store, try_on), details(key(sofia, ny(TUESDAY, 10))))
    assert response.status_code == 403
    assert not Appointment.objects.exists()


def test_wrong_methods_are_refused(client, store, try_on, sofia, claire):
    appointment = AppointmentFactory(stylist=sofia, customer=claire, kind=try_on)
    for url in (
        f"/book/{store.code}/",
        times_url(store, try_on),
        manage_url(appointment),
        manage_url(appointment, "booked"),
        manage_url(appointment, "move"),
    ):
        assert client.post(url).status_code == 405, url
        assert client.delete(url).status_code == 405, url
    for url in (
        details_url(store, try_on),
        manage_url(appointment, "cancel"),
        manage_url(appointment, "move/confirm"),
    ):
        assert client.put(url).status_code == 405, url
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


# --- The client's own link -----------------------------------------------------------------


@pytest.fixture
def booked(store, try_on, sofia, claire):
    return services.appointment_book(
        customer=claire, kind=try_on, stylist=sofia, starts_at=ny(TUESDAY, 14), online=True
    )


def test_the_personal_link_shows_the_appointment_and_nothing_about_the_client(client, booked):
    response = client.get(manage_url(booked))

    body = text(response)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store" and response["X-Robots-Tag"] == "noindex"
    assert "In-store try-on" in body and "Tue 8 Dec at 14:00" in body
    assert "Sofia" in body and "Marchetti" not in body
    assert "SoHo, 120 Prince St, 10012 New York" in body
    assert "Claire" not in body and "claire@example.com" not in body
    assert f'href="{manage_url(booked, "move")}"' in body
    assert f'href="{manage_url(booked, "cancel")}"' in body


def test_an_unknown_token_is_a_404_that_says_nothing(client, booked):
    for url in (
        "/my-appointment/not-a-token/",
        "/my-appointment/not-a-token/cancel/",
        "/my-appointment/not-a-token/move/",
        "/my-appointment/not-a-token/move/confirm/",
        "/my-appointment/not-a-token/booked/",
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert "Claire" not in text(response) and "try-on" not in text(response).lower()
    assert client.post("/my-appointment/not-a-token/cancel/").status_code == 404
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED


def test_a_client_cancels_through_their_link_after_a_confirm_step(client, booked):
    confirm = client.get(manage_url(booked, "cancel"))
    assert confirm.status_code == 200 and "Yes, cancel it" in text(confirm)
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED  # the GET changes nothing

    response = client.post(manage_url(booked, "cancel"), {"reason": "Flight moved"})

    assert response.status_code == 302 and response["Location"] == manage_url(booked)
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELLED
    assert booked.cancel_reason == "Flight moved"
    reminders = Message.objects.filter(purpose="appointment_reminder")
    assert {m.status for m in reminders} == {Message.Status.SUPPRESSED}
    body = text(client.get(manage_url(booked)))
    assert "Your appointment is cancelled" in body and "This appointment is cancelled" in body
    assert client.get(manage_url(booked, "booked"))["Location"] == manage_url(booked)
    assert manage_url(booked, "move") not in body and manage_url(booked, "cancel") not in body


def test_a_cancel_without_a_reason_is_fine(client, booked):
    client.post(manage_url(booked, "cancel"), {})
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELLED
    assert booked.cancel_reason == "Cancelled by the client"


def test_a_client_moves_their_appointment_to_another_free_time(client, booked, sofia):
    times = client.get(manage_url(booked, "move") + "?day=2026-12-09")
    assert times.status_code == 200
    assert "Move your in-store try-on" in text(times) and "Times on Wed 9 Dec" in text(times)
    own = client.get(manage_url(booked, "move") + "?day=2026-12-08")
    assert ">14:00</a>" in own.content.decode()  # its own time counts as free
    pick = links(times, manage_url(booked, "move/confirm"))[0]
    assert quote(key(sofia, ny(TUESDAY + datetime.timedelta(1), 10)), safe="") in pick

    confirm = client.get(pick)
    assert "Wed 9 Dec at 10:00" in text(confirm) and "Tue 8 Dec at 14:00" in text(confirm)
    booked.refresh_from_db()
    assert booked.starts_at == ny(TUESDAY, 14)

    response = client.post(
        manage_url(booked, "move/confirm"),
        {"slot": key(sofia, ny(TUESDAY + datetime.timedelta(1), 10)), "stylist": ""},
    )

    assert response.status_code == 302 and response["Location"] == manage_url(booked)
    booked.refresh_from_db()
    assert booked.starts_at == ny(TUESDAY + datetime.timedelta(1), 10)
    assert booked.revision == 2
    assert Message.objects.filter(purpose="appointment_moved").exists()
    assert "moved to Wed 9 Dec at 10:00" in text(client.get(manage_url(booked)))


def test_the_move_times_of_another_day_come_as_a_partial_for_htmx(client, booked):
    response = client.get(manage_url(booked, "move") + "?day=2026-12-10", HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert "<html" not in body and body.strip().startswith('<section id="booking-times"')
    assert "Times on Thu 10 Dec" in body
    assert f'href="{manage_url(booked, "move/confirm")}?slot=' in body
    assert response["Cache-Control"] == "no-store"


def test_a_move_keeps_the_stylist_when_several_are_free(client, booked, sofia, maya):
    times = client.get(manage_url(booked, "move") + "?day=2026-12-09")
    pick = links(times, manage_url(booked, "move/confirm"))[0]
    assert quote(key(sofia, ny(TUESDAY + datetime.timedelta(1), 10)), safe="") in pick


def test_moving_to_a_time_taken_meanwhile_shows_the_days_times_again(client, booked, try_on, sofia):
    wednesday = TUESDAY + datetime.timedelta(1)
    services.appointment_book(
        customer=CustomerFactory(home_store=booked.store),
        kind=try_on,
        stylist=sofia,
        starts_at=ny(wednesday, 10),
    )

    response = client.post(
        manage_url(booked, "move/confirm"), {"slot": key(sofia, ny(wednesday, 10))}
    )

    body = text(response)
    assert response.status_code == 200
    assert "that time is no longer free" in body and "Times on Wed 9 Dec" in body
    assert ">10:00</a>" not in response.content.decode()
    booked.refresh_from_db()
    assert booked.starts_at == ny(TUESDAY, 14) and booked.revision == 1


@pytest.mark.parametrize(
    "slot",
    [
        "",
        "garbage",
        "5@2026-12-09T15:00:00",
        "{sofia}@2026-12-09T15:07:00+00:00",
        "{sofia}@0001-01-01T00:00:00+01:00",
    ],
)
def test_a_bad_move_gets_a_sentence_and_the_times_again(client, booked, sofia, slot):
    for response in (
        client.get(
            manage_url(booked, "move/confirm") + "?slot=" + quote(slot.format(sofia=sofia.pk))
        ),
        client.post(manage_url(booked, "move/confirm"), {"slot": slot.format(sofia=sofia.pk)}),
    ):
        assert response.status_code == 200
        assert "Choose" in text(response)
    booked.refresh_from_db()
    assert booked.starts_at == ny(TUESDAY, 14) and booked.revision == 1


@pytest.mark.parametrize("status", ["completed", "checked_in", "no_show", "cancelled"])
def test_cancel_and_move_are_refused_once_the_appointment_is_no_longer_expected(
    client, booked, sofia, status
):
    Appointment.objects.filter(pk=booked.pk).update(
        status=status, cancelled_at=booked.starts_at if status == "cancelled" else None
    )
    slot = key(sofia, ny(TUESDAY + datetime.timedelta(1), 10))

    responses = [
        client.get(manage_url(booked, "cancel")),
        client.post(manage_url(booked, "cancel"), {"reason": "x"}),
        client.get(manage_url(booked, "move")),
        client.post(manage_url(booked, "move/confirm"), {"slot": slot}),
    ]

    assert all(r.status_code == 302 and r["Location"] == manage_url(booked) for r in responses)
    booked.refresh_from_db()
    assert booked.status == status and booked.starts_at == ny(TUESDAY, 14)
    body = text(client.get(manage_url(booked)))
    assert "can no longer be" in body
    assert manage_url(booked, "move") not in body and manage_url(booked, "cancel") not in body


def test_an_appointment_whose_time_has_passed_can_no_longer_be_changed(
    client, booked, at_monday_morning
):
    at_monday_morning.move_to(ny(TUESDAY, 16))

    response = client.post(manage_url(booked, "cancel"), {})

    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED
    body = text(client.get(manage_url(booked)))
    assert "Its time has passed" in body and "has passed" in body


def test_changes_through_a_link_are_rate_limited_per_link(
    client, booked, store, try_on, sofia, settings
):
    settings.BOOKING_MANAGE_RATE = "1/h"
    wednesday = TUESDAY + datetime.timedelta(1)
    first = client.post(manage_url(booked, "move/confirm"), {"slot": key(sofia, ny(wednesday, 10))})

    limited = Client(REMOTE_ADDR="10.0.0.42").post(manage_url(booked, "cancel"), {})

    assert first.status_code == 302
    assert limited.status_code == 429 and "nothing was changed" in text(limited)
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED and booked.revision == 2
    other = services.appointment_book(
        customer=CustomerFactory(home_store=store),
        kind=try_on,
        stylist=sofia,
        starts_at=ny(TUESDAY, 10),
    )
    assert client.post(manage_url(other, "cancel"), {}).status_code == 302
