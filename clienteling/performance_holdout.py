"""The performance page's holdouts: per offer and automation, what its offer group bought
against the clients held out of it, and a plain verdict.

Eligible clients are those of the store who became eligible in the period (their
`Exposure`); each is followed for HOLDOUT_WINDOW_DAYS after that moment
(`customers.services.holdout_results`). Three queries whatever the number of offers,
automations and clients: the grouped sums, the offers, the automation rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from clienteling.stores.models import Store
from customers.holdout_stats import DILUTIVE, GENERATIVE, MIN_CLIENTS_PER_GROUP, Difference
from customers.models import AutomationRule, Exposure, Offer
from customers.services.holdout_results import SubjectResult, holdout_sums, subject_result


def _signed(value: float | None, places: int) -> str:
    if value is None:
        return "—"
    rounded = round(value, places)
    return f"{'−' if rounded < 0 else '+'}{abs(rounded):,.{places}f}"


def _plain(value: float | None, places: int) -> str:
    return "—" if value is None else f"{value:,.{places}f}"


@dataclass(frozen=True)
class Measure:
    """One measure's line: the two groups' means and the difference with its 95% interval."""

    label: str
    difference: Difference
    places: int

    @property
    def offer_label(self) -> str:
        return _plain(self.difference.offer_mean, self.places)

    @property
    def holdout_label(self) -> str:
        return _plain(self.difference.holdout_mean, self.places)

    @property
    def difference_label(self) -> str:
        return _signed(self.difference.difference, self.places)

    @property
    def interval_label(self) -> str:
        if self.difference.low is None:
            return "—"
        return (
            f"{_signed(self.difference.low, self.places)} to "
            f"{_signed(self.difference.high, self.places)}"
        )


@dataclass(frozen=True)
class HoldoutRow:
    """An offer or an automation on the page."""

    kind: str  # "Offer" or "Automation"
    name: str
    holdout_percent: int
    pause_after_days: int
    is_active: bool
    paused_at: object
    pause_reason: str
    below_zero_since: object
    result: SubjectResult

    @property
    def slug(self) -> str:
        return f"{self.kind.lower()}-{self.result.subject_id}"

    @property
    def measures(self) -> list[Measure]:
        return [
            Measure("Purchases per eligible client", self.result.purchases, 2),
            Measure("Revenue per eligible client", self.result.revenue, 2),
        ]

    @property
    def verdict(self) -> str:
        return self.result.verdict

    @property
    def verdict_sentence(self) -> str:
        """The verdict in plain words (read on revenue per eligible client)."""
        revenue = self.result.revenue
        offer, held = self.result.offer_clients, self.result.holdout_clients
        if revenue.difference is None or min(offer, held) < MIN_CLIENTS_PER_GROUP:
            return (
                f"Not yet known: {offer} client{'s' if offer != 1 else ''} in the offer group "
                f"and {held} held out (at least {MIN_CLIENTS_PER_GROUP} in each to judge)."
            )
        if revenue.verdict == GENERATIVE:
            return (
                f"Generative: it brings {_signed(revenue.difference, 2)} per eligible client "
                f"(95%: {_signed(revenue.low, 2)} to {_signed(revenue.high, 2)})."
            )
        if revenue.verdict == DILUTIVE:
            return (
                f"Dilutive: it loses {abs(revenue.difference):,.2f} per eligible client "
                f"(95%: {_signed(revenue.low, 2)} to {_signed(revenue.high, 2)}): clients "
                "would have spent more without it."
            )
        return (
            "Not yet known: the 95% interval "
            f"({_signed(revenue.low, 2)} to {_signed(revenue.high, 2)}) "
            "includes zero, so the difference may be chance."
        )


def store_holdouts(*, store: Store, period) -> list[HoldoutRow]:
    """Every offer of the store (its own and every store's) and every automation that
    sends or had eligible clients in the period, with their groups' figures. Three
    queries."""
    results = holdout_sums(
        Exposure.objects.filter(store=store).filter(period.in_period("exposed_at"))
    )
    exposed = {kind: set() for kind in Exposure.Subject.values}
    for kind, pk in results:
        exposed.setdefault(kind, set()).add(pk)
    offers = Offer.objects.filter(
        Q(store=store) | Q(store__isnull=True) | Q(pk__in=exposed[Exposure.Subject.OFFER])
    ).order_by("name", "pk")
    rules = AutomationRule.objects.filter(
        Q(mode=AutomationRule.Mode.SEND) | Q(pk__in=exposed[Exposure.Subject.AUTOMATION])
    ).order_by("reason_kind")
    rows = [
        HoldoutRow(
            kind="Offer",
            name=offer.name,
            holdout_percent=offer.holdout_percent,
            pause_after_days=offer.pause_after_days,
            is_active=offer.is_active,
            paused_at=offer.paused_at,
            pause_reason=offer.pause_reason,
            below_zero_since=offer.below_zero_since,
            result=subject_result(results, Exposure.Subject.OFFER, offer.pk),
        )
        for offer in offers
    ]
    rows += [
        HoldoutRow(
            kind="Automation",
            name=rule.get_reason_kind_display(),
            holdout_percent=rule.holdout_percent,
            pause_after_days=rule.pause_after_days,
            is_active=rule.sends,
            paused_at=rule.paused_at,
            pause_reason=rule.pause_reason,
            below_zero_since=rule.below_zero_since,
            result=subject_result(results, Exposure.Subject.AUTOMATION, rule.pk),
        )
        for rule in rules
    ]
    return rows
