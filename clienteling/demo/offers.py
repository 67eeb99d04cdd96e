"""The demo's offers and points: the story's shoes offer, with its why, and the ledger.

Claire has bought dresses for years and never shoes; she turned down points-only offers,
not offers tied to what she wants. The offer "Buy your first shoes with us and earn
double points on dresses" opens for her and the few clients like her (many dresses, never
shoes, likely to respond), through the same services an order push uses. One such client
declined offers: nothing opens for them, and their card says so.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Exists, OuterRef
from django.utils import timezone

from clienteling.catalog.models import Category
from customers.models import (
    ContactPreferences,
    Customer,
    Offer,
    Order,
    OrderLine,
    PointsRule,
    Topic,
)
from customers.models.offers import Exposure
from customers.services.holdout import holdout_group
from customers.services.loyalty import loyalty_earn_for_orders
from customers.services.offers import offers_sweep

# Points earned in chunks of this many orders (one set of queries each).
EARN_CHUNK_SIZE = 5000
SHOES_OFFER_CODE = "first-shoes"


def _shoes_offer(dresses: Category, shoes: Category, story_client_id: int) -> Offer:
    """The story's offer. Its holdout is real (10%); the story needs Claire in the offer
    group, so an offer id whose deterministic draw would hold her out is not used (the
    draw depends on the offer's id, not on anything chosen by hand)."""
    fields = {
        "name": "First shoes, double points on dresses",
        "code": SHOES_OFFER_CODE,
        "description": "Buy your first shoes with us and earn double points on dresses",
        "trigger": Offer.Trigger.NEW_CATEGORY,
        "trigger_category": shoes,
        "bought_category": dresses,
        "bought_at_least": 5,
        "not_bought_category": shoes,
        "min_lifetime_value": Decimal("5000"),
        "active_within_days": 365,
        "reward": Offer.Reward.POINTS_MULTIPLIER,
        "reward_multiplier": Decimal("2"),
        "reward_category": dresses,
        "valid_days": 90,
        "limit_per_client": 1,
        "holdout_percent": 10,
    }
    for _ in range(5):
        offer = Offer.objects.create(**fields)
        group = holdout_group(
            customer_id=story_client_id,
            subject=Exposure.Subject.OFFER,
            subject_id=offer.pk,
            share_percent=offer.holdout_percent,
        )
        if group == Exposure.Group.TREATED:
            return offer
        offer.delete()
    return offer


def build_offers(*, today: datetime.date, story_client_id: int) -> dict[str, int]:
    """The points rules, the shoes offer, one client who declined offers, then every
    order's points (which opens the offers their buyers fit). Returns counts for the
    summary. (The offers with a measured history are `offer_history`'s.)"""
    categories = {category.slug: category for category in Category.objects.all()}
    dresses, shoes = categories.get("dresses"), categories.get("shoes")
    PointsRule.objects.create(points_per_dollar=Decimal("1"))
    if dresses is not None:
        PointsRule.objects.create(category=dresses, points_per_dollar=Decimal("1"))
    if dresses is not None and shoes is not None:
        _shoes_offer(dresses, shoes, story_client_id)
    # A client like Claire (many dresses, never shoes) who turned offers down: a manager
    # can see the wish respected (no offer, and the card says why).
    declined_id = None
    if dresses is not None and shoes is not None:
        # EXISTS, not NOT IN: at 1,000,000 clients the shoe buyers' list did not fit in
        # memory and PostgreSQL re-read it for every dress line (over 14 minutes).
        def bought(category) -> Exists:
            return Exists(
                OrderLine.objects.filter(
                    order__customer_id=OuterRef("pk"), product__category=category
                )
            )

        declined_id = (
            Customer.objects.exclude(pk=story_client_id)
            .filter(bought(dresses))
            .exclude(bought(shoes))
            .order_by("-lifetime_value", "pk")
            .values_list("pk", flat=True)
            .first()
        )
    if declined_id is not None:
        preferences, _ = ContactPreferences.objects.get_or_create(customer_id=declined_id)
        preferences.topics_declined = sorted({*preferences.topics_declined, Topic.OFFERS.value})
        preferences.save(update_fields=["topics_declined", "updated_at"])

    now = timezone.make_aware(datetime.datetime.combine(today, datetime.time(12)))
    order_ids = list(Order.objects.order_by("pk").values_list("pk", flat=True))
    movements = 0
    for start in range(0, len(order_ids), EARN_CHUNK_SIZE):
        movements += loyalty_earn_for_orders(
            order_ids=order_ids[start : start + EARN_CHUNK_SIZE], now=now
        )
    # The offers a date opens (a birthday month, a lapse), as the daily sweep does.
    offers_sweep(now=now)
    return {"points movements": movements, "offers": Offer.objects.count()}
