"""The Shopify backfill: pages through the Admin GraphQL API (a fake on loopback, reached
by the real HTTP client) with cursors, waits as the cost throttle asks, and ingests
through the same services as the webhooks."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from clienteling.integrations.shopify import backfill
from clienteling.integrations.shopify.models import LocationStore, ShopConnection, SyncRun
from customers.models import ConsentEvent, Customer, Order, OrderLine

from .fake_shopify import TOKEN, FakeShopifyGraphQL

pytestmark = pytest.mark.django_db

SHOP = "soho-boutique.myshopify.com"


def _money(amount: str) -> dict:
    return {"shopMoney": {"amount": amount, "currencyCode": "USD"}}


def _customer(n: int) -> dict:
    return {
        "legacyResourceId": str(1000 + n),
        "firstName": f"Client{n}",
        "lastName": "Shopper",
        "email": f"client{n}@example.com",
        "phone": None,
        "createdAt": "2025-01-02T10:00:00Z",
        "emailMarketingConsent": {
            "marketingState": "SUBSCRIBED" if n % 2 else "NOT_SUBSCRIBED",
            "marketingOptInLevel": "SINGLE_OPT_IN",
            "consentUpdatedAt": "2025-01-02T10:00:00Z",
        },
        "smsMarketingConsent": None,
    }


def _order(n: int, customer: int) -> dict:
    return {
        "legacyResourceId": str(5000 + n),
        "name": f"#{n}",
        "createdAt": "2025-02-01T12:00:00Z",
        "processedAt": "2025-02-01T12:00:00Z",
        "cancelledAt": None,
        "sourceName": "pos" if n == 0 else "web",
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "FULFILLED",
        "currencyCode": "USD",
        "subtotalPriceSet": _money("290.00"),
        "totalPriceSet": _money("290.00"),
        "totalTaxSet": _money("0.00"),
        "totalDiscountsSet": _money("0.00"),
        "physicalLocation": {"legacyResourceId": "655441491"} if n == 0 else None,
        "customer": {
            "legacyResourceId": str(1000 + customer),
            "firstName": f"Client{customer}",
            "lastName": "Shopper",
            "email": f"client{customer}@example.com",
            "phone": None,
            "createdAt": "2025-01-02T10:00:00Z",
        },
        "fulfillments": [{"trackingInfo": [{"number": f"1Z{n}"}], "displayStatus": "DELIVERED"}],
        "lineItems": {
            "nodes": [
                {
                    "id": f"gid://shopify/LineItem/{90000 + n}",
                    "sku": "MIRA-38-BLK",
                    "name": "Mira wrap dress - 38 / Black",
                    "quantity": 1,
                    "originalUnitPriceSet": _money("290.00"),
                    "totalDiscountSet": _money("0.00"),
                    "variant": {"legacyResourceId": "642667041472713922"},
                }
            ]
        },
    }


PRODUCT_NODE = {
    "legacyResourceId": "788032119674292922",
    "title": "Mira wrap dress",
    "handle": "mira-wrap-dress",
    "vendor": "Maison Mira",
    "productType": "Dresses",
    "descriptionHtml": "<p>Silk.</p>",
    "options": [{"name": "Size", "position": 1}, {"name": "Color", "position": 2}],
    "images": {"nodes": [{"url": "https://cdn.shopify.com/s/files/mira.jpg"}]},
    "variants": {
        "nodes": [
            {
                "legacyResourceId": "642667041472713922",
                "sku": "MIRA-38-BLK",
                "barcode": "4006381333931",
                "price": "290.00",
                "selectedOptions": [
                    {"name": "Size", "value": "38"},
                    {"name": "Color", "value": "Black"},
                ],
                "inventoryItem": {"legacyResourceId": "457924702"},
            }
        ]
    },
}


@pytest.fixture
def shop(store):
    connection = ShopConnection.objects.create(
        shop_domain=SHOP, store=store, access_token=TOKEN, webhook_secret="s"
    )
    LocationStore.objects.create(connection=connection, location_id=655441491, store=store)
    return connection


@pytest.fixture
def sleeps(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(backfill, "sleep", slept.append)
    return slept


@pytest.fixture
def fake(settings):
    server = FakeShopifyGraphQL(
        customers=[_customer(n) for n in range(130)],
        orders=[_order(n, customer=n % 130) for n in range(60)],
        products=[PRODUCT_NODE],
    )
    settings.SHOPIFY_API_BASE_URL = server.url
    settings.SHOPIFY_API_VERSION = "2025-01"
    with server:
        yield server


def test_the_backfill_pages_through_customers_products_and_orders(shop, fake, sleeps):
    out = io.StringIO()

    call_command("shopify_backfill", "--shop", SHOP, stdout=out)

    assert Customer.objects.count() == 130
    assert ConsentEvent.objects.filter(channel="email", granted=True).count() == 65
    assert Order.objects.count() == 60
    assert OrderLine.objects.filter(sku="MIRA-38-BLK", product__isnull=False).count() == 60
    in_store = Order.objects.get(external_id="5000")
    assert (in_store.channel, in_store.store) == ("store", shop.store)
    online = Order.objects.get(external_id="5001")
    assert (online.shipment_status, online.tracking_number) == ("delivered", "1Z1")
    assert Customer.objects.get(ecommerce_customer_id="1001").lifetime_value == Decimal("290.00")
    # Cursor pagination: customers in two pages (100 + 30), orders in two (50 + 10).
    cursors = [
        (r["query"].split("(")[0].split()[-1], r["variables"]["after"]) for r in fake.received
    ]
    assert cursors == [
        ("Customers", None),
        ("Customers", "100"),
        ("Products", None),
        ("Orders", None),
        ("Orders", "50"),
    ]
    run = SyncRun.objects.get()
    assert run.counts == {"customers": 130, "products": 1, "orders": 60}
    assert run.errors == [] and run.failure == "" and run.finished_at is not None
    assert "orders: 60 saved" in out.getvalue()
    assert sleeps == []  # the bucket was full all along


def test_the_backfill_waits_when_throttled_and_retries_server_errors(shop, fake, sleeps):
    fake.script = ["throttled", 503]
    fake.currently_available = 6.0  # below what a page costs: wait for it to refill
    fake.page_cost = 12
    fake.restore_rate = 50.0

    run = backfill.shopify_backfill(connection=shop, resources=("customers",))

    assert run.failure == ""
    assert run.counts == {"customers": 130}
    # Throttled: (102 requested - 2 available) / 50 a second; the 503: 2 ** attempt (4 s);
    # then after each page, (12 cost - 6 available) / 50.
    assert sleeps[:2] == [2.0, 4.0]
    assert sleeps[2:] == [pytest.approx(0.12), pytest.approx(0.12)]
    assert len(fake.received) == 4


def test_a_refused_token_stops_the_run_and_says_why(shop, fake, sleeps):
    ShopConnection.objects.filter(pk=shop.pk).update(access_token="wrong")

    with pytest.raises(CommandError, match="refused the access token"):
        call_command("shopify_backfill", "--shop", SHOP, stdout=io.StringIO())

    run = SyncRun.objects.get()
    assert "401" in run.failure and run.finished_at is not None
    assert not Customer.objects.exists()


def test_a_shop_that_keeps_failing_stops_after_a_few_attempts(shop, fake, sleeps):
    fake.script = [503] * 10

    run = backfill.shopify_backfill(connection=shop, resources=("products",))

    assert "503" in run.failure
    assert len(fake.received) == backfill.MAX_ATTEMPTS


def test_refused_items_are_listed_on_the_run(shop, fake, sleeps):
    fake.nodes["orders"] = [{**_order(1, customer=1), "customer": None}]

    run = backfill.shopify_backfill(connection=shop, resources=("orders",))

    assert run.counts == {"orders": 0}
    [error] = run.errors
    assert error["resource"] == "orders" and error["ref"] == "5001"
    assert "customer" in error["errors"]


def test_the_command_refuses_an_unknown_shop_or_resource(shop):
    with pytest.raises(CommandError, match="No shop"):
        call_command("shopify_backfill", "--shop", "nope.myshopify.com")
    with pytest.raises(CommandError, match="Resources are"):
        call_command("shopify_backfill", "--shop", SHOP, "--only", "carts")
