"""An associate on a phone: find a client with a typo, open the card, write and pin a note."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Note
from tests.browser.conftest import axe_violations, login, small_touch_targets
from tests.factories import (
    PASSWORD,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_search_with_a_typo_open_the_card_and_add_a_note(page, live_server, associate, store):
    claire = CustomerFactory(
        first_name="Claire",
        last_name="Dubois",
        home_store=store,
        assigned_associate=associate,
        lifetime_value=Decimal("25000"),
        tier="platinum",
    )
    CustomerFactory(first_name="Clara", last_name="Smith", home_store=store)
    for days in range(15):
        order = OrderFactory(
            customer=claire, placed_at=timezone.now() - datetime.timedelta(days=10 + days * 30)
        )
        OrderLineFactory(order=order, line_number=1, product=ProductFactory(name=f"Dress {days}"))

    login(page, live_server, "alice", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()
    assert axe_violations(page) == []
    assert small_touch_targets(page) == []

    page.get_by_role("searchbox", name="Search clients").fill("claire dubios")
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Claire Dubois")).to_be_visible()
    expect(page).to_have_url(
        re.compile(r"/clients/\?.*q=claire(\+|%20)dubios")
    )  # the URL follows the search

    results.get_by_role("link", name="Claire Dubois").click()
    expect(page.get_by_role("heading", name="Claire Dubois")).to_be_visible()
    # The first few purchases with the first paint; older ones as the list scrolls.
    expect(page.locator(".order")).to_have_count(3)
    # Scrolling to the last order loaded brings "older purchases" into view, which loads them.
    page.locator(".order").nth(2).scroll_into_view_if_needed()
    expect(page.locator(".order")).to_have_count(13)
    page.locator(".order").nth(12).scroll_into_view_if_needed()
    expect(page.locator(".order")).to_have_count(15)  # older history loaded on scroll
    assert axe_violations(page) == []
    assert small_touch_targets(page, "main a, main button, nav a") == []

    page.get_by_role("textbox", name="New note").fill("Wants a navy dress for a June wedding.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes")).to_contain_text("Wants a navy dress for a June wedding.")
    expect(page.get_by_role("textbox", name="New note")).to_have_value("")

    page.get_by_role("button", name="Pin", exact=True).click()
    expect(page.locator("#notes .badge")).to_have_text("Pinned")
    page.locator("#notes").get_by_role("link", name="Edit").click()
    page.get_by_role("textbox", name="Edit note").fill("Wants a navy dress for a July wedding.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#notes")).to_contain_text("July wedding")
    note = Note.objects.get()
    assert (note.text, note.pinned) == ("Wants a navy dress for a July wedding.", True)


def test_quick_add_finds_a_duplicate_then_adds_a_new_client(page, live_server, associate, store):
    CustomerFactory(first_name="Claire", last_name="Dubois", home_store=store, phone="+12125550142")
    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/clients/")
    page.get_by_role("link", name="New client").click()
    assert axe_violations(page) == []
    assert small_touch_targets(page, "main a, main button, main input") == []

    page.get_by_label("First name").fill("Claire")
    page.get_by_label("Mobile phone").fill("212 555 0142")
    page.get_by_role("group", name="by text message").get_by_label("Yes").check()
    page.get_by_role("group", name="on WhatsApp").get_by_label("No").check()
    page.get_by_role("group", name="by phone call").get_by_label("No").check()
    page.get_by_role("button", name="Add client").click()
    expect(page.get_by_role("alert")).to_contain_text("Already a client")
    expect(page.get_by_label("First name")).to_have_value("Claire")

    page.get_by_label("Mobile phone").fill("212 555 0188")
    page.get_by_label("Last name").fill("Martin")
    page.get_by_role("button", name="Add client").click()
    expect(page.get_by_role("heading", name="Claire Martin")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="is now a client")).to_contain_text(
        "Claire Martin is now a client"
    )


def test_reach_out_from_today_logs_the_contact_and_closes_the_reason(
    page, live_server, associate, store
):
    from tests.factories import ConsentEventFactory, ReasonFactory

    claire = CustomerFactory(
        first_name="Claire",
        last_name="Dubois",
        home_store=store,
        assigned_associate=associate,
        email="claire@example.com",
    )
    ConsentEventFactory(customer=claire, channel="email", granted=True)
    ReasonFactory(customer=claire, kind="thank_you", why="Spent $890 on Saturday.")

    login(page, live_server, "alice", PASSWORD)
    expect(page.get_by_text("Spent $890 on Saturday.")).to_be_visible()
    page.get_by_role("link", name="Reach out to Claire Dubois").click()
    expect(page.get_by_label("Message or note")).to_contain_text("thank you for coming in")
    expect(page.get_by_label("SMS")).to_be_disabled()
    assert axe_violations(page) == []
    page.get_by_label("Message or note").fill("Thank you for Saturday, Claire! The navy suits you.")
    page.get_by_role("button", name="Send or log").click()

    expect(page.get_by_role("heading", name="Claire Dubois")).to_be_visible()
    expect(page.get_by_role("region", name="Contact log")).to_contain_text("The navy suits you.")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    expect(page.get_by_text("No reasons waiting today.")).to_be_visible()


def test_questionnaire_end_to_end_on_the_tablet(page, live_server, associate, store):
    from tests.factories import CategoryFactory

    dresses = CategoryFactory(name="Dresses", slug="dresses")
    ProductFactory(category=dresses, sizes=["36", "38"], colour="navy")
    claire = CustomerFactory(
        first_name="Claire", last_name="Dubois", home_store=store, assigned_associate=associate
    )
    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/clients/{claire.pk}/")
    page.get_by_role("region", name="Sizes and preferences").get_by_role(
        "link", name="Update"
    ).click()
    page.get_by_role("button", name="Hand the tablet to Claire").click()

    # Hand-over mode: the client's own questions ("you"), no staff navigation.
    expect(page.get_by_role("heading", name="Which sizes fit you best?")).to_be_visible()
    expect(page.locator("nav.bottom-nav")).to_have_count(0)
    assert axe_violations(page) == []
    page.get_by_label(re.compile("^Dresses")).select_option("38")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Which colours do you love")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/preferences/colours/$"))
    assert small_touch_targets(page, "main a, main button, main input") == []
    page.get_by_role("group", name="You love").get_by_text("Navy").click()
    page.get_by_role("button", name="Next").click()
    for heading in [
        "How would you describe",
        "What do you dress for",
        "What do you come to us for",
        "Your favourite brands",
    ]:
        expect(page.get_by_role("heading", name=re.compile(heading))).to_be_visible()
        page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="How and how often")).to_be_visible()
    page.get_by_role("group", name="The best way to reach you").get_by_text("SMS").click()
    page.get_by_role("group", name="How often").get_by_text("At most once a week").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_label(re.compile("In your own words")).fill(
        "A wedding in June; I need a dress and shoes."
    )
    page.get_by_role("button", name="Finish").click()
    # A thank-you in the store's name, not the staff card; staff take the tablet back.
    expect(page.get_by_role("heading", name="Thank you, Claire")).to_be_visible()
    page.get_by_role("link", name="Staff: take the tablet back").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Claire Dubois")).to_be_visible()
    prefs = page.get_by_role("region", name="Sizes and preferences")
    expect(prefs).to_contain_text("38")
    expect(prefs).to_contain_text("Likes Navy")
    expect(prefs).to_contain_text("A wedding in June")
    expect(page.get_by_role("region", name="How to reach Claire")).to_contain_text("Prefers sms")


def test_a_client_signs_up_on_their_own_phone(page, live_server, associate, store):
    from customers.signup import signup_path

    page.goto(f"{live_server.url}{signup_path(store, associate)}")
    expect(page.get_by_role("heading", name="Welcome to SoHo")).to_be_visible()
    assert axe_violations(page) == []
    assert small_touch_targets(page, "main button, main input") == []
    page.get_by_label("First name").fill("Ines")
    page.get_by_role("textbox", name="Email").fill("ines@example.com")
    page.get_by_label(re.compile("by email")).check()
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("heading", name="Thank you, Ines!")).to_be_visible()

    login(page, live_server, "alice", PASSWORD)
    expect(page.get_by_text("Ines signed up at SoHo just now")).to_be_visible()


def test_the_client_pages_work_on_a_tablet(browser, live_server, associate, store):
    claire = CustomerFactory(
        first_name="Claire", last_name="Dubois", home_store=store, assigned_associate=associate
    )
    OrderLineFactory(
        order=OrderFactory(customer=claire),
        line_number=1,
        product=ProductFactory(name="Silk wrap dress"),
    )
    context = browser.new_context(viewport={"width": 1024, "height": 1366}, has_touch=True)
    page = context.new_page()
    try:
        login(page, live_server, "alice", PASSWORD)
        for path in [
            "/",
            "/clients/?scope=store",
            f"/clients/{claire.pk}/",
            f"/clients/{claire.pk}/conversation/",
            "/clients/new/",
        ]:
            page.goto(f"{live_server.url}{path}")
            expect(page.get_by_role("navigation", name="Main")).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 1024, path
            assert axe_violations(page) == [], path
            assert small_touch_targets(page, "main a, main button, nav a") == [], path
    finally:
        context.close()
