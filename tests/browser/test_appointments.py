"""A stylist's tablet: book a try-on from the client card at a free time with a fitting
room, then find it on the agenda and move it along."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Appointment
from tests.browser.conftest import axe_violations, login, small_touch_targets
from tests.factories import (
    PASSWORD,
    AppointmentKindFactory,
    ConsentEventFactory,
    CustomerFactory,
    RoomFactory,
    working_week,
)

pytestmark = pytest.mark.django_db(transaction=True)

TABLET = {"width": 1024, "height": 1366}


def test_book_a_try_on_from_the_card_and_find_it_on_the_agenda(
    browser, live_server, stylist, store
):
    working_week(stylist)
    AppointmentKindFactory(name="In-store try-on", default_minutes=60, uses_fitting_room=True)
    RoomFactory(store=store, name="Room 2")
    claire = CustomerFactory(first_name="Claire", last_name="Dubois", home_store=store)
    ConsentEventFactory(customer=claire, channel="email", granted=True)
    tomorrow = timezone.localtime(timezone.now(), store.zone).date() + datetime.timedelta(days=1)
    context = browser.new_context(viewport=TABLET, has_touch=True)
    page = context.new_page()
    try:
        login(page, live_server, "sofia", PASSWORD)
        page.goto(f"{live_server.url}/clients/{claire.pk}/")
        section = page.locator("#client-appointments")
        expect(section.get_by_text("Nothing booked.")).to_be_visible()  # loaded by htmx
        section.get_by_role("link", name="Book").click()

        expect(page.get_by_role("heading", name="Book Claire")).to_be_visible()
        page.locator("#id_day").fill(tomorrow.isoformat())
        page.locator("#id_day").dispatch_event("change")
        times = page.locator("#slots")
        expect(times.get_by_text(f"Free times on {tomorrow:%A} {tomorrow.day}")).to_be_visible()
        assert axe_violations(page) == []
        assert small_touch_targets(page) == []
        times.locator("label.slot-choice", has_text="14:00").click()
        page.get_by_label("Fitting room").select_option(label="Room 2")
        page.get_by_label("Items to stage").fill("A silk scarf")
        page.get_by_label("Notes for the stylist").fill("Shoes for the Lou Lace dress")
        page.get_by_role("button", name="Book", exact=True).click()

        expect(page.get_by_role("heading", name="In-store try-on")).to_be_visible()
        expect(page.get_by_text("Booked: In-store try-on for Claire")).to_be_visible()
        expect(page.get_by_text("A silk scarf")).to_be_visible()
        appointment = Appointment.objects.get()
        assert timezone.localtime(appointment.starts_at, store.zone).hour == 14
        assert appointment.reservation.room.name == "Room 2"
        assert axe_violations(page) == []

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Agenda").click()
        page.get_by_role("link", name="Next day").click()
        agenda = page.locator("#agenda")
        expect(agenda.get_by_role("link", name="14:00 – 15:00 Claire Dubois")).to_be_visible()
        assert axe_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
        agenda.get_by_role("link", name="14:00 – 15:00 Claire Dubois").click()
        page.get_by_role("button", name="Client confirmed").click()
        expect(page.get_by_text("Client confirmed.")).to_be_visible()
        appointment.refresh_from_db()
        assert appointment.status == Appointment.Status.CONFIRMED
    finally:
        context.close()
