"""Shopify's payloads, as its webhooks send them (REST resource shapes), mapped onto the
items the ingest services take. Pure functions: no query, no write.

The backfill turns GraphQL nodes into the same shapes first (`backfill.py`), so one set of
rules decides what a Shopify customer, order or product is here.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.html import strip_tags

from customers.models import Order, Source

# Shopify's marketing states: only an explicit yes or no is a consent worth recording
# ("not_subscribed" means never asked; "pending" awaits a double opt-in).
CONSENT_STATES = {"subscribed": True, "unsubscribed": False}
CONSENT_CHANNELS = {"email_marketing_consent": "email", "sms_marketing_consent": "sms"}
SIZE_OPTIONS = {"size", "taille", "talla", "größe", "groesse", "taglia"}
COLOUR_OPTIONS = {"color", "colour", "couleur", "farbe", "colore"}


class PayloadError(ValueError):
    """The payload lacks what every item needs (its id): refused whole, with why."""


def _id(payload: dict[str, Any], key: str = "id") -> str:
    value = payload.get(key) if isinstance(payload, dict) else None
    if value in (None, "") or isinstance(value, (dict, list, bool)):
        raise PayloadError(f"The payload has no “{key}”.")
    return str(value)


def _money(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        return str(Decimal(str(value)).quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError):
        return str(value)  # the serializer says what is wrong with it


def customer_item(
    payload: dict[str, Any], *, store_code: str | None, known: bool
) -> dict[str, Any]:
    """A Shopify customer as an item of `customer_upsert_bulk` (source e-commerce).

    A new client gets the shop's store as home store; a known one keeps theirs (the POS
    may have moved them). Shopify allows a client without a name: the first name falls
    back to the last name, then to the email's local part, so nobody is refused for it.
    """
    item: dict[str, Any] = {"source": Source.ECOMMERCE, "external_id": _id(payload)}
    email = (payload.get("email") or "").strip()
    first = (payload.get("first_name") or "").strip()
    last = (payload.get("last_name") or "").strip()
    if first or last or email:
        item["first_name"] = (first or last or email.split("@")[0])[:100]
        item["last_name"] = last if first else ""
    if "email" in payload:
        item["email"] = email
    if "phone" in payload:
        item["phone"] = payload.get("phone") or ""
    if payload.get("created_at"):
        item["joined_at"] = payload["created_at"]
    if not known:
        item["joined_via"] = "online"
        if store_code:
            item["home_store"] = store_code
    consents = []
    for key, channel in CONSENT_CHANNELS.items():
        consent = payload.get(key)
        if not isinstance(consent, dict) or consent.get("state") not in CONSENT_STATES:
            continue
        entry: dict[str, Any] = {
            "channel": channel,
            "granted": CONSENT_STATES[consent["state"]],
            "wording": f"Shopify marketing consent ({consent.get('opt_in_level') or 'unknown level'})",
        }
        if consent.get("consent_updated_at"):
            entry["recorded_at"] = consent["consent_updated_at"]
        consents.append(entry)
    if consents:
        item["consents"] = consents
    return item


def _order_status(payload: dict[str, Any], *, in_store: bool) -> str:
    if payload.get("cancelled_at"):
        return Order.Status.CANCELLED
    if payload.get("financial_status") == "refunded":
        return Order.Status.RETURNED
    if in_store or payload.get("fulfillment_status") == "fulfilled":
        return Order.Status.COMPLETED
    return Order.Status.PLACED


def _shipment(payload: dict[str, Any]) -> tuple[str, str]:
    fulfillments = [f for f in payload.get("fulfillments") or [] if isinstance(f, dict)]
    tracking = next(
        (f.get("tracking_number") for f in fulfillments if f.get("tracking_number")), ""
    )
    if any(f.get("shipment_status") == "delivered" for f in fulfillments):
        return Order.ShipmentStatus.DELIVERED, tracking or ""
    if payload.get("fulfillment_status") == "fulfilled" or fulfillments:
        return Order.ShipmentStatus.SHIPPED, tracking or ""
    return Order.ShipmentStatus.PENDING, ""


def line_sku(line: dict[str, Any]) -> str:
    """The line's SKU; a variant without one is known by its Shopify variant id."""
    sku = (line.get("sku") or "").strip()
    if sku:
        return sku[:64]
    if line.get("variant_id"):
        return f"shopify-variant-{line['variant_id']}"
    return f"shopify-line-{line.get('id', '')}"


def order_item(payload: dict[str, Any], *, locations: dict[int, str]) -> dict[str, Any]:
    """A Shopify order as an item of `order_ingest_bulk`.

    A sale at a Shopify POS location mapped to a store is a store sale there; anything
    else is an online order. Refunded orders are returned, cancelled ones cancelled.
    """
    external_id = _id(payload)
    location = payload.get("location_id")
    store_code = locations.get(int(location)) if str(location or "").isdigit() else None
    in_store = payload.get("source_name") == "pos" and store_code is not None
    customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    lines = []
    for line in payload.get("line_items") or []:
        if not isinstance(line, dict):
            continue
        quantity = line.get("quantity") or 1
        price = _money(line.get("price"))
        total = None
        try:
            discount = Decimal(str(line.get("total_discount") or "0"))
            total = max(Decimal(str(price)) * int(quantity) - discount, Decimal("0"))
        except (InvalidOperation, TypeError, ValueError):
            pass
        entry: dict[str, Any] = {
            "sku": line_sku(line),
            "quantity": quantity,
            "unit_price": price,
            # Kept with the line when the catalog does not know the SKU yet.
            "description": (line.get("title") or line.get("name") or "")[:200],
            "shopify_line_id": line.get("id"),
        }
        if total is not None:
            entry["line_total"] = str(total.quantize(Decimal("0.01")))
        lines.append(entry)
    shipment, tracking = (
        (Order.ShipmentStatus.NOT_APPLICABLE, "") if in_store else _shipment(payload)
    )
    item = {
        "channel": Order.SalesChannel.STORE if in_store else Order.SalesChannel.ONLINE,
        "external_id": external_id,
        "customer": {"source": Source.ECOMMERCE, "external_id": _id(customer)}
        if customer
        else {"source": Source.ECOMMERCE, "external_id": ""},
        "placed_at": payload.get("processed_at") or payload.get("created_at"),
        "currency": payload.get("currency") or "USD",
        "subtotal": _money(payload.get("subtotal_price")),
        "discount": _money(payload.get("total_discounts")) or "0.00",
        "tax": _money(payload.get("total_tax")) or "0.00",
        "total": _money(payload.get("total_price")),
        "status": _order_status(payload, in_store=in_store),
        "shipment_status": shipment,
        "tracking_number": (tracking or "")[:64],
        "lines": lines,
    }
    if in_store:
        item["store"] = store_code
    return {key: value for key, value in item.items() if value is not None}


def _option_value(product: dict[str, Any], variant: dict[str, Any], names: set[str]) -> str:
    for option in product.get("options") or []:
        if not isinstance(option, dict) or str(option.get("name", "")).lower() not in names:
            continue
        position = option.get("position")
        if position in (1, 2, 3):
            return str(variant.get(f"option{position}") or "")
    return ""


def product_items(payload: dict[str, Any], *, storefront: str) -> tuple[list[dict], list[str]]:
    """A Shopify product as catalog items, one per variant with a SKU, and why any
    variant was left out."""
    product_ref = _id(payload)
    images = [
        image.get("src")
        for image in payload.get("images") or []
        if isinstance(image, dict) and image.get("src")
    ]
    url = f"{storefront.rstrip('/')}/products/{payload['handle']}" if payload.get("handle") else ""
    items, skipped = [], []
    for variant in payload.get("variants") or []:
        if not isinstance(variant, dict):
            continue
        sku = (variant.get("sku") or "").strip()
        if not sku:
            skipped.append(f"Variant {variant.get('id')} of product {product_ref} has no SKU.")
            continue
        items.append(
            {
                "sku": sku[:64],
                "product_ref": product_ref,
                "name": (payload.get("title") or "")[:200],
                "brand": payload.get("vendor") or "",
                "category": payload.get("product_type") or "",
                "price": _money(variant.get("price")),
                "size": _option_value(payload, variant, SIZE_OPTIONS),
                "colour": _option_value(payload, variant, COLOUR_OPTIONS),
                "barcode": variant.get("barcode") or "",
                "url": url,
                "image_urls": images,
                "description": strip_tags(payload.get("body_html") or "").strip(),
            }
        )
    return items, skipped


def inventory_items(payload: dict[str, Any]) -> list[tuple[int, str]]:
    """(inventory item id, SKU) of each variant of a product payload."""
    pairs = []
    for variant in payload.get("variants") or []:
        if isinstance(variant, dict) and variant.get("inventory_item_id") and variant.get("sku"):
            pairs.append((int(variant["inventory_item_id"]), str(variant["sku"]).strip()[:64]))
    return pairs
