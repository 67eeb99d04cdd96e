"""An automation's holdout: a fixed share of the clients a rule would message get nothing,
whichever path tries, and the run records who was eligible, in which group."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import Exposure, Message, Reason
from customers.services import automation_reach, automations_run
from customers.services.holdout import holdout_group
from customers.services.outreach import message_queue
from customers.services.policy import evaluate_policy
from tests.customers.test_policy import client_facts
from tests.factories import (
    AutomationRuleFactory,
    ConsentEventFactory,
    CustomerFactory,
    MessageTemplateFactory,
    ReasonFactory,
)

NOON_NY = datetime.datetime(2026, 11, 20, 17, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def at_noon():
    with time_machine.travel(NOON_NY, tick=False) as traveller:
        yield traveller


def _clients(store, count: int) -> list:
    clients = []
    for number in range(count):
        customer = CustomerFactory(
            home_store=store, first_name=f"C{number}", phone=f"+1212555{number:04d}"
        )
        ConsentEventFactory(
            customer=customer, channel="sms", granted=True, recorded_at=NOON_NY.replace(year=2025)
        )
        clients.append(customer)
    return clients


def _rule(**extra):
    return AutomationRuleFactory(
        reason_kind="thank_you",
        channel="sms",
        is_marketing=False,
        template=MessageTemplateFactory(body="Thank you {{ first_name }}."),
        **extra,
    )


def test_held_out_clients_get_no_message_and_keep_their_reason(store):
    rule = _rule(holdout_percent=30)
    clients = _clients(store, 40)
    reasons = {c.pk: ReasonFactory(customer=c, kind=Reason.Kind.THANK_YOU) for c in clients}
    expected = {
        c.pk
        for c in clients
        if holdout_group(
            customer_id=c.pk, subject="automation", subject_id=rule.pk, share_percent=30
        )
        == Exposure.Group.HOLDOUT
    }
    assert 0 < len(expected) < 40

    stats = automations_run()

    assert stats == {"queued": 40 - len(expected), "held_out": len(expected)}
    messaged = set(Message.objects.values_list("customer_id", flat=True))
    assert messaged.isdisjoint(expected)
    assert messaged | expected == {c.pk for c in clients}
    groups = dict(
        Exposure.objects.filter(subject="automation", subject_id=rule.pk).values_list(
            "customer_id", "group"
        )
    )
    assert {pk for pk, group in groups.items() if group == "holdout"} == expected
    assert len(groups) == 40
    # Their reasons stay open for the associate, as a messaged client's does.
    for pk in expected:
        reasons[pk].refresh_from_db()
        assert reasons[pk].state == Reason.State.OPEN
    # The next run neither messages them nor looks at them again.
    assert automations_run() == {"queued": 0}
    assert automation_reach(rule).now == 0
    assert Exposure.objects.count() == 40


def test_a_paused_rule_sends_nothing(store):
    _rule(paused_at=NOON_NY - datetime.timedelta(days=1), pause_reason="Below zero.")
    (client,) = _clients(store, 1)
    ReasonFactory(customer=client, kind=Reason.Kind.THANK_YOU)
    assert automations_run() == {"queued": 0}
    assert not Message.objects.exists()
    assert not Exposure.objects.exists()


def test_any_path_queueing_for_a_held_out_client_is_refused_by_the_policy(store):
    rule = _rule(holdout_percent=100)
    (client,) = _clients(store, 1)
    Exposure.objects.create(
        customer=client,
        store=store,
        subject="automation",
        subject_id=rule.pk,
        group="holdout",
        exposed_at=NOON_NY,
    )
    message = message_queue(
        customer=client,
        channel="sms",
        body="Thank you!",
        dedupe_key="elsewhere:1",
        is_marketing=False,
        offer_or_automation=("automation", rule.pk),
    )
    assert message.status == Message.Status.SUPPRESSED
    assert message.suppressed_reason == "Held out of this automation to measure what it adds."
    # The same client, a message that is not the automation's: the holdout is no gag.
    personal = message_queue(
        customer=client, channel="sms", body="See you Saturday.", dedupe_key="personal:1"
    )
    assert personal.status == Message.Status.QUEUED


def test_a_paused_automations_message_is_refused_by_the_policy(store):
    rule = _rule(paused_at=NOON_NY, pause_reason="Below zero.")
    (client,) = _clients(store, 1)
    message = message_queue(
        customer=client,
        channel="sms",
        body="Thank you!",
        dedupe_key="elsewhere:2",
        is_marketing=False,
        offer_or_automation=("automation", rule.pk),
    )
    assert message.suppressed_reason == "This automation is paused: its effect stayed below zero."


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    f=client_facts(),
    customer_id=st.integers(1, 10**7),
    subject=st.sampled_from(["offer", "automation"]),
    subject_id=st.integers(1, 10**5),
    share=st.integers(0, 100),
    other_held=st.lists(st.tuples(st.sampled_from(["offer", "automation"]), st.integers(1, 50))),
    channel=st.sampled_from([None, "email", "sms"]),
    is_marketing=st.booleans(),
    at=st.datetimes(
        min_value=datetime.datetime(2026, 1, 1),
        max_value=datetime.datetime(2027, 12, 31),
        timezones=st.just(datetime.UTC),
    ),
)
def test_a_held_out_client_is_never_allowed_an_offers_or_automations_message(
    f, customer_id, subject, subject_id, share, other_held, channel, is_marketing, at
):
    """Through the send policy: whatever the client's consent, channel, cap and clock, a
    client the hash puts in the holdout of an offer or automation never gets its message."""
    group = holdout_group(
        customer_id=customer_id, subject=subject, subject_id=subject_id, share_percent=share
    )
    held_out = set(map(tuple, other_held))
    if group == Exposure.Group.HOLDOUT:
        held_out.add((subject, subject_id))
    facts = f.__class__(**{**f.__dict__, "held_out": frozenset(held_out)})
    decision = evaluate_policy(
        facts,
        channel=channel,
        is_marketing=is_marketing,
        topic="",
        at=at,
        subject=(subject, subject_id),
    )
    if group == Exposure.Group.HOLDOUT:
        assert not decision.allowed
        assert decision.reason == f"Held out of this {subject} to measure what it adds."
    if share == 0:
        assert group == Exposure.Group.TREATED
    if share == 100:
        assert group == Exposure.Group.HOLDOUT
    # Without a subject (a personal message), the holdout never matters.
    plain = evaluate_policy(facts, channel=channel, is_marketing=is_marketing, topic="", at=at)
    without = evaluate_policy(
        f.__class__(**{**f.__dict__, "held_out": frozenset()}),
        channel=channel,
        is_marketing=is_marketing,
        topic="",
        at=at,
    )
    assert plain == without


def test_a_queued_automation_message_is_not_delivered_once_the_rule_is_paused_or_held_out(store):
    from customers.models import AutomationRule
    from customers.services.outreach import message_deliver

    rule = _rule()
    first, second = _clients(store, 2)
    for client in (first, second):
        ReasonFactory(customer=client, kind=Reason.Kind.THANK_YOU)
    assert automations_run() == {"queued": 2}
    queued = {m.customer_id: m for m in Message.objects.all()}
    assert all(m.status == Message.Status.QUEUED for m in queued.values())
    # The first client is held out after all (a row recorded by another path), the rule
    # is then paused: at delivery, the policy refuses each with its own reason.
    Exposure.objects.filter(customer=first, subject_id=rule.pk).update(group="holdout")
    assert message_deliver(message_id=queued[first.pk].pk) == "suppressed"
    AutomationRule.objects.filter(pk=rule.pk).update(paused_at=NOON_NY)
    assert message_deliver(message_id=queued[second.pk].pk) == "suppressed"
    reasons = dict(Message.objects.values_list("customer_id", "suppressed_reason"))
    assert reasons == {
        first.pk: "Held out of this automation to measure what it adds.",
        second.pk: "This automation is paused: its effect stayed below zero.",
    }
