"""Webhook bodies in the shapes Shopify documents (REST resources, as its webhooks send
them: shopify.dev, "Webhooks" reference, customers/create, orders/create, refunds/create,
products/create, inventory_levels/update), trimmed to the fields that matter here."""

from __future__ import annotations

import copy

CUSTOMER = {
    "id": 706405506930370084,
    "email": "Bob.Norman@example.com",
    "created_at": "2026-03-01T10:20:30-05:00",
    "updated_at": "2026-03-01T10:20:30-05:00",
    "first_name": "Bob",
    "last_name": "Norman",
    "orders_count": 0,
    "state": "enabled",
    "total_spent": "0.00",
    "verified_email": True,
    "phone": "+16136120707",
    "currency": "USD",
    "addresses": [],
    "admin_graphql_api_id": "gid://shopify/Customer/706405506930370084",
    # Before API 2025-01 the consents came in the customer payload.
    "email_marketing_consent": {
        "state": "subscribed",
        "opt_in_level": "single_opt_in",
        "consent_updated_at": "2026-03-01T10:20:30-05:00",
    },
    "sms_marketing_consent": {
        "state": "not_subscribed",
        "opt_in_level": "single_opt_in",
        "consent_updated_at": None,
        "consent_collected_from": "OTHER",
    },
}

ORDER = {
    "id": 820982911946154508,
    "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
    "name": "#9999",
    "order_number": 1234,
    "email": "bob.norman@example.com",
    "created_at": "2026-03-02T12:00:00-05:00",
    "processed_at": "2026-03-02T12:00:00-05:00",
    "cancelled_at": None,
    "currency": "USD",
    "financial_status": "paid",
    "fulfillment_status": None,
    "source_name": "web",
    "location_id": None,
    "subtotal_price": "398.00",
    "total_discounts": "20.00",
    "total_tax": "30.00",
    "total_price": "408.00",
    "customer": {
        "id": 706405506930370084,
        "email": "bob.norman@example.com",
        "first_name": "Bob",
        "last_name": "Norman",
        "phone": None,
        "created_at": "2026-03-01T10:20:30-05:00",
    },
    "fulfillments": [],
    "refunds": [],
    "line_items": [
        {
            "id": 866550311766439020,
            "variant_id": 808950810,
            "product_id": 632910392,
            "title": "IPod Nano - 8GB",
            "variant_title": "Pink",
            "sku": "IPOD2008PINK",
            "quantity": 1,
            "price": "199.00",
            "total_discount": "20.00",
        },
        {
            "id": 141249953214522974,
            "variant_id": 49148385,
            "product_id": 632910392,
            "title": "Silk scarf",
            "variant_title": None,
            "sku": "",
            "quantity": 1,
            "price": "199.00",
            "total_discount": "0.00",
        },
    ],
}

REFUND = {
    "id": 509562969,
    "order_id": 820982911946154508,
    "created_at": "2026-03-05T09:00:00-05:00",
    "note": "wrong size",
    "refund_line_items": [
        {"id": 1, "line_item_id": 866550311766439020, "quantity": 1, "subtotal": 179.0},
        {"id": 2, "line_item_id": 141249953214522974, "quantity": 1, "subtotal": 199.0},
    ],
    "transactions": [],
}

PRODUCT = {
    "id": 788032119674292922,
    "title": "Mira wrap dress",
    "body_html": "<p>A <strong>silk</strong> wrap dress.</p>",
    "vendor": "Maison Mira",
    "product_type": "Dresses",
    "handle": "mira-wrap-dress",
    "status": "active",
    "options": [
        {"id": 1, "product_id": 788032119674292922, "name": "Size", "position": 1},
        {"id": 2, "product_id": 788032119674292922, "name": "Color", "position": 2},
    ],
    "variants": [
        {
            "id": 642667041472713922,
            "product_id": 788032119674292922,
            "title": "38 / Black",
            "price": "290.00",
            "sku": "MIRA-38-BLK",
            "barcode": "4006381333931",
            "option1": "38",
            "option2": "Black",
            "option3": None,
            "inventory_item_id": 457924702,
        },
        {
            "id": 757650484644203962,
            "product_id": 788032119674292922,
            "title": "40 / Black",
            "price": "290.00",
            "sku": "MIRA-40-BLK",
            "barcode": "",
            "option1": "40",
            "option2": "Black",
            "option3": None,
            "inventory_item_id": 457924703,
        },
    ],
    "images": [{"id": 1, "src": "https://cdn.shopify.com/s/files/mira.jpg"}],
}

INVENTORY_LEVEL = {
    "inventory_item_id": 457924702,
    "location_id": 655441491,
    "available": 3,
    "updated_at": "2026-03-03T08:00:00-05:00",
    "admin_graphql_api_id": "gid://shopify/InventoryLevel/655441491?inventory_item_id=457924702",
}


def payload(base: dict, **changes) -> dict:
    data = copy.deepcopy(base)
    data.update(changes)
    return data
