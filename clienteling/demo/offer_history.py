"""Two offers with a month of history, so /performance/ shows one generative and one
dilutive offer against their holdouts.

Planted, not simulated: no order is added (lifetime values stay the sum of the orders).
Each client's group is the real one (`holdout_group`, the offer's holdout share); what
is chosen is which clients became eligible and when. A client "who bought" became
eligible a little before one of their orders of the last four weeks; a client "who did
not" has no order since. The birthday gift takes mostly buyers into its offer group and
mostly non-buyers into its holdout (it brings purchases: generative); the tier discount
the other way round (its offer group spends less than its holdout: dilutive).

A larger holdout than the default (20%), so that a demo store of a few hundred clients
has enough clients held out for a verdict within a month.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict

from django.utils import timezone

from customers.models import Customer, Exposure, Offer, Order
from customers.services.holdout import holdout_group

DEMO_HOLDOUT_PERCENT = 20
RECENT_DAYS = 26
# name, code, share of buyers in the offer group, share of buyers in the holdout.
OFFERS = [
    ("Birthday month: a gift with any purchase", "demo-birthday-gift", 0.7, 0.2),
    ("Tier reached: 15% off everything", "demo-tier-15-off", 0.25, 0.7),
]
# Per store: how many clients each group of each offer takes (fewer if the store has fewer).
OFFER_GROUP_SIZE = 120
HOLDOUT_SIZE = 40


def build_offer_history(*, rng: random.Random) -> dict[str, int]:
    """The two offers (every store) and their exposures; returns counts for the output."""
    now = timezone.now()
    since = now - datetime.timedelta(days=RECENT_DAYS)
    first_recent: dict[int, datetime.datetime] = {}
    for customer_id, placed_at in (
        Order.objects.counted()
        .filter(placed_at__gte=since - datetime.timedelta(days=2), placed_at__lt=now)
        .order_by("placed_at", "pk")
        .values_list("customer_id", "placed_at")
    ):
        first_recent.setdefault(customer_id, placed_at)
    by_store: dict[int, list[int]] = defaultdict(list)
    for customer_id, store_id in (
        Customer.objects.filter(erased_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "home_store")
    ):
        by_store[store_id].append(customer_id)
    exposures: list[Exposure] = []
    for name, code, offer_buyers, holdout_buyers in OFFERS:
        offer = Offer.objects.create(
            name=name, code=code, holdout_percent=DEMO_HOLDOUT_PERCENT, pause_after_days=30
        )
        for store_id, customers in sorted(by_store.items()):
            pools = {(group, buyer): [] for group in ("treated", "holdout") for buyer in (1, 0)}
            for customer_id in customers:
                placed_at = first_recent.get(customer_id)
                buyer = placed_at is not None and placed_at >= since
                if placed_at is not None and not buyer:
                    continue  # bought just before the window: neither kind of client
                group = holdout_group(
                    customer_id=customer_id,
                    subject=Exposure.Subject.OFFER,
                    subject_id=offer.pk,
                    share_percent=DEMO_HOLDOUT_PERCENT,
                )
                pools[(group, int(buyer))].append(customer_id)
            for group, size, share in (
                ("treated", OFFER_GROUP_SIZE, offer_buyers),
                ("holdout", HOLDOUT_SIZE, holdout_buyers),
            ):
                buyers = pools[(group, 1)][: round(size * share)]
                others = pools[(group, 0)][: size - len(buyers)]
                for customer_id in buyers:
                    exposed_at = first_recent[customer_id] - datetime.timedelta(
                        hours=rng.uniform(1, 48)
                    )
                    exposures.append(_exposure(customer_id, store_id, offer.pk, group, exposed_at))
                for customer_id in others:
                    exposed_at = now - datetime.timedelta(days=rng.uniform(2, RECENT_DAYS))
                    exposures.append(_exposure(customer_id, store_id, offer.pk, group, exposed_at))
    Exposure.objects.bulk_create(exposures)
    return {"offers": len(OFFERS), "offer exposures": len(exposures)}


def _exposure(customer_id: int, store_id: int, offer_id: int, group: str, at) -> Exposure:
    return Exposure(
        customer_id=customer_id,
        store_id=store_id,
        subject=Exposure.Subject.OFFER,
        subject_id=offer_id,
        group=group,
        exposed_at=at,
    )
