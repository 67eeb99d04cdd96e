from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Max,
    Min,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import TIER_THRESHOLDS, Customer, Order


def customer_refresh_totals(*, customer_ids: Iterable[int]) -> int:
    """Recompute lifetime value, order count, first and last purchase, and tier.

    Set-based: two UPDATE statements for any number of clients, computed from the
    orders that count (not cancelled or returned), so repeating it changes nothing.
    Tier follows lifetime value (TIER_THRESHOLDS); it is set in a second statement
    because SQL evaluates every SET expression against the row as it was, and only where
    it changes, stamping `tier_since`.
    """
    ids = list(customer_ids)
    if not ids:
        return 0
    counted = Order.objects.counted().filter(customer=OuterRef("pk")).order_by().values("customer")

    def aggregate(expression, output_field=None):
        return Subquery(
            counted.annotate(value=expression).values("value")[:1], output_field=output_field
        )

    money = DecimalField(max_digits=12, decimal_places=2)
    updated = Customer.objects.filter(pk__in=ids).update(
        lifetime_value=Coalesce(aggregate(Sum("total")), Value(Decimal("0")), output_field=money),
        order_count=Coalesce(aggregate(Count("pk")), Value(0)),
        first_purchase_at=aggregate(Min("placed_at")),
        last_purchase_at=aggregate(Max("placed_at")),
    )
    tier = Case(
        *[
            When(lifetime_value__gte=threshold, then=Value(tier))
            for tier, threshold in TIER_THRESHOLDS
        ],
        default=Value(Customer.Tier.MEMBER),
    )
    # Only clients whose tier changes get a new tier_since: the milestone reason reads it.
    Customer.objects.filter(pk__in=ids).exclude(tier=tier).update(
        tier=tier, tier_since=timezone.now()
    )
    return updated
