"""A manager of one store, signed in for real, cannot reach another store's client: not
by URL, not by search, not in the admin, not through the API."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, login
from tests.factories import PASSWORD, CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_cannot_reach_another_stores_client(
    page, live_server, manager, store, other_store
):
    manager.user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="customers", codename__regex=r"^(view|change)_"
        )
    )
    mine = CustomerFactory(home_store=store, first_name="Hélène", last_name="Homegrown")
    stranger = CustomerFactory(home_store=other_store, first_name="Zoé", last_name="Faraway")

    login(page, live_server, "charlie", PASSWORD)
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()

    # By URL: the card of another store's client is not found.
    response = page.goto(f"{live_server.url}/clients/{stranger.pk}/")
    assert response.status == 404
    assert "Faraway" not in page.content()

    # By search, store-wide: only the store's own client comes up.
    page.goto(f"{live_server.url}/clients/?scope=store")
    page.get_by_role("searchbox", name="Search clients").fill("Homegrown")
    expect(page.locator("#results").get_by_role("link", name="Hélène Homegrown")).to_be_visible()
    page.get_by_role("searchbox", name="Search clients").fill("Faraway")
    expect(page.locator("#results").get_by_role("link", name="Hélène Homegrown")).to_have_count(0)
    assert page.locator(f'#results a[href="/clients/{stranger.pk}/"]').count() == 0

    # In the admin: their own client opens, the other store's does not exist for them.
    page.goto(f"{live_server.url}/admin/customers/customer/{mine.pk}/change/")
    expect(page.get_by_role("heading", name="Hélène Homegrown")).to_be_visible()
    page.goto(f"{live_server.url}/admin/customers/customer/{stranger.pk}/change/")
    expect(page.get_by_text("doesn’t exist. Perhaps it was deleted?")).to_be_visible()
    page.goto(f"{live_server.url}/admin/customers/customer/?q=Faraway")
    assert (
        "Faraway" not in page.locator("#result_list").inner_text()
        if page.locator("#result_list").count()
        else True
    )

    # Through the API, with the same session: 404, nothing of theirs.
    api = page.request.get(f"{live_server.url}/api/v1/customers/{stranger.pk}/export/")
    assert api.status == 404
    assert "Faraway" not in api.text()
    own = page.request.get(f"{live_server.url}/api/v1/customers/{mine.pk}/export/")
    assert own.status == 200 and "Homegrown" in own.text()


def test_an_associate_probing_other_stores_alerts_their_manager_on_today(
    browser, live_server, associate, manager, other_store, settings
):
    settings.SECURITY_REFUSALS_ALERT_AFTER = 3
    strangers = [CustomerFactory(home_store=other_store) for _ in range(4)]

    # The associate tries four cards of another store by URL: each is simply not found.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = phone.new_page()
    login(page, live_server, associate.user.username, PASSWORD)
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    for stranger in strangers:
        assert page.goto(f"{live_server.url}/clients/{stranger.pk}/").status == 404
    phone.close()

    # Their manager's Today says so, on a phone and a tablet, with the way to the admin.
    for size in ({"width": 390, "height": 844}, {"width": 1024, "height": 1366}):
        context = browser.new_context(viewport=size, has_touch=True)
        page = context.new_page()
        login(page, live_server, "charlie", PASSWORD)
        alert = page.get_by_role("alert").filter(has_text="Access to check")
        expect(alert).to_contain_text(associate.user.get_full_name())
        expect(alert).to_contain_text("asked for 4 records of other stores")
        expect(alert.get_by_role("link", name="Review in the admin")).to_be_visible()
        assert axe_violations(page) == []
        page.screenshot(
            path=f"test-artifacts/screens/today-security-alert-{size['width']}.png", full_page=True
        )
        context.close()
