"""Snooze or dismiss a reason from Today on a phone: the row's menu opens with one tap, one
tap more and the row is gone; it is accessible, every target is finger-sized, nothing
spills off the screen; without JavaScript the same menu works as plain forms."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from customers.models import Customer, Reason
from tests.browser.conftest import ROOT, axe_violations, login, small_touch_targets
from tests.factories import (
    PASSWORD,
    CustomerFactory,
    ProductFactory,
    ReasonFactory,
    RecommendationFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {
    "phone": {"width": 390, "height": 844},
    "tablet": {"width": 1024, "height": 1366},
}
SCREENS = ROOT / "test-artifacts" / "screens"

# The menu's panel, and everything in it, within the screen.
OFF_SCREEN = """() => [...document.querySelectorAll('details.row-menu[open] .menu-panel, details.row-menu[open] .menu-panel *')]
  .map(el => [el, el.getBoundingClientRect()])
  .filter(([el, r]) => r.width && (r.left < 0 || r.right > innerWidth))
  .map(([el, r]) => `${el.tagName} "${(el.innerText || '').trim().slice(0, 30)}" ${Math.round(r.left)}-${Math.round(r.right)}`)"""


@pytest.fixture
def today(store, associate):
    claire = CustomerFactory(
        first_name="Claire", last_name="Dubois", home_store=store, assigned_associate=associate
    )
    maya = CustomerFactory(
        first_name="Maya", last_name="Laurent", home_store=store, assigned_associate=associate
    )
    nina = CustomerFactory(
        first_name="Nina", last_name="Roux", home_store=store, assigned_associate=None
    )
    serum = ProductFactory(name="Rose serum")
    RecommendationFactory(customer=maya, rank=1, product__name="Lou Lace midi dress")
    return {
        "claire": claire,
        "nina": nina,
        "birthday": ReasonFactory(
            customer=claire,
            kind="birthday",
            why="Claire's birthday is on Friday 11 December (in 5 days).",
            score=80,
        ),
        "serum": ReasonFactory(
            customer=maya,
            kind="replenishment",
            product=serum,
            why="Maya bought Rose serum on 7 Nov: it lasts about 30 days, so it runs out around Mon 7 Dec.",
            score=70,
        ),
        "cart": ReasonFactory(
            customer=nina,
            kind="cart_abandoned",
            product=ProductFactory(name="Tote bag"),
            why="Nina left Tote bag in their cart on Sat 05 Dec without buying it.",
            score=60,
        ),
    }


def _open(browser, live_server, size: str, *, javascript: bool = True):
    context = browser.new_context(
        viewport=SIZES[size],
        has_touch=True,
        is_mobile=size == "phone",
        java_script_enabled=javascript,
    )
    page = context.new_page()
    login(page, live_server, "alice", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    return context, page


def _shoot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(SCREENS, f"{name}.png")), full_page=True)


def test_snooze_a_reason_from_today_in_one_tap(browser, live_server, today):
    context, page = _open(browser, live_server, "phone")
    try:
        assert axe_violations(page) == []
        assert small_touch_targets(page) == []
        row = page.locator("li.reason", has_text="Claire Dubois")
        row.locator("summary").tap()
        menu = row.locator(".menu-panel")
        expect(menu).to_be_visible()
        # The choices load when the menu opens (htmx), in place of the link to their page.
        expect(menu.get_by_role("button", name="Tomorrow")).to_be_visible()
        expect(menu.get_by_role("link", name="Snooze or dismiss")).to_have_count(0)
        assert page.evaluate(OFF_SCREEN) == []
        assert axe_violations(page) == []
        assert small_touch_targets(page) == []
        _shoot(page, "phone-alice-today-reason-menu")

        heading = row.evaluate("li => li.closest('.group').getAttribute('aria-labelledby')")
        group = page.locator(f'section[aria-labelledby="{heading}"]')
        before = int(group.locator("[data-count-rows]").inner_text())
        row.get_by_role("button", name="Tomorrow").tap()

        expect(page.locator("li.reason", has_text="Claire Dubois")).to_have_count(0)
        expect(page.locator("#reason-status")).to_contain_text("Claire: back on")
        # The group's count in its heading follows the row that went away.
        expect(group.locator("[data-count-rows]")).to_have_text(str(before - 1))
        today["birthday"].refresh_from_db()
        assert today["birthday"].state == Reason.State.SNOOZED
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.reload()
        expect(page.locator("li.reason", has_text="Claire Dubois")).to_have_count(0)
        expect(page.locator("li.reason", has_text="Maya Laurent")).to_have_count(1)
    finally:
        context.close()


def test_dismiss_from_the_card_and_claim_from_the_store_queue(browser, live_server, today):
    context, page = _open(browser, live_server, "phone")
    try:
        # The store queue: Nina bought online, nobody looks after her.
        queue = page.locator("section.group", has=page.locator("#queue-heading"))
        expect(queue.locator("details > summary").first).to_contain_text("Store queue 1")
        expect(page.locator("li.reason", has_text="Maya Laurent")).to_contain_text(
            "Suggest: Rose serum"
        )
        row = queue.locator("li.reason", has_text="Nina Roux")
        row.locator("summary").tap()
        row.get_by_role("button", name="Claim: Nina becomes my client").tap()
        page.wait_for_load_state("networkidle")
        expect(page.locator("#queue-heading")).to_have_count(0)
        expect(page.locator("#reasons-heading")).to_be_visible()
        expect(page.locator("li.reason", has_text="Nina Roux")).to_have_count(1)
        assert Customer.objects.get(pk=today["nina"].pk).assigned_associate.user.username == (
            "alice"
        )

        page.goto(f"{live_server.url}/clients/{today['claire'].pk}/")
        row = page.locator("li.reason", has_text="birthday")
        row.locator("summary").tap()
        expect(row.get_by_role("button", name="Already in touch")).to_be_visible()
        assert page.evaluate(OFF_SCREEN) == []
        assert axe_violations(page) == []
        assert small_touch_targets(page) == []
        row.get_by_role("button", name="Already in touch").tap()
        expect(page.locator("li.reason", has_text="birthday")).to_have_count(0)
        today["birthday"].refresh_from_db()
        assert (today["birthday"].state, today["birthday"].closed_note) == (
            "dismissed",
            "Already in touch",
        )
    finally:
        context.close()


def test_without_javascript_a_past_day_is_a_form_error_then_a_snooze(browser, live_server, today):
    context, page = _open(browser, live_server, "phone", javascript=False)
    try:
        row = page.locator("li.reason", has_text="Claire Dubois")
        row.locator("summary").tap()
        # Without JS the menu's choices are a page of their own, one tap away.
        row.get_by_role("link", name="Snooze or dismiss").tap()
        page.get_by_label("Pick a date to snooze Claire's reason until").fill("2020-01-01")
        page.get_by_role("button", name="Snooze", exact=True).tap()
        expect(page.get_by_role("alert")).to_contain_text("Pick a day after today.")
        today["birthday"].refresh_from_db()
        assert today["birthday"].state == Reason.State.OPEN
        page.get_by_role("button", name="Next week").tap()
        page.wait_for_url(f"{live_server.url}/")
        expect(page.locator("li.reason", has_text="Claire Dubois")).to_have_count(0)
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_today_and_the_card_with_their_reason_menus_fit_the_screen(
    browser, live_server, today, size
):
    context, page = _open(browser, live_server, size)
    width = SIZES[size]["width"]
    try:
        for name, path in {
            "today": "/",
            "card": f"/clients/{today['claire'].pk}/",
        }.items():
            page.goto(f"{live_server.url}{path}")
            _shoot(page, f"{size}-alice-{name}-reasons")
            page.locator("li.reason details.row-menu > summary").first.click()
            expect(page.locator("details.row-menu[open] .menu-panel form").first).to_be_visible()
            assert page.evaluate(OFF_SCREEN) == []
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            _shoot(page, f"{size}-alice-{name}-reason-menu")
            assert axe_violations(page) == []
            assert small_touch_targets(page) == []
    finally:
        context.close()
