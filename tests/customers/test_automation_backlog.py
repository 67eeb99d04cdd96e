"""Switching an automation on does not blast the backlog: it sends for reasons opened
since, unless the manager ticks "include the backlog"; the admin says how many it reaches."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from customers.models import AutomationRule, Message, Reason
from customers.services import automation_reach, automation_rule_save, automations_run
from tests.factories import (
    AutomationRuleFactory,
    CustomerFactory,
    MessageTemplateFactory,
    ReasonFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2026, 12, 7, 15, 0, tzinfo=datetime.UTC)
LAST_WEEK = TODAY - datetime.timedelta(days=7)


@pytest.fixture
def now():
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


def _reason_opened(at, store, kind=Reason.Kind.THANK_YOU):
    with time_machine.travel(at, tick=False):
        return ReasonFactory(
            customer=CustomerFactory(home_store=store), kind=kind, due_on=at.date()
        )


def _rule_switched_on(**extra) -> AutomationRule:
    rule = AutomationRuleFactory(
        reason_kind="thank_you", is_active=False, template=MessageTemplateFactory(), **extra
    )
    rule.is_active = True
    return automation_rule_save(rule=rule, was_sending=False)


def test_a_rule_switched_on_today_skips_last_weeks_reasons_and_sends_for_new_ones(now, store):
    old = _reason_opened(LAST_WEEK, store)
    rule = _rule_switched_on()
    assert rule.enabled_at == TODAY
    assert automations_run() == {"queued": 0}

    now.shift(datetime.timedelta(hours=1))
    new = _reason_opened(timezone.now(), store)
    assert automations_run() == {"queued": 1}
    assert list(Message.objects.values_list("reason", flat=True)) == [new.pk]
    assert not old.messages.exists()


def test_a_rule_that_includes_the_backlog_sends_for_last_weeks_reasons(now, store):
    old = _reason_opened(LAST_WEEK, store)
    _rule_switched_on(include_backlog=True)
    assert automations_run() == {"queued": 1}
    assert old.messages.count() == 1


def test_switching_off_and_on_again_starts_afresh(now, store):
    rule = _rule_switched_on(include_backlog=True)
    rule.is_active = False
    automation_rule_save(rule=rule, was_sending=True)
    rule.refresh_from_db()
    assert (rule.enabled_at, rule.include_backlog) == (None, False)

    now.shift(datetime.timedelta(days=2))
    waiting = _reason_opened(timezone.now() - datetime.timedelta(hours=1), store)
    rule.is_active = True
    automation_rule_save(rule=rule, was_sending=False)
    assert rule.enabled_at == TODAY + datetime.timedelta(days=2)
    assert automations_run() == {"queued": 0}
    assert not waiting.messages.exists()


def test_an_edit_of_a_rule_already_on_keeps_when_it_was_switched_on(now, store):
    rule = _rule_switched_on()
    now.shift(datetime.timedelta(days=1))
    rule.delay_hours = 24
    automation_rule_save(rule=rule, was_sending=True)
    assert rule.enabled_at == TODAY


def test_a_rule_sending_before_switch_on_times_existed_keeps_its_reasons(now, store):
    # Rules that sent before `enabled_at` existed have none: they send as they did.
    _reason_opened(LAST_WEEK, store)
    AutomationRuleFactory(reason_kind="thank_you", template=MessageTemplateFactory())
    assert automations_run() == {"queued": 1}


def test_the_reach_counts_clients_like_the_run_without_sending(now, store):
    _reason_opened(LAST_WEEK, store)
    _reason_opened(LAST_WEEK, store)
    rule = AutomationRuleFactory(
        reason_kind="thank_you", is_active=False, template=MessageTemplateFactory()
    )
    assert automation_reach(rule) == automation_reach(rule).__class__(now=0, backlog=2)
    rule.include_backlog = True
    assert automation_reach(rule).now == 2
    assert not Message.objects.exists()


def test_the_admin_shows_how_many_clients_a_rule_would_reach_and_switches_it_on(client, now, store):
    _reason_opened(LAST_WEEK, store)
    _reason_opened(LAST_WEEK, store)
    template = MessageTemplateFactory()
    rule = AutomationRuleFactory(reason_kind="thank_you", is_active=False, template=template)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:customers_automationrule_change", args=[rule.pk])

    page = " ".join(client.get(url).content.decode().split())
    assert "would reach now" in page.lower()
    assert "0 clients if switched on now" in page
    assert "2 more had a reason open before it was switched on" in page
    assert "2 clients would get a message now" in page  # the backlog box's help

    form = {
        "reason_kind": "thank_you",
        "mode": "send",
        "delay_hours": "0",
        "channel": "preferred",
        "template": str(template.pk),
        "is_marketing": "on",
        "is_active": "on",
        "holdout_percent": "0",
        "pause_after_days": "30",
    }
    response = client.post(url, form, follow=True)
    assert response.status_code == 200
    shown = " ".join(str(message) for message in response.context["messages"])
    assert "it would reach 0 clients now" in shown
    assert "2 with a reason already open are left out" in shown
    rule.refresh_from_db()
    assert (rule.is_active, rule.enabled_at, rule.include_backlog) == (True, TODAY, False)
    assert automations_run() == {"queued": 0}

    form["include_backlog"] = "on"
    client.post(url, form)
    rule.refresh_from_db()
    assert (rule.enabled_at, rule.include_backlog) == (TODAY, True)
    page = " ".join(client.get(url).content.decode().split())
    assert "2 clients now" in page
    assert automations_run() == {"queued": 2}
