"""The reasons engine, scenario by scenario, with time travel: each kind opens and closes itself."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from clienteling.catalog.services import product_set_stock
from customers.models import Customer, Reason
from customers.services import (
    customer_refresh_totals,
    order_update_alteration,
    order_update_shipment,
)
from customers.services.reasons import reasons_refresh
from tests.factories import (
    BrandFactory,
    CategoryFactory,
    CustomerFactory,
    EngagementEventFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 20, 15, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _open(kind):
    return list(Reason.objects.filter(kind=kind, state__in=["open", "snoozed"]))


def _order(customer, days_ago=0, total="120.00", **extra):
    order = OrderFactory(
        customer=customer,
        total=Decimal(total),
        subtotal=Decimal(total),
        placed_at=timezone.now() - datetime.timedelta(days=days_ago),
        **extra,
    )
    customer_refresh_totals(customer_ids=[customer.pk])
    return order


@pytest.fixture
def claire(store):
    return CustomerFactory(first_name="Claire", home_store=store)


def test_order_shipped_opens_then_closes_when_the_parcel_arrives(claire):
    order = _order(claire, days_ago=2, channel="online", store=None, shipment_status="pending")
    order_update_shipment(order=order, status="shipped")

    reasons_refresh()
    (reason,) = _open("order_shipped")
    assert reason.why.startswith("Claire's online order ($120) shipped on Fri 20 Nov")
    assert (reason.order, reason.source_key) == (order, f"order:{order.pk}")

    order_update_shipment(order=order, status="delivered")
    stats = reasons_refresh()
    assert stats["order_shipped"] == {"opened": 0, "closed": 1}
    reason.refresh_from_db()
    assert (reason.state, reason.closed_note) == ("resolved", "The parcel arrived.")


def test_alteration_ready_closes_when_collected(claire):
    order = _order(claire, days_ago=5)
    order_update_alteration(order=order, status="ready", ready_on=datetime.date(2026, 11, 19))
    reasons_refresh()
    assert "alteration is ready since Thu 19 Nov" in _open("alteration_ready")[0].why
    order_update_alteration(order=order, status="collected")
    reasons_refresh()
    assert not _open("alteration_ready")


def test_replenishment_opens_before_it_runs_out_and_closes_when_bought_again(claire):
    serum = ProductFactory(name="Rose serum", replenish_after_days=30)
    OrderLineFactory(order=_order(claire, days_ago=26), product=serum, quantity=1)

    reasons_refresh()
    (reason,) = _open("replenishment")
    assert (
        "bought Rose serum on Sun 25 Oct: it lasts about 30 days, so it runs out around Tue 24 Nov"
        in reason.why
    )
    assert reason.due_on == datetime.date(2026, 11, 17)

    with time_machine.travel(NOW + datetime.timedelta(days=2), tick=False):
        OrderLineFactory(order=_order(claire, days_ago=0), product=serum)
        reasons_refresh()
    reason.refresh_from_db()
    assert (reason.state, reason.closed_note) == ("resolved", "Bought it again.")
    assert not _open("replenishment")  # and the new purchase is not due yet


def test_replenishment_counts_the_quantity_bought(claire):
    serum = ProductFactory(replenish_after_days=30)
    OrderLineFactory(order=_order(claire, days_ago=26), product=serum, quantity=2)
    reasons_refresh()
    assert not _open("replenishment")  # two bottles last 60 days


def test_birthday_in_the_coming_week_then_expires_after_the_day(claire):
    claire.birthday = datetime.date(1985, 11, 25)
    claire.save()

    reasons_refresh()
    (reason,) = _open("birthday")
    assert reason.why == "Claire's birthday is on Wednesday 25 November (in 5 days)."
    assert reason.source_key == "birthday:2026"

    with time_machine.travel(
        datetime.datetime(2026, 11, 26, 9, 0, tzinfo=datetime.UTC), tick=False
    ):
        reasons_refresh()
    reason.refresh_from_db()
    assert (reason.state, reason.closed_note) == ("resolved", "The moment passed.")


def test_leap_day_birthday_is_celebrated_on_the_28th_in_common_years(claire):
    claire.anniversary = datetime.date(2000, 2, 29)
    claire.save()
    with time_machine.travel(datetime.datetime(2027, 2, 25, 9, 0, tzinfo=datetime.UTC), tick=False):
        reasons_refresh()
    assert "Sunday 28 February (in 3 days)" in _open("anniversary")[0].why


def test_a_dismissed_reason_is_not_opened_again(claire):
    claire.birthday = datetime.date(1985, 11, 25)
    claire.save()
    reasons_refresh()
    Reason.objects.update(state="dismissed", closed_note="Called already")
    stats = reasons_refresh()
    assert stats["birthday"]["opened"] == 0
    assert Reason.objects.count() == 1


def test_thank_you_after_a_big_purchase_only(claire, store, settings):
    settings.REASONS_THANK_YOU_MIN_TOTAL = 300
    big = _order(claire, days_ago=1, total="890.00")
    _order(CustomerFactory(home_store=store), days_ago=1, total="80.00")
    reasons_refresh()
    (reason,) = _open("thank_you")
    assert reason.order == big
    assert reason.why == "Claire spent $890 at SoHo on Thu 19 Nov: a personal thank-you."
    assert reason.due_on == datetime.date(2026, 11, 20)
    with time_machine.travel(NOW + datetime.timedelta(days=15), tick=False):
        reasons_refresh()
    assert not _open("thank_you")


def test_welcome_after_the_first_purchase_then_a_nudge_when_no_second_follows(claire):
    _order(claire, days_ago=3)
    reasons_refresh()
    assert (
        "made a first purchase on Tue 17 Nov: welcome Claire personally" in _open("welcome")[0].why
    )
    assert not _open("second_purchase")

    with time_machine.travel(NOW + datetime.timedelta(days=35), tick=False):
        reasons_refresh()
        assert not _open("welcome")  # expired after 30 days
        (nudge,) = _open("second_purchase")
        assert nudge.why.startswith("Only one purchase so far, 38 days ago")
        _order(claire, days_ago=0)
        reasons_refresh()
    nudge.refresh_from_db()
    assert (nudge.state, nudge.closed_note) == ("resolved", "Bought a second time.")


def test_drifting_is_judged_against_the_clients_own_history(claire, store):
    steady = CustomerFactory(first_name="Steady", home_store=store)
    for month in range(4, 15):
        for _ in range(3):
            EngagementEventFactory(
                customer=claire, occurred_at=NOW - datetime.timedelta(days=30 * month)
            )
        EngagementEventFactory(
            customer=steady, occurred_at=NOW - datetime.timedelta(days=30 * month)
        )
        if month % 2 == 0:
            _order(claire, days_ago=30 * month)
    EngagementEventFactory(customer=claire, occurred_at=NOW - datetime.timedelta(days=10))
    for month in range(0, 3):  # steady keeps their own (low) rhythm
        EngagementEventFactory(
            customer=steady, occurred_at=NOW - datetime.timedelta(days=30 * month + 5)
        )

    reasons_refresh()

    (reason,) = _open("drifting")
    assert reason.customer == claire
    assert (
        "opened, clicked or visited 1 time in the last 3 months against about 8 before"
        in reason.why
    )
    assert "no purchase in 3 months against one every 2 months" in reason.why
    assert reason.source_key == "drift:2026Q4"

    with time_machine.travel(NOW + datetime.timedelta(hours=1), tick=False):
        _order(claire, days_ago=0)
        reasons_refresh()
    reason.refresh_from_db()
    assert (reason.state, reason.closed_note) == ("resolved", "Bought again.")


def test_milestone_when_lifetime_value_crosses_a_tier(claire):
    _order(claire, days_ago=200, total="4000.00")
    with time_machine.travel(NOW - datetime.timedelta(days=30), tick=False):
        reasons_refresh()
    _order(claire, days_ago=1, total="1200.00")
    claire.refresh_from_db()
    assert claire.tier == Customer.Tier.GOLD

    reasons_refresh()
    (reason,) = _open("milestone")
    assert (
        reason.why
        == "Claire just became Gold ($5,200 with us): a personal thank-you for the loyalty."
    )


def test_no_milestone_when_a_history_import_changes_the_tier(claire):
    _order(claire, days_ago=400, total="3000.00")
    _order(claire, days_ago=300, total="3000.00")  # imported today, bought long ago
    claire.refresh_from_db()
    assert claire.tier == Customer.Tier.GOLD and claire.tier_since is not None
    reasons_refresh()
    assert not _open("milestone")


def test_a_favourite_back_in_stock_then_closed_when_out_again(claire):
    boots = ProductFactory(name="Ankle boots", in_stock=False)
    EngagementEventFactory(
        customer=claire,
        kind="favourite",
        product=boots,
        occurred_at=NOW - datetime.timedelta(days=20),
    )
    reasons_refresh()
    assert not _open("back_in_stock")

    assert product_set_stock(product=boots, in_stock=True) is True
    assert product_set_stock(product=boots, in_stock=True) is False  # already in stock
    reasons_refresh()
    (reason,) = _open("back_in_stock")
    assert (
        reason.why
        == "Ankle boots, which Claire saved as a favourite on Sat 31 Oct, is back in stock."
    )

    product_set_stock(product=boots, in_stock=False)
    reasons_refresh()
    reason.refresh_from_db()
    assert reason.closed_note == "Out of stock again."


def test_new_arrival_of_a_loved_brand_in_their_size_once_per_client(claire):
    from customers.models import Preference, Size

    brand = BrandFactory(name="Maison Arlo")
    dresses = CategoryFactory(name="Dresses")
    Preference.objects.create(customer=claire, kind="brand", value="Maison Arlo", brand=brand)
    Size.objects.create(customer=claire, category=dresses, size="38")
    ProductFactory(
        name="Arlo slip dress",
        brand=brand,
        category=dresses,
        sizes=["36", "38"],
        arrived_at=datetime.date(2026, 11, 18),
    )
    ProductFactory(
        name="Arlo wrap dress",
        brand=brand,
        category=dresses,
        sizes=["38"],
        arrived_at=datetime.date(2026, 11, 12),
    )
    ProductFactory(
        name="Arlo petite",
        brand=brand,
        category=dresses,
        sizes=["32"],
        arrived_at=datetime.date(2026, 11, 19),
    )

    reasons_refresh()

    (reason,) = _open("new_arrival")
    assert (
        reason.why
        == "New from Maison Arlo, a brand Claire loves: Arlo slip dress arrived Wed 18 Nov, in Claire's size 38."
    )


def test_refresh_twice_changes_nothing(claire, store):
    claire.birthday = datetime.date(1985, 11, 22)
    claire.save()
    _order(claire, days_ago=1, total="900.00")
    first = reasons_refresh()
    snapshot = sorted(
        Reason.objects.values_list("kind", "customer_id", "source_key", "why", "score", "state")
    )
    second = reasons_refresh()
    assert sum(kind["opened"] for kind in first.values()) >= 3
    assert all(kind["opened"] == 0 and kind["closed"] == 0 for kind in second.values())
    assert (
        sorted(
            Reason.objects.values_list("kind", "customer_id", "source_key", "why", "score", "state")
        )
        == snapshot
    )


def test_scores_explain_value_urgency_and_likelihood(claire, store):
    claire.tier = "platinum"
    claire.birthday = datetime.date(1985, 11, 22)
    claire.save()
    EngagementEventFactory(customer=claire, occurred_at=NOW - datetime.timedelta(days=2))
    quiet = CustomerFactory(
        first_name="Quiet", home_store=store, birthday=datetime.date(1990, 11, 22)
    )
    reasons_refresh()
    loud, silent = Reason.objects.get(customer=claire), Reason.objects.get(customer=quiet)
    assert loud.score_parts == {"value": 40, "urgency": 28, "likelihood": 25}
    assert loud.score == 93
    assert silent.score_parts == {"value": 10, "urgency": 28, "likelihood": 5}
    assert loud.score > silent.score


def test_refresh_for_a_few_clients_leaves_the_others_alone(claire, store):
    other = CustomerFactory(home_store=store, birthday=datetime.date(1990, 11, 22))
    claire.birthday = datetime.date(1985, 11, 22)
    claire.save()
    reasons_refresh(customer_ids=[claire.pk])
    assert list(Reason.objects.values_list("customer_id", flat=True)) == [claire.pk]
    reasons_refresh()
    assert Reason.objects.filter(customer=other).exists()


def test_refresh_query_count_does_not_grow_with_clients(store, django_assert_max_num_queries):
    for _ in range(30):
        customer = CustomerFactory(home_store=store, birthday=datetime.date(1980, 11, 21))
        _order(customer, days_ago=1, total="500.00")
    # A fixed set of statements per kind, plus one batch of inserts per 2,000 reasons.
    with django_assert_max_num_queries(60):
        reasons_refresh()
    assert Reason.objects.count() == 90  # birthday, thank-you and welcome for each


def test_a_product_used_in_a_makeover_raises_a_replenishment_reason_closed_by_a_purchase(claire):
    from customers.services import replenishment_from_use

    serum = ProductFactory(name="Rose serum", replenish_after_days=30)
    lipstick = ProductFactory(name="Lipstick", replenish_after_days=None)
    used_on = datetime.date(2026, 11, 10)

    reason = replenishment_from_use(
        customer=claire,
        product=serum,
        used_on=used_on,
        source_key="makeover:1:product:1",
        how="used",
    )
    again = replenishment_from_use(
        customer=claire,
        product=serum,
        used_on=used_on,
        source_key="makeover:1:product:1",
        how="used",
    )
    assert (
        replenishment_from_use(
            customer=claire, product=lipstick, used_on=used_on, source_key="makeover:1:product:2"
        )
        is None
    )

    assert reason.pk == again.pk and Reason.objects.count() == 1
    assert (
        reason.why
        == "Claire used Rose serum on Tue 10 Nov: it lasts about 30 days, so it runs out around Thu 10 Dec."
    )
    assert reason.due_on == datetime.date(2026, 12, 3)
    with time_machine.travel(NOW + datetime.timedelta(days=2), tick=False):
        OrderLineFactory(order=_order(claire, days_ago=0), product=serum)
        reasons_refresh()
    reason.refresh_from_db()
    assert (reason.state, reason.closed_note) == ("resolved", "Bought it again.")


def test_a_left_cart_is_a_reason_once_per_product_until_it_is_bought(claire, frozen):
    tote = ProductFactory(name="Tote bag", in_stock=True)
    scarf = ProductFactory(name="Silk scarf", in_stock=True)
    for days_ago in (3, 1):  # left twice: one reason, dated by the last time
        EngagementEventFactory(
            customer=claire,
            kind="cart_abandoned",
            product=tote,
            occurred_at=NOW - datetime.timedelta(days=days_ago),
        )
    EngagementEventFactory(  # too long ago to say anything
        customer=claire,
        kind="cart_abandoned",
        product=scarf,
        occurred_at=NOW - datetime.timedelta(days=20),
    )

    reasons_refresh()
    (reason,) = _open("cart_abandoned")
    assert reason.product == tote
    assert reason.why == "Claire left Tote bag in the cart on Thu 19 Nov without buying it."
    assert reason.due_on == datetime.date(2026, 11, 20)
    reasons_refresh()
    assert len(_open("cart_abandoned")) == 1

    frozen.shift(datetime.timedelta(hours=2))
    OrderLineFactory(order=_order(claire), product=tote)
    reasons_refresh()
    reason.refresh_from_db()
    assert (reason.state, reason.closed_note) == ("resolved", "Bought it.")


def test_a_cart_already_bought_or_no_longer_on_sale_raises_nothing(claire, frozen):
    bought = ProductFactory(in_stock=True)
    gone = ProductFactory(in_stock=False)
    for product in (bought, gone):
        EngagementEventFactory(
            customer=claire,
            kind="cart_abandoned",
            product=product,
            occurred_at=NOW - datetime.timedelta(days=2),
        )
    OrderLineFactory(order=_order(claire, days_ago=1), product=bought)
    reasons_refresh()
    assert not _open("cart_abandoned")


def test_a_wishlist_piece_is_a_reason_closed_when_bought_or_sold_out(claire, store, frozen):
    coat = ProductFactory(name="Camel coat", in_stock=True)
    boots = ProductFactory(name="Ankle boots", in_stock=True)
    maya = CustomerFactory(first_name="Maya", home_store=store)
    EngagementEventFactory(
        customer=claire,
        kind="favourite",
        product=coat,
        occurred_at=NOW - datetime.timedelta(days=5),
    )
    EngagementEventFactory(
        customer=maya,
        kind="favourite",
        product=boots,
        occurred_at=NOW - datetime.timedelta(days=2),
    )

    reasons_refresh()
    claires, mayas = sorted(_open("wishlist"), key=lambda reason: reason.customer_id)
    assert (
        claires.why == "Claire saved Camel coat to a wishlist on Sun 15 Nov: offer to put it aside."
    )
    assert (claires.product, mayas.product) == (coat, boots)

    frozen.shift(datetime.timedelta(hours=2))
    OrderLineFactory(order=_order(claire), product=coat)
    product_set_stock(product=boots, in_stock=False)
    reasons_refresh()
    claires.refresh_from_db()
    mayas.refresh_from_db()
    assert claires.closed_note == "Bought it."
    assert mayas.closed_note == "No longer on sale."
