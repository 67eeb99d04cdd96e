"""What each offer and automation adds, read from its exposures; and the nightly verdict
that pauses one whose effect stays below zero.

Outcome of an eligible client: their counted orders (not cancelled or returned) placed
from the moment they became eligible (`Exposure.exposed_at`) until HOLDOUT_WINDOW_DAYS
later: how many (purchases) and how much (revenue, order totals as recorded, currencies
not converted). The same window for both groups, so the difference is fair even for
clients exposed yesterday (both groups have had as little time).

`holdout_sums` is one query whatever the number of offers, automations and clients: an
inner query gives each exposure its two values (correlated subqueries on the orders'
(customer, placed_at) index), an outer one groups them by subject and group with their
sums, squares and cubes (what `customers.holdout_stats` needs for a mean, a variance
and a skewness). Plain SQL around the ORM's inner query: it runs on PostgreSQL and on
SQLite (the demo).

The verdict reads revenue per eligible client: an offer can bring more purchases and
still less money (15% off what they would have bought anyway), and that is dilutive.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Count, DecimalField, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..holdout_stats import DILUTIVE, Difference, GroupSums, holdout_difference
from ..models import AutomationRule, Exposure, Offer, Order

logger = logging.getLogger(__name__)

MEASURES = ("purchases", "revenue")


@dataclass(frozen=True)
class SubjectResult:
    """One offer's or automation's two groups, and the difference per measure."""

    subject: str
    subject_id: int
    offer_group: dict[str, GroupSums]
    holdout: dict[str, GroupSums]

    @property
    def purchases(self) -> Difference:
        return holdout_difference(self.offer_group["purchases"], self.holdout["purchases"])

    @property
    def revenue(self) -> Difference:
        return holdout_difference(self.offer_group["revenue"], self.holdout["revenue"])

    @property
    def verdict(self) -> str:
        """generative, dilutive or not yet known: by revenue per eligible client."""
        return self.revenue.verdict

    @property
    def offer_clients(self) -> int:
        return self.offer_group["purchases"].clients

    @property
    def holdout_clients(self) -> int:
        return self.holdout["purchases"].clients


def _empty() -> dict[str, GroupSums]:
    return {measure: GroupSums() for measure in MEASURES}


def holdout_window() -> datetime.timedelta:
    return datetime.timedelta(days=max(settings.HOLDOUT_WINDOW_DAYS, 1))


def holdout_sums(exposures: QuerySet[Exposure]) -> dict[tuple[str, int], SubjectResult]:
    """Per (subject, subject id) among `exposures`, each group's sums of purchases and
    revenue per eligible client (see the module's docstring). One query."""
    window = holdout_window()
    orders = (
        Order.objects.counted()
        .filter(
            customer_id=OuterRef("customer_id"),
            placed_at__gte=OuterRef("exposed_at"),
            placed_at__lt=OuterRef("exposed_at") + window,
        )
        .order_by()
        .values("customer_id")
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    per_client = (
        exposures.order_by()
        .annotate(
            purchases=Coalesce(
                Subquery(orders.annotate(n=Count("pk")).values("n")[:1]),
                0,
                output_field=IntegerField(),
            ),
            revenue=Coalesce(
                Subquery(orders.annotate(amount=Sum("total")).values("amount")[:1]),
                Decimal("0"),
                output_field=money,
            ),
        )
        .values("subject", "subject_id", "group", "purchases", "revenue")
    )
    alias = per_client.db
    connection = connections[alias]
    inner, params = per_client.query.get_compiler(using=alias).as_sql()
    q = connection.ops.quote_name
    subject, subject_id, group = q("subject"), q("subject_id"), q("group")
    powers = ", ".join(
        f"SUM({value}), SUM({value} * {value}), SUM({value} * {value} * {value})"
        for value in (q("purchases"), q("revenue"))
    )
    # Only quoted column names and the ORM's own compiled SQL go into the text; every
    # value stays a parameter.
    sql = (
        f"SELECT {subject}, {subject_id}, {group}, COUNT(*), {powers} "  # noqa: S608
        f"FROM ({inner}) per_client GROUP BY {subject}, {subject_id}, {group}"
    )
    groups: dict[tuple[str, int], dict[str, dict[str, GroupSums]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for kind, pk, which, clients, *sums in cursor.fetchall():
            values = [float(value or 0) for value in sums]
            groups.setdefault((kind, pk), {"treated": _empty(), "holdout": _empty()})[which] = {
                "purchases": GroupSums(clients, *values[:3]),
                "revenue": GroupSums(clients, *values[3:]),
            }
    return {
        key: SubjectResult(key[0], key[1], both["treated"], both["holdout"])
        for key, both in groups.items()
    }


def subject_result(results: dict, subject: str, subject_id: int) -> SubjectResult:
    """The result of one subject, empty groups when nobody was eligible yet."""
    return results.get(
        (subject, subject_id), SubjectResult(subject, subject_id, _empty(), _empty())
    )


def _money(value: float) -> str:
    return f"{value:+,.2f}"


def pause_reason_text(result: SubjectResult, *, since: datetime.date) -> str:
    """Why it was paused, in plain words with the figures (at most 300 characters)."""
    revenue = result.revenue
    return (
        f"Revenue per eligible client {_money(revenue.difference)} against the holdout "
        f"(95% interval {_money(revenue.low)} to {_money(revenue.high)}; "
        f"{result.offer_clients} in the offer group, {result.holdout_clients} held out), "
        f"below zero since {since:%-d %b %Y}."
    )[:300]


def holdout_verdicts_refresh(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The nightly verdict of every active offer and automation, over all its exposures
    so far (every store): while the whole 95% interval of revenue per eligible client is
    below zero (dilutive), `below_zero_since` holds the day it started (cleared the day
    it is not); once that lasted `pause_after_days`, it is paused: `paused_at`, and
    `pause_reason` with the figures, and switched off (`is_active`). A paused one is left
    as a manager will find it: only they switch it back on. One a manager switched back
    on (active again, still marked paused) starts afresh here: pause and day cleared
    (a rule is cleared at once by `automation_rule_save`).

    Idempotent (a second run the same day changes nothing); one query for the figures,
    two for the offers and rules, and a write per row that changes.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    results = holdout_sums(Exposure.objects.all())
    stats = {"dilutive": 0, "cleared": 0, "paused": 0}
    rows = [
        *((Exposure.Subject.OFFER, offer) for offer in Offer.objects.filter(is_active=True)),
        *(
            (Exposure.Subject.AUTOMATION, rule)
            for rule in AutomationRule.objects.filter(is_active=True, mode=AutomationRule.Mode.SEND)
        ),
    ]
    for subject, row in rows:
        fields: list[str] = []
        if row.paused_at is not None:
            # Active again although paused: a manager switched it back on.
            row.paused_at, row.pause_reason, row.below_zero_since = None, "", None
            fields += ["paused_at", "pause_reason", "below_zero_since"]
        result = subject_result(results, subject, row.pk)
        if result.verdict == DILUTIVE:
            stats["dilutive"] += 1
            if row.below_zero_since is None:
                row.below_zero_since = today
                fields.append("below_zero_since")
            if (today - row.below_zero_since).days >= row.pause_after_days:
                row.paused_at = now
                row.pause_reason = pause_reason_text(result, since=row.below_zero_since)
                row.is_active = False
                fields += ["paused_at", "pause_reason", "is_active"]
                stats["paused"] += 1
                logger.info("Paused %s %s: %s", subject, row.pk, row.pause_reason)
        elif row.below_zero_since is not None:
            row.below_zero_since = None
            fields.append("below_zero_since")
            stats["cleared"] += 1
        if fields:
            with transaction.atomic():
                row.save(update_fields=sorted(set(fields)))
    return stats
