"""The demo's offer history: on /performance/, one generative offer and one dilutive one."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

import pytest
import time_machine

from clienteling.demo.offer_history import build_offer_history
from clienteling.performance import period_ending
from clienteling.performance_holdout import store_holdouts
from customers.models import Customer, Exposure, Order
from customers.services.holdout import holdout_group
from tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 20, 17, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_demo_shows_a_generative_and_a_dilutive_offer(store):
    rng = random.Random(7)
    clients = Customer.objects.bulk_create(
        factories.CustomerFactory.build(home_store=store) for _ in range(500)
    )
    orders = []
    for number, client in enumerate(clients):
        if number % 2 == 0:  # half of them bought in the last weeks
            total = Decimal(rng.randint(150, 450))
            orders.append(
                factories.OrderFactory.build(
                    customer=client,
                    store=store,
                    placed_at=NOW - datetime.timedelta(days=rng.uniform(1, 20)),
                    total=total,
                    subtotal=total,
                )
            )
    Order.objects.bulk_create(orders)

    counts = build_offer_history(rng=random.Random(1))

    assert counts == {"offers": 2, "offer exposures": Exposure.objects.count()}
    period = period_ending(NOW.date(), 30, store.zone)
    verdicts = {row.name: row.verdict for row in store_holdouts(store=store, period=period)}
    assert verdicts == {
        "Birthday month: a gift with any purchase": "generative",
        "Tier reached: 15% off everything": "dilutive",
    }
    # Groups are the real ones: the policy and the page agree on who was held out.
    for exposure in Exposure.objects.all()[:50]:
        assert exposure.group == holdout_group(
            customer_id=exposure.customer_id,
            subject="offer",
            subject_id=exposure.subject_id,
            share_percent=20,
        )
