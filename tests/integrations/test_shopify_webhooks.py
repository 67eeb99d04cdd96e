"""The Shopify webhook endpoint: signed bodies in Shopify's documented shapes, mapped
onto the same ingest services as the API; a bad signature is 401, a repeat a no-op."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from clienteling.integrations.shopify.models import (
    InventoryItem,
    LocationStore,
    ShopConnection,
    WebhookDelivery,
)
from customers.models import ConsentEvent, Customer, Order, OrderLine
from tests.factories import UserFactory

from .shopify_payloads import CUSTOMER, INVENTORY_LEVEL, ORDER, PRODUCT, REFUND, payload

pytestmark = pytest.mark.django_db

URL = "/hooks/shopify/"
SHOP = "soho-boutique.myshopify.com"
SECRET = "shpss_test_client_secret"


@pytest.fixture
def shop(store):
    return ShopConnection.objects.create(
        shop_domain=SHOP, store=store, access_token="shpat_test", webhook_secret=SECRET
    )


def _sign(raw: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def _post(client, body, *, topic: str, webhook_id: str, secret=SECRET, shop=SHOP, signature=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        URL,
        data=raw,
        content_type="application/json",
        HTTP_X_SHOPIFY_HMAC_SHA256=signature if signature is not None else _sign(raw, secret),
        HTTP_X_SHOPIFY_TOPIC=topic,
        HTTP_X_SHOPIFY_WEBHOOK_ID=webhook_id,
        HTTP_X_SHOPIFY_SHOP_DOMAIN=shop,
        HTTP_X_SHOPIFY_API_VERSION="2025-01",
    )


def test_customers_create_makes_the_client_with_the_consents_shopify_recorded(client, shop):
    response = _post(client, CUSTOMER, topic="customers/create", webhook_id="w-1")

    assert response.status_code == 200, response.json()
    assert response.json() == {"outcome": "done", "errors": []}
    bob = Customer.objects.get(ecommerce_customer_id="706405506930370084")
    assert (bob.first_name, bob.last_name, bob.email) == ("Bob", "Norman", "bob.norman@example.com")
    assert str(bob.phone) == "+16136120707"
    assert bob.home_store == shop.store and bob.joined_via == "online"
    # Email said yes (kept with its date); SMS was never asked: nothing recorded.
    [consent] = ConsentEvent.objects.filter(customer=bob)
    assert (consent.channel, consent.granted, consent.source) == ("email", True, "ecommerce")
    assert consent.recorded_at.isoformat() == "2026-03-01T15:20:30+00:00"


def test_a_repeat_of_a_delivery_is_a_200_that_does_nothing(client, shop):
    _post(client, CUSTOMER, topic="customers/create", webhook_id="w-1")
    changed = payload(CUSTOMER, first_name="Robert")

    repeat = _post(client, changed, topic="customers/create", webhook_id="w-1")

    assert repeat.status_code == 200
    assert repeat.json() == {"repeat": True}
    assert Customer.objects.get().first_name == "Bob"
    assert WebhookDelivery.objects.count() == 1
    assert ConsentEvent.objects.count() == 1


@pytest.mark.parametrize(
    "how",
    ["wrong secret", "tampered body", "no signature", "unknown shop", "inactive shop", "garbage"],
)
def test_a_bad_signature_is_a_401_and_nothing_is_saved(client, shop, how):
    raw = json.dumps(CUSTOMER).encode()
    kwargs = {}
    if how == "wrong secret":
        kwargs["secret"] = "not-the-secret"
    elif how == "tampered body":
        kwargs["signature"] = _sign(raw)
        raw = raw.replace(b"Bob", b"Eve")
    elif how == "no signature":
        kwargs["signature"] = ""
    elif how == "unknown shop":
        kwargs["shop"] = "other.myshopify.com"
    elif how == "inactive shop":
        ShopConnection.objects.filter(pk=shop.pk).update(is_active=False)
    elif how == "garbage":
        kwargs["signature"] = "\u00e9\u00e9=="

    response = _post(client, raw, topic="customers/create", webhook_id="w-1", **kwargs)

    assert response.status_code == 401
    assert not Customer.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_a_signed_body_that_is_not_an_object_or_lacks_headers_is_a_400(client, shop):
    assert _post(client, b"[1, 2", topic="orders/create", webhook_id="w-1").status_code == 400
    assert _post(client, b"[1, 2]", topic="orders/create", webhook_id="w-2").status_code == 400
    assert _post(client, CUSTOMER, topic="customers/create", webhook_id="").status_code == 400
    assert client.get(URL).status_code == 405
    assert not WebhookDelivery.objects.exists()


def test_an_order_brings_its_client_and_keeps_lines_of_unknown_skus(client, shop):
    response = _post(client, ORDER, topic="orders/create", webhook_id="w-1")

    assert response.status_code == 200, response.json()
    order = Order.objects.get(external_id="820982911946154508")
    assert order.channel == "online" and order.store is None
    assert order.status == "placed" and order.shipment_status == "pending"
    assert (order.total, order.discount, order.tax) == (
        Decimal("408.00"),
        Decimal("20.00"),
        Decimal("30.00"),
    )
    assert order.customer.ecommerce_customer_id == "706405506930370084"
    lines = list(OrderLine.objects.filter(order=order).order_by("line_number"))
    assert [(line.sku, line.line_total) for line in lines] == [
        ("IPOD2008PINK", Decimal("179.00")),
        ("shopify-variant-49148385", Decimal("199.00")),
    ]
    order.customer.refresh_from_db()
    assert order.customer.lifetime_value == Decimal("408.00")


def test_fulfilled_then_refunded_in_full_follows_the_order(client, shop):
    _post(client, ORDER, topic="orders/create", webhook_id="w-1")
    fulfilled = payload(
        ORDER,
        fulfillment_status="fulfilled",
        fulfillments=[{"id": 1, "status": "success", "tracking_number": "1Z999"}],
    )
    _post(client, fulfilled, topic="orders/fulfilled", webhook_id="w-2")
    order = Order.objects.get()
    assert (order.status, order.shipment_status, order.tracking_number) == (
        "completed",
        "shipped",
        "1Z999",
    )

    partial = payload(REFUND, refund_line_items=REFUND["refund_line_items"][:1])
    _post(client, partial, topic="refunds/create", webhook_id="w-3")
    assert Order.objects.get().status == "completed"  # one unit of two refunded
    rest = payload(REFUND, id=509562970, refund_line_items=REFUND["refund_line_items"][1:])
    response = _post(client, rest, topic="refunds/create", webhook_id="w-4")

    assert response.json()["outcome"] == "done"
    assert Order.objects.get().status == "returned"
    assert Customer.objects.get().lifetime_value == Decimal("0.00")


def test_a_refund_of_an_order_never_received_is_refused_with_why(client, shop):
    response = _post(client, REFUND, topic="refunds/create", webhook_id="w-1")

    assert response.status_code == 200
    assert response.json()["outcome"] == "refused"
    assert "No order with this id" in json.dumps(response.json()["errors"])


def test_a_sale_at_a_mapped_pos_location_is_a_store_sale(client, shop, other_store):
    LocationStore.objects.create(connection=shop, location_id=655441491, store=other_store)
    pos_sale = payload(ORDER, source_name="pos", location_id=655441491)

    _post(client, pos_sale, topic="orders/create", webhook_id="w-1")

    order = Order.objects.get()
    assert (order.channel, order.store, order.status, order.shipment_status) == (
        "store",
        other_store,
        "completed",
        "n/a",
    )


def test_an_order_refused_by_the_ingest_is_kept_with_its_reasons(client, shop):
    anonymous = payload(ORDER, customer=None)

    response = _post(client, anonymous, topic="orders/create", webhook_id="w-1")

    assert response.status_code == 200
    assert response.json()["outcome"] == "refused"
    delivery = WebhookDelivery.objects.get()
    assert delivery.outcome == "refused" and "customer" in json.dumps(delivery.errors)
    assert not Order.objects.exists()


def test_an_unused_topic_is_acknowledged_and_recorded(client, shop):
    response = _post(client, {"id": 1}, topic="carts/update", webhook_id="w-1")

    assert response.json() == {"outcome": "ignored", "errors": []}


def test_the_2025_consent_topic_records_a_known_clients_choice(client, shop):
    _post(
        client,
        payload(CUSTOMER, email_marketing_consent=None),
        topic="customers/create",
        webhook_id="w-1",
    )
    body = {
        "customer_id": CUSTOMER["id"],
        "email_address": "bob.norman@example.com",
        "email_marketing_consent": {
            "state": "unsubscribed",
            "opt_in_level": "single_opt_in",
            "consent_updated_at": "2026-03-04T10:00:00-05:00",
        },
    }

    _post(client, body, topic="customers/email_marketing_consent_update", webhook_id="w-2")

    [consent] = ConsentEvent.objects.all()
    assert (consent.channel, consent.granted) == ("email", False)


# --- products and inventory: through the catalog feed's services ------------------------


def test_products_feed_the_catalog_and_inventory_levels_the_stock_per_store(client, shop, store):
    from clienteling.catalog.models import Stock, Variant

    LocationStore.objects.create(connection=shop, location_id=655441491, store=store)

    created = _post(client, PRODUCT, topic="products/create", webhook_id="w-1")
    level = _post(client, INVENTORY_LEVEL, topic="inventory_levels/update", webhook_id="w-2")

    assert created.json() == {"outcome": "done", "errors": []}, created.json()
    variant = Variant.objects.select_related("product").get(sku="MIRA-38-BLK")
    assert (variant.size, variant.colour, variant.barcode) == ("38", "Black", "4006381333931")
    assert variant.product.name == "Mira wrap dress"
    assert InventoryItem.objects.get(inventory_item_id=457924702).sku == "MIRA-38-BLK"
    assert level.json() == {"outcome": "done", "errors": []}, level.json()
    stock = Stock.objects.get(variant=variant, store=store)
    assert stock.quantity == 3


def test_inventory_of_an_unmapped_location_or_unknown_item_is_refused_with_why(client, shop):
    response = _post(client, INVENTORY_LEVEL, topic="inventory_levels/update", webhook_id="w-1")

    errors = json.dumps(response.json()["errors"])
    assert response.json()["outcome"] == "refused"
    assert "Unknown inventory item" in errors and "not mapped to a store" in errors


# --- the admin page ---------------------------------------------------------------------


def test_the_admin_connects_a_shop_and_never_shows_its_secrets_back(client, store):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    add = reverse("admin:shopify_shopconnection_add")
    form = {
        "shop_domain": "https://Soho-Boutique.myshopify.com/",
        "store": store.pk,
        "access_token": "shpat_secret_token",
        "webhook_secret": "shpss_secret",
        "storefront_url": "",
        "is_active": "on",
        "locations-TOTAL_FORMS": "1",
        "locations-INITIAL_FORMS": "0",
        "locations-MIN_NUM_FORMS": "0",
        "locations-MAX_NUM_FORMS": "1000",
        "locations-0-location_id": "655441491",
        "locations-0-store": store.pk,
    }

    response = client.post(add, form)

    assert response.status_code == 302, response.content.decode()[:3000]
    shop = ShopConnection.objects.get()
    assert shop.shop_domain == SHOP
    assert shop.locations.get().store == store
    change = reverse("admin:shopify_shopconnection_change", args=[shop.pk])
    page = client.get(change).content.decode()
    assert "shpat_secret_token" not in page and "shpss_secret" not in page
    assert "/hooks/shopify/" in page and "never" in page
    # Saving again with empty boxes keeps both secrets.
    form.update(
        {
            "access_token": "",
            "webhook_secret": "",
            "locations-INITIAL_FORMS": "1",
            "locations-0-id": shop.locations.get().pk,
            "locations-0-connection": shop.pk,
        }
    )
    assert client.post(change, form).status_code == 302
    shop.refresh_from_db()
    assert (shop.access_token, shop.webhook_secret) == ("shpat_secret_token", "shpss_secret")
