"""What reads stock per store and size: suggestions, back-in-stock and new-arrival reasons,
selections and the card ("in stock in her size, here, or at which store")."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from clienteling.catalog.ingest import catalog_ingest, stock_ingest
from clienteling.catalog.models import Category, Product
from customers.models import EngagementEvent, Order, OrderLine, Preference, Size
from customers.services import recommendations_refresh
from customers.services.reasons import _back_in_stock, _new_arrival
from customers.services.recommendations import (
    recommendations_refresh_plan,
    recommendations_refresh_range,
)
from tests.factories import CustomerFactory, SelectionFactory, SelectionItemFactory

pytestmark = pytest.mark.django_db


def _shoe(ref: str, *, sizes=("38", "39"), url: str = "") -> Product:
    catalog_ingest(
        [
            {
                "sku": f"{ref}-{size}",
                "product_ref": ref,
                "name": f"Shoe {ref}",
                "brand": "Lune",
                "category": "Shoes",
                "price": "300",
                "size": size,
                **({"url": url} if url else {}),
            }
            for size in sizes
        ],
        source="t",
    )
    return Product.objects.get(sku=ref)


def _count(store, sku: str, quantity: int) -> None:
    result = stock_ingest([{"store": store.code, "sku": sku, "quantity": quantity}], source="t")
    assert result.errors == {}


@pytest.fixture
def claire(store):
    customer = CustomerFactory(first_name="Claire", home_store=store)
    return customer


def _size(customer, size: str = "38") -> None:
    Size.objects.create(customer=customer, category=Category.objects.get(name="Shoes"), size=size)


def test_a_suggested_shoe_is_in_her_size_at_her_store(claire, store, other_store):
    here, elsewhere, other_size = _shoe("HERE"), _shoe("AWAY"), _shoe("BIG")
    _size(claire)
    _count(store, "HERE-38", 2)
    _count(other_store, "AWAY-38", 5)
    _count(store, "AWAY-39", 5)
    _count(store, "BIG-39", 3)

    recommendations_refresh(customer_ids=[claire.pk])

    suggested = {rec.product_id: rec for rec in claire.recommendations.all()}
    assert here.pk in suggested
    assert "at the home store" in suggested[here.pk].why
    assert elsewhere.pk not in suggested
    assert other_size.pk not in suggested

    _count(store, "HERE-38", 0)
    recommendations_refresh(customer_ids=[claire.pk])
    assert here.pk not in set(claire.recommendations.values_list("product_id", flat=True))


def test_the_nightly_ranges_know_her_store_too(claire, store, other_store):
    """The nightly job's id ranges read each client's home store as the single refresh
    does (they read none: "at the home store" never said, her size on another store's
    shelves suggested, and 70% of the clients rewritten at each switch between the two
    at 100,000 clients, issue 20)."""
    here, elsewhere = _shoe("HERE"), _shoe("AWAY")
    _size(claire)
    _count(store, "HERE-38", 2)
    _count(other_store, "AWAY-38", 5)
    _count(store, "AWAY-39", 5)

    for low, high in recommendations_refresh_plan()["ranges"]:
        recommendations_refresh_range(low=low, high=high)

    suggested = {rec.product_id: rec for rec in claire.recommendations.all()}
    assert "at the home store" in suggested[here.pk].why
    assert elsewhere.pk not in suggested
    # The single-process refresh finds nothing to change.
    assert recommendations_refresh(customer_ids=[claire.pk])["changed"] == 0


def test_back_in_stock_only_when_back_in_her_size_at_her_store(claire, store, other_store):
    shoe = _shoe("FAV")
    _size(claire)
    _count(store, "FAV-38", 0)
    EngagementEvent.objects.create(
        customer=claire,
        kind=EngagementEvent.Kind.FAVOURITE,
        product=shoe,
        occurred_at=timezone.now() - datetime.timedelta(days=3),
    )
    today = timezone.localdate()

    _count(other_store, "FAV-38", 4)  # back, but at another store
    _count(store, "FAV-39", 4)  # back here, but not in her size
    assert Product.objects.get(pk=shoe.pk).in_stock is True
    assert list(_back_in_stock(today, {claire.pk})) == []

    _count(store, "FAV-38", 1)
    [candidate] = list(_back_in_stock(today, {claire.pk}))
    assert candidate.product_id == shoe.pk


def test_new_arrival_only_when_her_size_is_at_her_store(claire, store, other_store):
    shoe = _shoe("NEW")
    _size(claire)
    Preference.objects.create(
        customer=claire,
        kind=Preference.Kind.BRAND,
        sentiment=Preference.Sentiment.LIKE,
        value="Lune",
        brand=shoe.brand,
    )
    today = timezone.localdate()
    _count(other_store, "NEW-38", 2)
    assert list(_new_arrival(today, {claire.pk})) == []

    _count(store, "NEW-38", 2)
    [candidate] = list(_new_arrival(today, {claire.pk}))
    assert candidate.product_id == shoe.pk


def test_the_selection_page_has_a_buy_link_and_says_which_store_has_her_size(
    client, claire, store, other_store
):
    here = _shoe("SEL", url="https://shop.example/sel")
    away = _shoe("FAR")
    _count(store, "SEL-38", 1)
    _count(other_store, "SEL-38", 1)
    _count(other_store, "FAR-38", 2)
    selection = SelectionFactory(customer=claire, item=None)
    SelectionItemFactory(selection=selection, product=here, size="38", position=0)
    SelectionItemFactory(selection=selection, product=away, size="38", position=1)

    page = client.get(f"/s/{selection.token}/").content.decode()

    assert f"Your size 38 is in store at {store.name}, and at {other_store.name}." in page
    assert 'href="https://shop.example/sel"' in page
    assert f"Your size 38 is at {other_store.name}: we can bring it to {store.name}" in page


def test_the_card_shows_a_line_whose_sku_is_not_in_the_catalog_yet(client, associate, store):
    customer = CustomerFactory(home_store=store, assigned_associate=associate)
    order = Order.objects.create(
        customer=customer,
        channel=Order.SalesChannel.STORE,
        store=store,
        external_id="S-9",
        placed_at=timezone.now(),
        subtotal=Decimal("95"),
        total=Decimal("95"),
    )
    OrderLine.objects.create(
        order=order,
        line_number=1,
        sku="ZZ-404",
        description="Silk scarf, navy",
        unit_price=Decimal("95"),
        line_total=Decimal("95"),
    )
    client.force_login(associate.user)

    page = client.get(f"/clients/{customer.pk}/").content.decode()

    assert "Silk scarf, navy" in page
    assert "SKU ZZ-404 · not in the catalog yet" in page
