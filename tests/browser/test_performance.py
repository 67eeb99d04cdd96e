"""The managers' performance page on a phone: readable, accessible, no CSP violation, and
the period presets and custom dates swap the figures in place with the URL following."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Message
from tests.browser.conftest import axe_violations, login, small_touch_targets
from tests.factories import (
    PASSWORD,
    AutomationRuleFactory,
    ContactFactory,
    CustomerFactory,
    MessageFactory,
    MessageTemplateFactory,
    MessageTemplateVariantFactory,
    OrderFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def month(store, associate, manager):
    now = timezone.now()
    template = MessageTemplateFactory(name="Thank-you test")
    for letter in "AB":
        MessageTemplateVariantFactory(template=template, letter=letter)
    AutomationRuleFactory(reason_kind="thank_you", template=template)
    for index in range(6):
        client = CustomerFactory(
            first_name=f"Client{index}", home_store=store, assigned_associate=associate
        )
        ContactFactory(
            customer=client, staff=associate.user, occurred_at=now - datetime.timedelta(days=3)
        )
        MessageFactory(
            customer=client,
            status=Message.Status.SENT,
            sent_at=now - datetime.timedelta(days=20 - index),
            template=template,
            variant="AB"[index % 2],
            purpose="thank_you",
        )
        OrderFactory(
            customer=client,
            placed_at=now - datetime.timedelta(days=1),
            total=Decimal("250.00"),
            subtotal=Decimal("250.00"),
        )


def test_a_manager_reads_the_performance_page_on_a_phone(page, live_server, manager, month):
    login(page, live_server, "charlie", PASSWORD)
    page.get_by_role("link", name="Performance").click()

    expect(page.get_by_role("heading", name="Performance", exact=True)).to_be_visible()
    expect(page.get_by_role("img", name="Sales attributed to outreach, per week")).to_be_visible()
    expect(page.get_by_text("Thank-you test")).to_be_visible()
    period = page.get_by_role("navigation", name="Period")
    expect(period.get_by_role("link", name="30 days")).to_have_attribute("aria-current", "page")
    assert axe_violations(page) == []
    assert small_touch_targets(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # A preset swaps the figures in place (no full load: the marker survives) and the
    # address follows, so back and sharing work.
    page.evaluate("window.__stillHere = true")
    period.get_by_role("link", name="7 days").click()
    expect(page).to_have_url(re.compile(r"/performance/\?days=7$"))
    expect(period.get_by_role("link", name="7 days")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("img", name="Sales attributed to outreach, per day")).to_be_visible()
    assert page.evaluate("window.__stillHere") is True

    today = timezone.localdate(timezone=manager.store.zone)
    page.get_by_label("From", exact=True).fill((today - datetime.timedelta(days=2)).isoformat())
    page.get_by_label("To", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"start=.*&end="))
    expect(page.get_by_role("heading", level=2, name=re.compile(r"^SoHo, "))).to_contain_text(
        f"{today:%-d %b %Y}"
    )
    assert page.evaluate("window.__stillHere") is True
    assert axe_violations(page) == []
    assert small_touch_targets(page) == []
