"""A client books a try-on on the store's public page from their phone (390x844, touch),
tapping another day on the way (htmx swaps the times), and lands on the confirmation
with their personal link. Every page passes axe-core and has finger-sized targets."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from appointments.models import Appointment
from customers.models import ConsentEvent
from customers.services import consent_wording
from tests.browser.conftest import axe_violations, small_touch_targets
from tests.factories import AppointmentKindFactory, StaffMemberFactory, working_week

pytestmark = pytest.mark.django_db(transaction=True)


def assert_accessible(page) -> None:
    assert axe_violations(page) == []
    assert small_touch_targets(page) == []


def test_a_client_books_a_try_on_on_their_phone_and_gets_their_link(page, live_server, store):
    store.address_line, store.postal_code, store.city = "120 Prince St", "10012", "New York"
    store.save()
    try_on = AppointmentKindFactory(name="In-store try-on", default_minutes=60)
    try_on.online_stores.add(store)
    for name in ("Sofia", "Maya"):
        working_week(StaffMemberFactory(store=store, role="stylist", user__first_name=name))

    page.goto(f"{live_server.url}/book/{store.code}/")
    expect(page.get_by_role("heading", name="Book an appointment")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("In-store try-on")).click()

    expect(page.get_by_role("heading", name=re.compile("^Times on "))).to_be_visible()
    assert_accessible(page)
    days = page.locator(".day-links a")
    second_day = days.nth(1)
    label = re.sub(r"\s+", " ", second_day.inner_text()).strip()
    times_before = page.locator("#booking-times")
    times_before.evaluate("element => { element.dataset.first = 'yes'; }")
    second_day.click()
    # htmx swapped the times in place (the marked region is gone, the page stayed) and
    # pushed the day's URL; booking.js moved aria-current to it.
    expect(page.get_by_role("heading", name=f"Times on {label}")).to_be_visible()
    expect(page.locator("#booking-times[data-first]")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"\?day=\d{4}-\d\d-\d\d$"))
    expect(second_day).to_have_attribute("aria-current", "date")
    expect(days.nth(0)).not_to_have_attribute("aria-current", "date")
    assert_accessible(page)
    page.locator(".time-grid a").first.click()

    expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("textbox", name="First name").fill("Jade")
    page.get_by_role("textbox", name="Email").fill("jade@example.com")
    page.get_by_label(consent_wording("email", store)).check()
    page.get_by_role("button", name="Book").click()

    expect(page.get_by_role("heading", name="You're booked")).to_be_visible()
    appointment = Appointment.objects.get()
    link = page.get_by_role(
        "link", name=f"{live_server.url}/my-appointment/{appointment.manage_token}/"
    )
    expect(link).to_be_visible()
    expect(page.get_by_text("SoHo, 120 Prince St, 10012 New York")).to_be_visible()
    assert_accessible(page)
    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.customer.first_name == "Jade"
    assert ConsentEvent.objects.get(customer=appointment.customer).source == "client"

    link.click()
    expect(page.get_by_role("heading", name="Your appointment")).to_be_visible()
    expect(page.get_by_role("link", name="Cancel it")).to_be_visible()
    assert_accessible(page)
