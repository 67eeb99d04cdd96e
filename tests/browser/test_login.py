"""First browser walk: an associate signs in on a phone and lands on Today."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, login, small_touch_targets
from tests.factories import PASSWORD, CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_associate_signs_in_on_a_phone_and_sees_today(page, live_server, associate, store):
    claire = CustomerFactory(
        first_name="Claire", last_name="Dubois", home_store=store, assigned_associate=associate
    )
    OrderFactory(customer=claire, placed_at=timezone.now() - datetime.timedelta(days=2))

    login(page, live_server, "alice", "wrong password")
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    assert axe_violations(page) == []
    assert small_touch_targets(page) == []

    login(page, live_server, "alice", PASSWORD)

    expect(page.get_by_role("heading", name="Today")).to_be_visible()
    expect(page.get_by_text("Claire Dubois")).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Today")
    ).to_have_attribute("aria-current", "page")
    assert axe_violations(page) == []
    assert small_touch_targets(page) == []
    # Nothing overflows sideways on a 390 px wide phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_signing_out_ends_the_session(page, live_server, associate):
    login(page, live_server, "alice", PASSWORD)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/")
