"""The catalog and stock feeds: services, API, CSV command, and lines waiting for a SKU."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from clienteling.catalog.ingest import catalog_ingest, stock_ingest
from clienteling.catalog.models import Product, Stock, Variant
from customers.models import Order, OrderLine
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

CATALOG_URL = "/api/v1/catalog/bulk/"
STOCK_URL = "/api/v1/stock/bulk/"
ORDERS_URL = "/api/v1/orders/bulk/"

CATALOG_CSV = """sku,product_ref,name,brand,category,price,size,colour,barcode,url,image_urls,description
PUMP-38,PUMP,Sable pump,Maison Lune,Shoes,320.00,38,black,3700000000381,https://shop.example/pump,,Leather pump
PUMP-39,PUMP,Sable pump,Maison Lune,Shoes,320.00,39,black,3700000000398,https://shop.example/pump,,
PUMP-40,PUMP,Sable pump,Maison Lune,Shoes,320.00,40,black,3700000000404,https://shop.example/pump,,
DRESS-S,DRESS,Linen dress,Atelier Nord,Dresses,210,S,ivory,,https://shop.example/dress,,
"""

STOCK_CSV = """store,sku,quantity,counted_at
nyc-soho,PUMP-38,2,2026-05-01T09:00:00Z
nyc-soho,PUMP-39,0,2026-05-01T09:00:00Z
paris-marais,PUMP-39,4,2026-05-01T09:00:00Z
paris-marais,DRESS-S,1,2026-05-01T09:00:00Z
"""


def _variant(sku: str, **extra) -> dict:
    return {
        "sku": sku,
        "product_ref": "PUMP",
        "name": "Sable pump",
        "brand": "Maison Lune",
        "category": "Shoes",
        "price": "320.00",
        "size": sku.rsplit("-", 1)[-1],
        **extra,
    }


def test_catalog_ingest_groups_variants_under_one_product_and_is_idempotent():
    items = [_variant("PUMP-38", barcode="123"), _variant("PUMP-39")]

    first = catalog_ingest(items, source="test")
    second = catalog_ingest(items, source="test")

    assert (first.created, first.updated, first.errors) == (2, 0, {})
    assert (second.created, second.updated, second.errors) == (0, 2, {})
    product = Product.objects.get()
    assert (product.sku, product.name, product.brand.name, product.category.name) == (
        "PUMP",
        "Sable pump",
        "Maison Lune",
        "Shoes",
    )
    assert product.sizes == ["38", "39"]
    assert product.price == Decimal("320.00")
    assert dict(Variant.objects.values_list("sku", "barcode")) == {"PUMP-38": "123", "PUMP-39": ""}


def test_catalog_ingest_leaves_missing_keys_alone():
    catalog_ingest(
        [_variant("PUMP-38", url="https://shop.example/pump", colour="black")], source="t"
    )

    result = catalog_ingest([{"sku": "PUMP-38", "product_ref": "PUMP", "price": "280"}], source="t")

    assert result.updated == 1
    product = Product.objects.get()
    assert (product.name, product.url, product.price) == (
        "Sable pump",
        "https://shop.example/pump",
        Decimal("280.00"),
    )
    assert Variant.objects.get().colour == "black"


def test_catalog_ingest_refuses_bad_rows_with_field_messages_and_keeps_the_good_ones():
    result = catalog_ingest(
        [
            _variant("PUMP-38"),
            {"sku": "NEW-1"},  # a new product without name, brand, category, price
            _variant("PUMP-39", price="cheap"),
            _variant("PUMP-40", url="javascript:alert(1)"),
            _variant("PUMP-38"),
            "not an object",
            {"name": "no sku"},
            _variant("PUMP-41", image_urls=["ftp://x/y.jpg"]),
        ],
        source="t",
    )

    assert result.created == 1
    assert set(result.errors) == {1, 2, 3, 4, 5, 6, 7}
    assert set(result.errors[1]) == {"name", "brand", "category", "price"}
    assert result.errors[2] == {"price": ["Not a number."]}
    assert "url" in result.errors[3]
    assert "Appears twice" in result.errors[4]["sku"][0]
    assert "sku" in result.errors[6]
    assert "image_urls" in result.errors[7]
    assert list(Variant.objects.values_list("sku", flat=True)) == ["PUMP-38"]


def test_stock_ingest_counts_per_store_and_keeps_the_flag_derived(store, other_store):
    catalog_ingest([_variant("PUMP-38"), _variant("PUMP-39")], source="t")
    product = Product.objects.get()

    result = stock_ingest(
        [
            {"store": store.code, "sku": "PUMP-38", "quantity": 0},
            {"store": other_store.code, "sku": "PUMP-39", "quantity": 0},
        ],
        source="t",
    )
    assert (result.created, result.errors) == (2, {})
    product.refresh_from_db()
    assert product.in_stock is False

    stock_ingest([{"store": store.code, "sku": "PUMP-38", "quantity": 3}], source="t")
    product.refresh_from_db()
    assert product.in_stock is True
    assert product.restocked_at is not None
    assert Stock.objects.get(store=store, variant__sku="PUMP-38").quantity == 3


def test_stock_ingest_ignores_an_older_count_arriving_late(store):
    catalog_ingest([_variant("PUMP-38")], source="t")
    now = timezone.now()
    stock_ingest(
        [{"store": store.code, "sku": "PUMP-38", "quantity": 5, "counted_at": now.isoformat()}],
        source="t",
    )

    late = stock_ingest(
        [
            {
                "store": store.code,
                "sku": "PUMP-38",
                "quantity": 1,
                "counted_at": now - datetime.timedelta(hours=1),
            }
        ],
        source="t",
    )

    assert late.errors == {}
    assert Stock.objects.get().quantity == 5


def test_stock_ingest_refuses_unknown_store_sku_and_bad_quantity(store):
    catalog_ingest([_variant("PUMP-38")], source="t")

    result = stock_ingest(
        [
            {"store": "nowhere", "sku": "PUMP-38", "quantity": 1},
            {"store": store.code, "sku": "NOPE", "quantity": 1},
            {"store": store.code, "sku": "PUMP-38", "quantity": -1},
            {"store": store.code, "sku": "PUMP-38", "quantity": "2", "counted_at": "yesterday"},
            {"store": store.code, "sku": "PUMP-38", "quantity": True},
        ],
        source="t",
    )

    assert set(result.errors) == {0, 1, 2, 3, 4}
    assert "No store" in result.errors[0]["store"][0]
    assert "feed the catalog first" in result.errors[1]["sku"][0]
    assert "quantity" in result.errors[2]
    assert "counted_at" in result.errors[3]
    assert "quantity" in result.errors[4]
    assert not Stock.objects.exists()


def test_catalog_api_answers_207_with_row_errors(api_client):
    response = api_client.post(
        CATALOG_URL, {"variants": [_variant("PUMP-38"), {"sku": ""}]}, format="json"
    )

    assert response.status_code == 207
    body = response.json()
    assert body["created"] == 1
    assert body["saved"] == [{"index": 0, "sku": "PUMP-38", "created": True}]
    assert body["errors"][0]["index"] == 1
    assert "sku" in body["errors"][0]["errors"]


def test_catalog_api_refuses_an_empty_or_wrong_envelope_with_400(api_client):
    for payload in [{"variants": []}, {"variants": "x"}, {}, [1, 2]]:
        response = api_client.post(CATALOG_URL, payload, format="json")
        assert response.status_code == 400
    assert not Product.objects.exists()


def test_stock_api_bulk_and_single_update(api_client, store):
    catalog_ingest([_variant("PUMP-38")], source="t")

    bulk = api_client.post(
        STOCK_URL,
        {"stock": [{"store": store.code, "sku": "PUMP-38", "quantity": 2}, {"sku": "X"}]},
        format="json",
    )
    single = api_client.put(f"/api/v1/stock/{store.code}/PUMP-38/", {"quantity": 0}, format="json")
    bad = api_client.put(f"/api/v1/stock/{store.code}/NOPE/", {"quantity": 1}, format="json")
    negative = api_client.put(
        f"/api/v1/stock/{store.code}/PUMP-38/", {"quantity": -3}, format="json"
    )

    assert bulk.status_code == 207
    assert single.status_code == 200
    assert bad.status_code == 400 and "sku" in bad.json()
    assert negative.status_code == 400 and "quantity" in negative.json()
    assert Stock.objects.get().quantity == 0
    assert Product.objects.get().in_stock is False


def test_a_store_key_feeds_its_own_store_only(integration, store, other_store):
    from rest_framework.test import APIClient

    from clienteling.integrations.models import IntegrationToken

    catalog_ingest([_variant("PUMP-38")], source="t")
    _, key = IntegrationToken.issue(
        user=integration, name="till", scopes=["catalog:write"], store=store
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = client.post(
        STOCK_URL,
        {
            "stock": [
                {"store": store.code, "sku": "PUMP-38", "quantity": 2},
                {"store": other_store.code, "sku": "PUMP-38", "quantity": 9},
            ]
        },
        format="json",
    )

    assert response.status_code == 207
    assert "only" in response.json()["errors"][0]["errors"]["store"][0]
    assert list(Stock.objects.values_list("store__code", "quantity")) == [(store.code, 2)]


def test_catalog_ingest_links_lines_waiting_for_their_sku(django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    product = ProductFactory(sku="OLD-1")
    order = Order.objects.create(
        customer=customer,
        channel=Order.SalesChannel.ONLINE,
        external_id="W-1",
        placed_at=timezone.now(),
        subtotal=Decimal("90"),
        total=Decimal("90"),
    )
    OrderLine.objects.create(
        order=order, line_number=1, sku="NEW-9", unit_price=Decimal("90"), line_total=Decimal("90")
    )
    OrderLine.objects.create(
        order=order, line_number=2, product=product, sku="OLD-1", unit_price=0, line_total=0
    )

    with django_capture_on_commit_callbacks() as callbacks:
        catalog_ingest(
            [
                {
                    "sku": "NEW-9",
                    "name": "Scarf",
                    "brand": "B",
                    "category": "Accessories",
                    "price": 90,
                }
            ],
            source="t",
        )

    line = OrderLine.objects.get(line_number=1)
    assert line.product.name == "Scarf"
    assert line.variant.sku == "NEW-9"
    # The client's reasons and suggestions are refreshed after commit.
    assert len(callbacks) == 2


def test_csv_catalog_then_stock_then_an_unknown_sku_then_its_catalog_entry(
    api_client, store, other_store, tmp_path, django_capture_on_commit_callbacks
):
    """The issue's "done when": nothing is ever refused, and the line ends up linked."""
    catalog_file = tmp_path / "catalog.csv"
    catalog_file.write_text(CATALOG_CSV)
    stock_file = tmp_path / "stock.csv"
    stock_file.write_text(STOCK_CSV)
    customer = CustomerFactory(home_store=store, pos_customer_id="C-1", first_name="Claire")

    call_command("import_catalog", str(catalog_file))
    call_command("import_stock", str(stock_file))

    assert Variant.objects.count() == 4
    assert Stock.objects.count() == 4
    pump = Product.objects.get(sku="PUMP")
    assert pump.sizes == ["38", "39", "40"]
    assert set(
        Stock.objects.available()
        .filter(variant__product=pump)
        .values_list("store__code", "variant__size")
    ) == {(store.code, "38"), (other_store.code, "39")}

    order = {
        "channel": "store",
        "external_id": "S-1",
        "store": store.code,
        "customer": {"source": "pos", "external_id": "C-1"},
        "placed_at": "2026-05-02T15:00:00Z",
        "total": "515.00",
        "lines": [
            {"sku": "PUMP-38", "unit_price": "320.00", "size": "38"},
            {"sku": "BAG-77", "unit_price": "195.00", "description": "Woven tote, tan"},
        ],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(ORDERS_URL, {"orders": [order]}, format="json")
    assert response.status_code == 200, response.json()
    lines = {line.sku: line for line in OrderLine.objects.all()}
    assert lines["PUMP-38"].variant.size == "38"
    assert lines["BAG-77"].product is None
    assert lines["BAG-77"].label == "Woven tote, tan"
    assert lines["BAG-77"].unit_price == Decimal("195.00")
    customer.refresh_from_db()
    assert customer.lifetime_value == Decimal("515.00")

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            CATALOG_URL,
            {
                "variants": [
                    {
                        "sku": "BAG-77",
                        "product_ref": "TOTE",
                        "name": "Woven tote",
                        "brand": "Maison Lune",
                        "category": "Bags",
                        "price": "195.00",
                        "colour": "tan",
                    }
                ]
            },
            format="json",
        )
    assert response.status_code == 200, response.json()

    line = OrderLine.objects.get(sku="BAG-77")
    assert (line.product.sku, line.variant.sku) == ("TOTE", "BAG-77")
    assert line.product.category.name == "Bags"
    assert OrderLine.objects.filter(product__isnull=True).count() == 0
    assert Order.objects.count() == 1


def test_a_store_key_cannot_count_another_stores_stock_one_at_a_time(
    integration, store, other_store
):
    from rest_framework.test import APIClient

    from clienteling.integrations.models import IntegrationToken

    catalog_ingest([_variant("PUMP-38")], source="t")
    _, key = IntegrationToken.issue(
        user=integration, name="till", scopes=["catalog:write"], store=store
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    refused = client.put(
        reverse("api:stock-update", args=[other_store.code, "PUMP-38"]),
        {"quantity": 9},
        format="json",
    )
    allowed = client.put(
        reverse("api:stock-update", args=[store.code, "PUMP-38"]), {"quantity": 2}, format="json"
    )

    assert refused.status_code == 403
    assert "only" in refused.json()["store"][0]
    assert allowed.status_code == 200
    assert list(Stock.objects.values_list("store__code", "quantity")) == [(store.code, 2)]
