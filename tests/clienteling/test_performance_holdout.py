"""The performance page's holdouts: figures that match a hand count, the verdict, the
fixed number of queries whatever the offers, and the nightly pause of a dilutive offer."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.holdout_stats import GroupSums, holdout_difference
from customers.models import AutomationRule, Exposure, Offer
from customers.services import automation_rule_save
from customers.services.holdout_results import holdout_verdicts_refresh
from customers.tasks import holdout_verdicts_refresh_task
from tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 20, 17, 0, tzinfo=datetime.UTC)
URL = "/performance/"


def days_ago(days: float) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _offer(name: str, code: str, **extra) -> Offer:
    return Offer.objects.create(name=name, code=code, **extra)


def _exposed(store, subject_id: int, group: str, *, at, subject="offer"):
    customer = factories.CustomerFactory(home_store=store)
    Exposure.objects.create(
        customer=customer,
        store=store,
        subject=subject,
        subject_id=subject_id,
        group=group,
        exposed_at=at,
    )
    return customer


def _order(customer, *, at, total, status="completed"):
    return factories.OrderFactory(
        customer=customer,
        placed_at=at,
        total=Decimal(total),
        subtotal=Decimal(total),
        status=status,
    )


def _planted(store, offer, *, treated: list[str], holdout: list[str], at=None):
    """One client per amount (an order of that amount 2 days after they became eligible;
    "0": no order)."""
    at = at or days_ago(10)
    for group, amounts in (("treated", treated), ("holdout", holdout)):
        for amount in amounts:
            customer = _exposed(store, offer.pk, group, at=at)
            if amount != "0":
                _order(customer, at=at + datetime.timedelta(days=2), total=amount)


def test_the_figures_match_a_hand_count(client, manager, store, other_store):
    offer = _offer("Birthday gift", "birthday-gift")
    # Offer group: 40 clients; 20 bought once for 100, 5 twice (100 + 50), 15 nothing.
    # Holdout: 30 clients; 6 bought once for 80, 24 nothing.
    treated_values: list[tuple[int, float]] = []
    for index in range(40):
        customer = _exposed(store, offer.pk, "treated", at=days_ago(20))
        if index < 20:
            _order(customer, at=days_ago(19), total="100.00")
            treated_values.append((1, 100.0))
        elif index < 25:
            _order(customer, at=days_ago(18), total="100.00")
            _order(customer, at=days_ago(17), total="50.00")
            treated_values.append((2, 150.0))
        else:
            treated_values.append((0, 0.0))
        # Not counted: before they became eligible, after the window, cancelled.
        _order(customer, at=days_ago(21), total="999.00")
        if index == 0:
            _order(customer, at=days_ago(19), total="999.00", status="cancelled")
    holdout_values: list[tuple[int, float]] = []
    for index in range(30):
        customer = _exposed(store, offer.pk, "holdout", at=days_ago(20))
        if index < 6:
            _order(customer, at=days_ago(15), total="80.00")
            holdout_values.append((1, 80.0))
        else:
            holdout_values.append((0, 0.0))
    # Another store's eligible clients are not this store's figures.
    _planted(other_store, offer, treated=["500.00"] * 3, holdout=["0"] * 3)
    # Eligible before the period (the last 30 days): not counted.
    _planted(store, offer, treated=["700.00"] * 2, holdout=["0"] * 2, at=days_ago(45))

    client.force_login(manager.user)
    response = client.get(URL)
    assert response.status_code == 200
    (row,) = [r for r in response.context["performance"].holdouts if r.kind == "Offer"]
    assert (row.result.offer_clients, row.result.holdout_clients) == (40, 30)
    for index, measure in enumerate(["purchases", "revenue"]):
        expected = holdout_difference(
            GroupSums.of(value[index] for value in treated_values),
            GroupSums.of(value[index] for value in holdout_values),
        )
        got = getattr(row.result, measure)
        assert got.offer_mean == pytest.approx(expected.offer_mean)
        assert got.holdout_mean == pytest.approx(expected.holdout_mean)
        assert got.low == pytest.approx(expected.low)
        assert got.high == pytest.approx(expected.high)
        assert got.verdict == expected.verdict
    # Revenue: 68.75 (2,750 / 40) against 16.00 (480 / 30) per eligible client.
    assert row.result.revenue.difference == pytest.approx(52.75)
    assert row.verdict == "generative"
    page = " ".join(response.content.decode().split())
    assert "Offers and automations against their holdout" in page
    assert "Offer: Birthday gift" in page
    assert "Generative: it brings +52.75 per eligible client" in page

    # The same figures in the export's holdouts table, and a clear 400 for a wrong one.
    export = client.get(response.context["holdouts_csv_url"])
    assert export.status_code == 200
    assert "performance-holdouts-" in export["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    header, offer_row = rows[0], next(r for r in rows[1:] if r[0] == "Offer")
    line = dict(zip(header, offer_row, strict=True))
    assert (line["clients in the offer group"], line["clients held out"]) == ("40", "30")
    assert line["revenue difference"] == "52.75"
    assert line["verdict"] == "generative"
    assert client.get(URL + "export/?table=nope").status_code == 400


def test_small_groups_are_not_yet_known(client, manager, store):
    offer = _offer("Tier reached", "tier-reached")
    _planted(store, offer, treated=["100.00"] * 20, holdout=["0"] * 3)
    client.force_login(manager.user)
    page = " ".join(client.get(URL).content.decode().split())
    assert "Not yet known: 20 clients in the offer group and 3 held out" in page


def test_an_offer_and_an_automation_with_nobody_eligible_yet_are_listed(client, manager, store):
    _offer("Lapsed client", "lapsed")
    factories.AutomationRuleFactory(reason_kind="thank_you")
    client.force_login(manager.user)
    response = client.get(URL)
    rows = response.context["performance"].holdouts
    assert [(row.kind, row.result.offer_clients) for row in rows] == [
        ("Offer", 0),
        ("Automation", 0),
    ]
    assert "Not yet known: 0 clients in the offer group and 0 held out" in " ".join(
        response.content.decode().split()
    )


def _offers_with_exposures(store, count: int, start: int) -> None:
    for number in range(start, start + count):
        offer = _offer(f"Offer {number}", f"offer-{number}")
        _planted(store, offer, treated=["100.00", "0"], holdout=["0"])
        rule_kind = ["thank_you", "welcome", "birthday", "replenishment", "winback", "new_in"]
        if number < len(rule_kind):
            factories.AutomationRuleFactory(reason_kind=rule_kind[number])


def test_the_holdouts_cost_the_same_queries_whatever_the_number_of_offers(
    client, manager, store, django_assert_num_queries
):
    client.force_login(manager.user)
    _offers_with_exposures(store, 1, 0)
    with CaptureQueriesContext(connection) as one:
        assert client.get(URL).status_code == 200
    _offers_with_exposures(store, 5, 1)
    # The page's 15 (tests/clienteling/test_performance.py), 3 of them the holdouts: the
    # grouped sums, the offers, the automation rules.
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(URL)
    assert (
        len([row for row in response.context["performance"].holdouts if row.kind == "Offer"]) == 6
    )
    assert len(one.captured_queries) == 14


def test_a_paused_offer_shows_why(client, manager, store):
    _offer(
        "Tier reached: 15% off",
        "tier-15",
        is_active=False,
        paused_at=days_ago(2),
        pause_reason="Revenue per eligible client -12.00 against the holdout.",
    )
    client.force_login(manager.user)
    page = " ".join(client.get(URL).content.decode().split())
    assert "Paused</span>" in page
    assert "Paused on 18 Nov 2026: Revenue per eligible client -12.00 against the holdout." in page


# --- The nightly verdict -----------------------------------------------------------------


def _dilutive(store, offer):
    # The offer group spends 60 a head, the holdout 100: the whole interval is below zero.
    _planted(store, offer, treated=["120.00", "0"] * 30, holdout=["100.00"] * 40)


def test_a_dilutive_offer_is_paused_after_its_days_below_zero(store, frozen_time):
    offer = _offer("Tier reached: 15% off", "tier-15", pause_after_days=3)
    _dilutive(store, offer)

    assert holdout_verdicts_refresh() == {"dilutive": 1, "cleared": 0, "paused": 0}
    offer.refresh_from_db()
    assert (offer.below_zero_since, offer.paused_at) == (datetime.date(2026, 11, 20), None)
    assert offer.is_active

    frozen_time.shift(datetime.timedelta(days=2))
    holdout_verdicts_refresh()
    offer.refresh_from_db()
    assert offer.paused_at is None

    frozen_time.shift(datetime.timedelta(days=1))
    assert holdout_verdicts_refresh()["paused"] == 1
    offer.refresh_from_db()
    assert offer.paused_at == NOW + datetime.timedelta(days=3)
    assert not offer.is_active
    assert offer.pause_reason.startswith("Revenue per eligible client -40.00 against the holdout")
    assert "60 in the offer group, 40 held out" in offer.pause_reason
    assert offer.pause_reason.endswith("below zero since 20 Nov 2026.")
    # Paused stays paused: the next night leaves it alone.
    frozen_time.shift(datetime.timedelta(days=1))
    assert holdout_verdicts_refresh() == {"dilutive": 0, "cleared": 0, "paused": 0}


def test_an_offer_back_above_zero_clears_its_day(store):
    offer = _offer("Birthday gift", "birthday", below_zero_since=datetime.date(2026, 11, 1))
    _planted(store, offer, treated=["100.00"] * 40, holdout=["100.00"] * 40)
    assert holdout_verdicts_refresh() == {"dilutive": 0, "cleared": 1, "paused": 0}
    offer.refresh_from_db()
    assert offer.below_zero_since is None
    assert offer.paused_at is None


def test_a_dilutive_automation_is_paused_and_sends_no_more(store):
    rule = factories.AutomationRuleFactory(reason_kind="thank_you", pause_after_days=0)
    _planted(store, rule, treated=["120.00", "0"] * 30, holdout=["100.00"] * 40)
    Exposure.objects.filter(subject="offer", subject_id=rule.pk).update(subject="automation")
    # Through the task beat runs (the same service).
    assert holdout_verdicts_refresh_task() == {"dilutive": 1, "cleared": 0, "paused": 1}
    rule.refresh_from_db()
    assert rule.paused_at == NOW
    assert rule.pause_reason.startswith("Revenue per eligible client -40.00")
    assert not rule.is_active
    # A manager switches it back on: a fresh start, it sends again.
    rule.is_active = True
    automation_rule_save(rule=rule, was_sending=False)
    rule.refresh_from_db()
    assert (rule.paused_at, rule.pause_reason, rule.below_zero_since) == (None, "", None)
    assert AutomationRule.objects.get(pk=rule.pk).sends


def test_the_admin_shows_when_and_why_a_rule_and_an_offer_were_paused(admin_client, store):
    reason = "Revenue per eligible client -40.00 against the holdout."
    rule = factories.AutomationRuleFactory(
        reason_kind="thank_you", is_active=False, paused_at=days_ago(2), pause_reason=reason
    )
    offer = _offer("Tier reached: 15% off", "tier-15", paused_at=days_ago(2), pause_reason=reason)

    for url in (
        f"/admin/customers/automationrule/{rule.pk}/change/",
        f"/admin/customers/offer/{offer.pk}/change/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert reason in response.content.decode()


def test_an_offer_switched_back_on_starts_afresh(store):
    offer = _offer(
        "Tier reached: 15% off",
        "tier-15",
        paused_at=days_ago(5),
        pause_reason="Below zero.",
        below_zero_since=datetime.date(2026, 10, 1),
    )
    _planted(store, offer, treated=["100.00"] * 40, holdout=["100.00"] * 40)
    holdout_verdicts_refresh()
    offer.refresh_from_db()
    assert (offer.paused_at, offer.pause_reason, offer.below_zero_since) == (None, "", None)
    assert offer.is_active


def test_the_job_runs_by_hand_and_is_scheduled(store, settings):
    assert "holdout-verdicts-nightly" in settings.CELERY_BEAT_SCHEDULE
    out = io.StringIO()
    call_command("run_job", "holdout-verdicts-nightly", stdout=out)
    assert '"paused": 0' in out.getvalue()
