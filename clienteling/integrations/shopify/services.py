"""What the Shopify connector does with what a shop sends: every write goes through the
ingest services the API uses (clients, orders) and the catalog's (products, stock).

Each function takes Shopify payloads (webhook shapes; the backfill converts GraphQL
nodes to them), validates the mapped items with the API's own input serializers, calls
the service, and returns an `Outcome`: how many were saved and, for each refused item,
why. Nothing refused is silent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from customers.api import CustomerBulkUpsertApi, OrderBulkIngestApi
from customers.models import Customer
from customers.services.ingest import customer_upsert_bulk, order_ingest_bulk

from . import mapping
from .models import InventoryItem, LocationStore, OrderState, ShopConnection, WebhookDelivery

SOURCE = "shopify"


@dataclass
class Outcome:
    saved: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, ref: Any, why: Any) -> None:
        self.errors.append({"ref": str(ref) if ref is not None else None, "errors": why})

    def add(self, other: Outcome) -> Outcome:
        self.saved += other.saved
        self.errors.extend(other.errors)
        return self


def signature_is_valid(*, body: bytes, secret: str, header: str) -> bool:
    """Shopify signs the raw body: base64 of its HMAC-SHA256 under the app's client
    secret. Compared in constant time."""
    if not secret or not header:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, header.strip().encode(errors="replace"))


def _validate(serializer_class, items: list[tuple[Any, dict]], outcome: Outcome):
    """(index, validated data) of the items the API would accept; the others refused."""
    valid = []
    for index, (ref, item) in enumerate(items):
        serializer = serializer_class(data=item)
        if serializer.is_valid():
            data = dict(serializer.validated_data)
            valid.append((index, data))
        else:
            outcome.refuse(ref, serializer.errors)
    return valid


def _service_errors(result, items: list[tuple[Any, dict]], outcome: Outcome) -> None:
    for error in result.errors:
        outcome.refuse(error.get("external_id"), error.get("errors"))


def customers_ingest(connection: ShopConnection, payloads: list[dict]) -> Outcome:
    """Shopify customers, created or updated by their Shopify id (source e-commerce)."""
    outcome = Outcome()
    ids = [str(payload.get("id")) for payload in payloads if isinstance(payload, dict)]
    known = set(
        Customer.objects.filter(ecommerce_customer_id__in=ids).values_list(
            "ecommerce_customer_id", flat=True
        )
    )
    items = []
    for payload in payloads:
        try:
            item = mapping.customer_item(
                payload, store_code=connection.store.code, known=str(payload.get("id")) in known
            )
        except mapping.PayloadError as error:
            outcome.refuse(None, {"id": [str(error)]})
            continue
        items.append((item["external_id"], item))
    valid = _validate(CustomerBulkUpsertApi.InputSerializer, items, outcome)
    if valid:
        result = customer_upsert_bulk(items=valid)
        outcome.saved += len(result.saved)
        _service_errors(result, items, outcome)
    return outcome


def _locations(connection: ShopConnection) -> dict[int, str]:
    return dict(
        LocationStore.objects.filter(connection=connection).values_list(
            "location_id", "store__code"
        )
    )


def orders_ingest(connection: ShopConnection, payloads: list[dict]) -> Outcome:
    """Shopify orders with their lines. The client each order carries is upserted first
    (an order can arrive before its customers/create), then the orders."""
    outcome = Outcome()
    buyers = {}
    for payload in payloads:
        customer = payload.get("customer") if isinstance(payload, dict) else None
        if isinstance(customer, dict) and customer.get("id"):
            buyers[str(customer["id"])] = customer
    if buyers:
        buyers_outcome = customers_ingest(connection, list(buyers.values()))
        outcome.errors.extend(buyers_outcome.errors)
    locations = _locations(connection)
    items = []
    for payload in payloads:
        try:
            item = mapping.order_item(payload, locations=locations)
        except mapping.PayloadError as error:
            outcome.refuse(None, {"id": [str(error)]})
            continue
        items.append((item["external_id"], item))
    valid = _validate(OrderBulkIngestApi.InputSerializer, items, outcome)
    if not valid:
        return outcome
    result = order_ingest_bulk(items=valid)
    outcome.saved += len(result.saved)
    _service_errors(result, items, outcome)
    saved = {entry["index"] for entry in result.saved}
    states = [
        OrderState(
            connection=connection,
            order_id=int(items[index][1]["external_id"]),
            item=items[index][1],
        )
        for index in sorted(saved)
        if items[index][1]["external_id"].isdigit() and len(items[index][1]["external_id"]) <= 18
    ]
    OrderState.objects.bulk_create(
        states,
        update_conflicts=True,
        unique_fields=["connection", "order_id"],
        update_fields=["item"],
    )
    return outcome


def refund_ingest(connection: ShopConnection, payload: dict) -> Outcome:
    """A refund names the order and the units refunded. Once every unit of the order is
    refunded, the order is ingested again as returned (the client's totals follow)."""
    outcome = Outcome()
    order_id = str(payload.get("order_id") or "")
    state = (
        OrderState.objects.select_for_update()
        .filter(connection=connection, order_id=int(order_id))
        .first()
        if order_id.isdigit() and len(order_id) <= 18
        else None
    )
    if state is None:
        outcome.refuse(
            order_id or None, {"order_id": ["No order with this id came from the shop."]}
        )
        return outcome
    refunded = dict(state.refunded)
    refund_key = str(payload.get("id") or "")
    seen = set(refunded.pop("_refunds", []))
    if refund_key and refund_key in seen:
        return outcome  # the same refund again (its webhook id was new): nothing more
    for line in payload.get("refund_line_items") or []:
        if isinstance(line, dict) and line.get("line_item_id"):
            key = str(line["line_item_id"])
            refunded[key] = refunded.get(key, 0) + int(line.get("quantity") or 0)
    item = dict(state.item)
    every_unit = bool(item.get("lines")) and all(
        refunded.get(str(line.get("shopify_line_id")), 0) >= int(line.get("quantity") or 1)
        for line in item.get("lines", [])
    )
    state.refunded = {**refunded, "_refunds": sorted(seen | {refund_key} - {""})}
    state.save(update_fields=["refunded"])
    if every_unit and item.get("status") != "returned":
        item["status"] = "returned"
        valid = _validate(OrderBulkIngestApi.InputSerializer, [(order_id, item)], outcome)
        if valid:
            result = order_ingest_bulk(items=valid)
            outcome.saved += len(result.saved)
            _service_errors(result, [(order_id, item)], outcome)
        state.item = item
        state.save(update_fields=["item"])
    return outcome


def _catalog_result(result, items: list[dict], outcome: Outcome) -> None:
    """Count what the catalog saved; each refused item (errors by index) says why."""
    outcome.saved += int(getattr(result, "created", 0) or 0) + int(
        getattr(result, "updated", 0) or 0
    )
    errors = getattr(result, "errors", None) or {}
    pairs = errors.items() if isinstance(errors, dict) else enumerate(errors)
    for index, why in pairs:
        item = items[index] if isinstance(index, int) and 0 <= index < len(items) else {}
        outcome.refuse(item.get("sku"), why)


def products_ingest(connection: ShopConnection, payloads: list[dict]) -> Outcome:
    """Shopify products as catalog variants (by SKU), and which inventory item is which
    SKU, so that inventory levels can be read later."""
    from clienteling.catalog.ingest import catalog_ingest  # the catalog feed's service

    outcome = Outcome()
    storefront = connection.storefront_url or f"https://{connection.shop_domain}"
    items: list[dict] = []
    pairs: dict[int, str] = {}
    for payload in payloads:
        try:
            product_items, skipped = mapping.product_items(payload, storefront=storefront)
        except mapping.PayloadError as error:
            outcome.refuse(None, {"id": [str(error)]})
            continue
        items += product_items
        for why in skipped:
            outcome.refuse(payload.get("id"), {"sku": [why]})
        pairs.update(mapping.inventory_items(payload))
    with transaction.atomic():
        if pairs:
            InventoryItem.objects.bulk_create(
                [
                    InventoryItem(connection=connection, inventory_item_id=item_id, sku=sku)
                    for item_id, sku in pairs.items()
                ],
                update_conflicts=True,
                unique_fields=["connection", "inventory_item_id"],
                update_fields=["sku"],
            )
        if items:
            _catalog_result(catalog_ingest(items, source=SOURCE), items, outcome)
    return outcome


def inventory_ingest(connection: ShopConnection, payloads: list[dict]) -> Outcome:
    """Inventory levels (item, location, available) as stock of a SKU at a store."""
    from clienteling.catalog.ingest import stock_ingest  # the catalog feed's service

    outcome = Outcome()
    locations = _locations(connection)
    item_ids = {
        int(p["inventory_item_id"])
        for p in payloads
        if isinstance(p, dict)
        and str(p.get("inventory_item_id") or "").isdigit()
        and len(str(p["inventory_item_id"])) <= 18
    }
    skus = dict(
        InventoryItem.objects.filter(
            connection=connection, inventory_item_id__in=item_ids
        ).values_list("inventory_item_id", "sku")
    )
    rows = []
    for payload in payloads:
        item_id = str(payload.get("inventory_item_id") or "")
        location = str(payload.get("location_id") or "")
        ref = f"{item_id}@{location}"
        errors = {}
        if not item_id.isdigit() or len(item_id) > 18 or int(item_id) not in skus:
            errors["inventory_item_id"] = [
                "Unknown inventory item: its product has not come from the shop yet."
            ]
        if not location.isdigit() or len(location) > 18 or int(location) not in locations:
            errors["location_id"] = [
                "This location is not mapped to a store (the shop's page in the admin)."
            ]
        available = payload.get("available")
        if not isinstance(available, int) or isinstance(available, bool):
            errors["available"] = ["Expected a whole number of units."]
        if errors:
            outcome.refuse(ref, errors)
            continue
        rows.append(
            {
                "store": locations[int(location)],
                "sku": skus[int(item_id)],
                "quantity": max(available, 0),
                "counted_at": payload.get("updated_at"),
            }
        )
    if rows:
        _catalog_result(stock_ingest(rows, source=SOURCE), rows, outcome)
    return outcome


def consent_update_ingest(connection: ShopConnection, payload: dict) -> Outcome:
    """Since API 2025-01 a customer's marketing consents come on topics of their own
    (customers/email_marketing_consent_update, customers/marketing_consent_update), not
    in the customer payload: recorded through the same path, for a known client."""
    customer = {"id": payload.get("customer_id") or payload.get("id")}
    for key in mapping.CONSENT_CHANNELS:
        if isinstance(payload.get(key), dict):
            customer[key] = payload[key]
    return customers_ingest(connection, [customer])


TOPICS = {
    "customers/email_marketing_consent_update": consent_update_ingest,
    "customers/marketing_consent_update": consent_update_ingest,
    "customers/create": lambda connection, payload: customers_ingest(connection, [payload]),
    "customers/update": lambda connection, payload: customers_ingest(connection, [payload]),
    "orders/create": lambda connection, payload: orders_ingest(connection, [payload]),
    "orders/updated": lambda connection, payload: orders_ingest(connection, [payload]),
    "orders/fulfilled": lambda connection, payload: orders_ingest(connection, [payload]),
    "orders/paid": lambda connection, payload: orders_ingest(connection, [payload]),
    "refunds/create": refund_ingest,
    "products/create": lambda connection, payload: products_ingest(connection, [payload]),
    "products/update": lambda connection, payload: products_ingest(connection, [payload]),
    "inventory_levels/update": lambda connection, payload: inventory_ingest(connection, [payload]),
}


def webhook_receive(
    *, connection: ShopConnection, topic: str, webhook_id: str, payload: dict
) -> WebhookDelivery | None:
    """Handle one verified webhook once: None when this webhook id was handled already.

    The delivery row and what the payload writes commit together: a crash in between
    leaves neither, and Shopify's retry does the work.
    """
    with transaction.atomic():
        delivery, created = WebhookDelivery.objects.get_or_create(
            connection=connection, webhook_id=webhook_id[:100], defaults={"topic": topic[:60]}
        )
        if not created:
            return None
        handler = TOPICS.get(topic)
        if handler is None:
            delivery.outcome = WebhookDelivery.Outcome.IGNORED
        else:
            try:
                with transaction.atomic():
                    outcome = handler(connection, payload)
            except ImportError:
                outcome = Outcome()
                outcome.refuse(None, "The catalog feed is not installed: nothing was saved.")
            except mapping.PayloadError as error:
                outcome = Outcome()
                outcome.refuse(None, str(error))
            delivery.errors = outcome.errors
            if not outcome.errors:
                delivery.outcome = WebhookDelivery.Outcome.DONE
            elif outcome.saved:
                delivery.outcome = WebhookDelivery.Outcome.PARTLY
            else:
                delivery.outcome = WebhookDelivery.Outcome.REFUSED
        delivery.save(update_fields=["outcome", "errors"])
    return delivery
