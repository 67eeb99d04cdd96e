"""Fitting rooms, end to end: the room tablet pages, the associate's phone rings within 2 s,
the associate takes it, the tablet says who is coming. Two browser contexts, one server."""

from __future__ import annotations

import datetime
import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Page
from tests.browser.conftest import axe_violations, login, small_touch_targets
from tests.factories import (
    PASSWORD,
    CustomerFactory,
    ProductFactory,
    ReservationFactory,
    RoomFactory,
    StaffMemberFactory,
    StagedItemFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

TABLET = {"width": 1024, "height": 1366}
# Counts every vibration the page asks for (headless chromium has no motor).
RECORD_VIBRATIONS = """
window.__vibrations = [];
Object.defineProperty(navigator, "vibrate", {
  configurable: true,
  value: (pattern) => { window.__vibrations.push(pattern); return true; },
});
"""


@pytest.fixture
def ava(store):
    return StaffMemberFactory(
        user__username="ava", user__first_name="Ava", user__last_name="Stone", store=store
    )


@pytest.fixture
def tablet(browser, live_server):
    context = browser.new_context(viewport=TABLET, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def test_the_tablet_pages_ava_who_takes_it_and_the_tablet_says_she_is_coming(
    page, tablet, live_server, ava, store
):
    room = RoomFactory(store=store, name="Room 3")
    phone = page
    phone.add_init_script(RECORD_VIBRATIONS)

    # Ava brings a client to Room 3 from her phone.
    login(phone, live_server, "ava", PASSWORD)
    phone.get_by_role("navigation", name="Main").get_by_role("link", name="Rooms").click()
    expect(phone.get_by_role("heading", name="Fitting rooms")).to_be_visible()
    assert axe_violations(phone) == []
    assert small_touch_targets(phone) == []
    phone.get_by_role("link", name=re.compile("Room 3")).click()
    phone.get_by_role("button", name="I'm bringing a client here").click()
    expect(phone.get_by_role("status").first).to_contain_text("Room 3 is yours")
    assert axe_violations(phone) == []
    assert small_touch_targets(phone) == []
    phone.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    pager = phone.locator("#pager")
    expect(pager).to_contain_text("No client is waiting for you")
    phone.locator("body").click()  # a first tap: browsers allow sound and vibration after one

    # The client asks for another size on the room's tablet.
    tablet.goto(f"{live_server.url}/fitting-room/{room.tablet_token}/")
    expect(tablet.get_by_role("heading", name="Room 3")).to_be_visible()
    assert axe_violations(tablet) == []
    assert small_touch_targets(tablet, "main button, main input, main summary") == []
    tablet.get_by_text("Name the item and size (optional)").click()
    tablet.get_by_label("Size you would like").fill("38")
    tablet.get_by_role("button", name="Another size").click()
    sent_at = time.monotonic()
    expect(tablet.locator("#tablet-status")).to_contain_text("Sent")

    # Ava's phone shows it within 2 s, without a reload, and vibrates.
    expect(pager.get_by_text("Room 3", exact=True)).to_be_visible(timeout=2000)
    assert time.monotonic() - sent_at < 2.0
    expect(pager).to_contain_text("Another size")
    expect(pager).to_contain_text("size 38")
    expect(phone.locator("#pager-status")).to_have_text("New page: Room 3, Another size.")
    assert phone.evaluate("window.__vibrations.length") >= 1
    assert axe_violations(phone) == []

    phone.get_by_role("button", name="I'm on it for Room 3, another size").click()
    expect(pager.get_by_role("status")).to_contain_text("You're on it: Room 3, another size.")
    page_row = Page.objects.get()
    assert page_row.acknowledged_by == ava

    # The tablet learns who is coming by itself.
    expect(tablet.locator("#tablet-status")).to_contain_text("Ava is coming", timeout=5000)
    assert "Stone" not in tablet.content()

    phone.get_by_role("button", name="Done for Room 3, another size").click()
    expect(pager).to_contain_text("No client is waiting for you")
    expect(tablet.locator("#tablet-status")).to_contain_text("Done", timeout=5000)


def test_a_page_for_everyone_rings_on_both_phones_and_the_slower_learns_who_took_it(
    browser, page, live_server, ava, store
):
    """Nobody brought the client: every phone rings; the slower associate is told who took it."""
    from appointments import services

    room = RoomFactory(store=store, name="Room 5")
    marcus_staff = StaffMemberFactory(
        user__username="marcus", user__first_name="Marcus", store=store
    )
    other = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    marcus = other.new_page()
    for phone, username in ((page, "ava"), (marcus, "marcus")):
        login(phone, live_server, username, PASSWORD)
        expect(phone.locator("#pager")).to_contain_text("No client is waiting")

    services.page_send(room=room, kind=Page.Kind.HELP)
    for phone in (page, marcus):
        expect(phone.locator("#pager")).to_contain_text("Room 5", timeout=2000)

    # Ava's phone goes quiet (no more polls), as if her Wi-Fi dropped: her button is stale.
    page.evaluate(
        """document.body.addEventListener("htmx:beforeRequest", (event) => {
             if (event.detail.requestConfig.verb === "get") event.preventDefault();
           })"""
    )
    marcus.get_by_role("button", name="I'm on it for Room 5, help").click()
    expect(marcus.locator("#pager").get_by_role("status")).to_contain_text("You're on it")
    page.get_by_role("button", name="I'm on it for Room 5, help").click()
    expect(page.locator("#pager").get_by_role("status")).to_have_text(
        f"{marcus_staff.display_name} is on it."
    )
    expect(page.locator("#pager")).not_to_contain_text("Room 5")
    assert Page.objects.get().acknowledged_by == marcus_staff
    other.close()


def test_reserve_a_room_and_stage_the_items_on_a_phone(page, live_server, ava, store):
    room = RoomFactory(store=store, name="Room 3")
    CustomerFactory(first_name="Claire", last_name="Dubois", home_store=store)
    ProductFactory(sku="DRS-38", name="Silk wrap dress")
    login(page, live_server, "ava", PASSWORD)
    page.goto(f"{live_server.url}/rooms/{room.pk}/")
    page.get_by_role("link", name="Reserve").click()
    expect(page.get_by_role("heading", name="Reserve a fitting room")).to_be_visible()
    assert axe_violations(page) == []
    assert small_touch_targets(page, "main a, main button, main input, main select") == []

    page.get_by_label("Client").fill("claire dubois")
    page.get_by_label("From").fill("10:00")
    page.get_by_label("To").fill("09:00")
    page.get_by_role("button", name="Reserve").click()
    expect(page.get_by_text("The end must come after the start.")).to_be_visible()
    page.get_by_label("To").fill("11:00")
    tomorrow = timezone.localdate(timezone=store.zone) + datetime.timedelta(days=1)
    page.get_by_label("Date").fill(tomorrow.isoformat())
    page.get_by_role("button", name="Reserve").click()

    expect(page.get_by_role("heading", name=re.compile("Room 3, "))).to_be_visible()
    expect(page.get_by_role("link", name="Claire Dubois")).to_be_visible()
    page.get_by_label("SKU").fill("DRS-38")
    page.get_by_label("Size").fill("38")
    page.get_by_role("button", name="Add to the list").click()
    item = page.get_by_role("button", name=re.compile("Silk wrap dress · 38"))
    expect(item).to_have_attribute("aria-pressed", "false")
    item.click()
    expect(page.get_by_role("button", name=re.compile("Silk wrap dress · 38"))).to_have_attribute(
        "aria-pressed", "true"
    )
    assert axe_violations(page) == []
    assert small_touch_targets(page, "main a, main button, main input") == []


def test_the_tablet_at_phone_size_offers_the_staged_items(page, live_server, store, ava):
    room = RoomFactory(store=store, name="Room 3")
    reservation = ReservationFactory(
        room=room, starts_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    StagedItemFactory(reservation=reservation, product__name="Silk wrap dress", size="38")
    page.goto(f"{live_server.url}/fitting-room/{room.tablet_token}/")
    page.get_by_text("Name the item and size (optional)").click()
    page.get_by_text("Silk wrap dress · 38").click()
    page.get_by_label("Size you would like").fill("40")
    assert axe_violations(page) == []
    assert small_touch_targets(page, "main button, main input, main summary") == []
    page.get_by_role("button", name="Another size").click()
    expect(page.locator("#tablet-status")).to_contain_text("Silk wrap dress · size 40")
    assert Page.objects.get().target is None  # nobody brought this client: everyone is paged
