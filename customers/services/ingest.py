"""Bulk ingest from the POS, e-commerce and email platforms.

Each function takes items already validated for shape (types, required fields) by the
API's input serializers, resolves what they refer to (stores, staff, products,
clients) with one query per kind, and writes every item that resolves in one
transaction. Items that do not resolve are answered with field messages and leave
the database untouched. Writes are upserts keyed by external ids backed by unique
constraints, so the same payload sent twice leaves the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from clienteling.catalog.models import Product, Variant
from clienteling.stores.models import StaffMember, Store

from ..models import Customer, EngagementEvent, Order, OrderLine, Source
from ..selectors import book_size_forget
from .consent import ConsentChange, consents_record
from .loyalty import loyalty_earn_for_orders
from .reasons import reasons_refresh_after_commit
from .totals import customer_refresh_totals
from .upsert import upsert_rows

# Which Customer field holds the id a source system knows the client by.
CUSTOMER_ID_FIELDS = {
    Source.POS: "pos_customer_id",
    Source.ECOMMERCE: "ecommerce_customer_id",
}

CUSTOMER_UPSERT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "birthday",
    "anniversary",
    "joined_via",
    "joined_at",
)


@dataclass
class IngestResult:
    """What happened to each item of a bulk request, by its index in the request."""

    saved: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def add_error(self, index: int, external_id: str | None, errors: dict[str, Any]) -> None:
        self.errors.append({"index": index, "external_id": external_id, "errors": errors})

    def sorted(self) -> IngestResult:
        self.saved.sort(key=lambda item: item["index"])
        self.errors.sort(key=lambda item: item["index"])
        return self


def _customer_key(reference: dict[str, Any]) -> tuple[str, str]:
    return reference["source"], reference["external_id"]


def _resolve_customers(references: Iterable[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Map (source, external id) to a client's primary key, one query per source."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for reference in references:
        wanted[reference["source"]].add(reference["external_id"])
    found: dict[tuple[str, str], int] = {}
    for source, external_ids in wanted.items():
        id_field = CUSTOMER_ID_FIELDS[source]
        rows = Customer.objects.filter(**{f"{id_field}__in": external_ids}).values_list(
            id_field, "pk"
        )
        for external_id, pk in rows:
            found[(source, external_id)] = pk
    return found


def _mark_repeats(
    items: list[tuple[int, dict]], key, result: IngestResult, label: str
) -> list[tuple[int, dict]]:
    """Refuse the second and later items with the same key in one request.

    An upsert cannot touch the same row twice in one statement, and the sender almost
    certainly did not mean to send two versions of one record at once.
    """
    seen: dict[Any, int] = {}
    unique: list[tuple[int, dict]] = []
    for index, item in items:
        item_key = key(item)
        if item_key in seen:
            result.add_error(
                index,
                item.get("external_id"),
                {label: [f"Appears twice in this request (first at index {seen[item_key]})."]},
            )
            continue
        seen[item_key] = index
        unique.append((index, item))
    return unique


def customer_upsert_bulk(*, items: list[tuple[int, dict[str, Any]]]) -> IngestResult:
    """Create or update clients by the id their source system knows them by.

    Only the fields present in an item are written, so a system that does not know a
    client's birthday never erases one an associate recorded. Consents in an item are
    appended to the history only when they change the current state: sending the same
    consent twice records it once.
    """
    result = IngestResult()
    items = _mark_repeats(
        items, lambda item: (item["source"], item["external_id"]), result, "external_id"
    )
    store_codes = {item["home_store"] for _, item in items if item.get("home_store")}
    stores = {store.code: store.pk for store in Store.objects.filter(code__in=store_codes)}
    staff_codes = {
        item["assigned_associate"] for _, item in items if item.get("assigned_associate")
    }
    staff = dict(
        StaffMember.objects.filter(employee_code__in=staff_codes).values_list("employee_code", "pk")
    )
    existing = _resolve_customers(
        {"source": item["source"], "external_id": item["external_id"]} for _, item in items
    )

    now = timezone.now()
    # Group rows by the set of fields they carry: one upsert statement per group.
    groups: dict[tuple[str, frozenset[str]], list[tuple[int, dict, Customer]]] = defaultdict(list)
    for index, item in items:
        errors: dict[str, list[str]] = {}
        key = _customer_key(item)
        if item.get("home_store") and item["home_store"] not in stores:
            errors["home_store"] = [f"No store has the code “{item['home_store']}”."]
        if key not in existing:
            if not item.get("home_store"):
                errors["home_store"] = ["A new client needs a home store."]
            if not item.get("first_name"):
                errors["first_name"] = ["A new client needs a first name."]
        if item.get("assigned_associate") and item["assigned_associate"] not in staff:
            errors["assigned_associate"] = [
                f"No staff member has the code “{item['assigned_associate']}”."
            ]
        if errors:
            result.add_error(index, item["external_id"], errors)
            continue
        id_field = CUSTOMER_ID_FIELDS[item["source"]]
        values = {name: item[name] for name in CUSTOMER_UPSERT_FIELDS if name in item}
        if item.get("home_store"):
            values["home_store_id"] = stores[item["home_store"]]
        if "assigned_associate" in item:
            values["assigned_associate_id"] = staff.get(item["assigned_associate"])
        values["updated_at"] = now
        customer = Customer(**{id_field: item["external_id"]}, **values)
        if key in existing:
            customer.pk = existing[key]
        groups[(id_field, frozenset(values))].append((index, item, customer))

    with transaction.atomic():
        for (id_field, field_names), rows in groups.items():
            to_update = [customer for _, _, customer in rows if customer.pk]
            to_create = [customer for _, _, customer in rows if not customer.pk]
            if to_update:
                Customer.objects.bulk_update(
                    to_update, [name.removesuffix("_id") for name in field_names]
                )
            if to_create:
                # A concurrent request may have created the same client meanwhile: the
                # conflict turns into an update instead of an error.
                Customer.objects.bulk_create(
                    to_create,
                    update_conflicts=True,
                    unique_fields=[id_field],
                    update_fields=[name.removesuffix("_id") for name in field_names],
                )
            for index, item, customer in rows:
                result.saved.append(
                    {
                        "index": index,
                        "external_id": item["external_id"],
                        "id": customer.pk,
                        "created": _customer_key(item) not in existing,
                    }
                )
        # Only what changes the consent in force is recorded: a repeated push adds nothing.
        consents_record(
            changes=[
                ConsentChange(
                    customer_id=customer.pk,
                    channel=consent["channel"],
                    granted=consent["granted"],
                    source=item["source"],
                    wording=consent.get("wording", ""),
                    at=consent.get("recorded_at"),
                )
                for rows in groups.values()
                for _, item, customer in rows
                for consent in item.get("consents", [])
            ]
        )
        # Whose books gained clients (those who lost one see it within BOOK_SIZE_SECONDS).
        book_size_forget(
            *{customer.assigned_associate_id for rows in groups.values() for _, _, customer in rows}
        )
    return result.sorted()


ORDER_FIELDS = (
    "placed_at",
    "currency",
    "subtotal",
    "discount",
    "tax",
    "total",
    "status",
    "shipment_status",
    "tracking_number",
    "alteration_status",
    "alteration_ready_on",
)
ORDER_LINE_FIELDS = (
    "product",
    "variant",
    "sku",
    "description",
    "quantity",
    "unit_price",
    "line_total",
    "size",
    "colour",
    "offer_code",
)

# The columns of an order line as `order_ingest_bulk` writes them (the rest take their
# defaults).
ORDER_LINE_COLUMNS = (
    "order_id",
    "line_number",
    "product_id",
    "variant_id",
    "sku",
    "description",
    "quantity",
    "unit_price",
    "line_total",
    "size",
    "colour",
    "offer_code",
)


@dataclass(slots=True)
class _SavedOrder:
    """What the rest of an ingest needs of an order it writes (a model instance per
    order cost more than the write)."""

    channel: str
    external_id: str
    customer_id: int
    pk: int | None = None


def order_ingest_bulk(*, items: list[tuple[int, dict[str, Any]]]) -> IngestResult:
    """Create or replace orders and their lines by (sales channel, external id).

    A repeated order replaces the earlier version: its fields are updated, its lines are
    upserted by line number and lines beyond the new count are removed. Lifetime value,
    order count and tier of every client touched are recomputed in the same transaction.

    A line whose SKU the catalog does not know yet is kept with its SKU, price and
    description and no product; the catalog feed links it when it brings that SKU.

    Cost: six lookups (stores, staff, products, variants, clients, existing orders with
    their clients), then one upsert for orders, one for lines (each one statement built
    from column arrays, `upsert_rows`: no model instance per row), one delete and two
    updates for the clients' totals, whatever the number of items.
    """
    result = IngestResult()
    items = _mark_repeats(
        items, lambda item: (item["channel"], item["external_id"]), result, "external_id"
    )
    stores = {
        store.code: store.pk
        for store in Store.objects.filter(
            code__in={item["store"] for _, item in items if item.get("store")}
        )
    }
    staff = dict(
        StaffMember.objects.filter(
            employee_code__in={item["associate"] for _, item in items if item.get("associate")}
        ).values_list("employee_code", "pk")
    )
    skus = {line["sku"] for _, item in items for line in item["lines"]}
    # A SKU is a variant's, or (products fed before variants) a product's own. One the
    # catalog does not know is kept on the line, linked when the catalog brings it.
    products: dict[str, tuple[int, int | None]] = {
        sku: (product_id, None)
        for sku, product_id in Product.objects.filter(sku__in=skus).values_list("sku", "pk")
    }
    products.update(
        {
            sku: (product_id, variant_id)
            for sku, product_id, variant_id in Variant.objects.filter(sku__in=skus).values_list(
                "sku", "product_id", "pk"
            )
        }
    )
    customers = _resolve_customers(item["customer"] for _, item in items)

    orders: list[tuple[int, dict, _SavedOrder]] = []
    for index, item in items:
        errors: dict[str, Any] = {}
        if item.get("store") and item["store"] not in stores:
            errors["store"] = [f"No store has the code “{item['store']}”."]
        if item.get("associate") and item["associate"] not in staff:
            errors["associate"] = [f"No staff member has the code “{item['associate']}”."]
        if _customer_key(item["customer"]) not in customers:
            errors["customer"] = [
                "Unknown client: push them to /api/v1/customers/bulk first "
                f"(source “{item['customer']['source']}”, id “{item['customer']['external_id']}”)."
            ]
        if errors:
            result.add_error(index, item["external_id"], errors)
            continue
        order = _SavedOrder(
            channel=item["channel"],
            external_id=item["external_id"],
            customer_id=customers[_customer_key(item["customer"])],
        )
        orders.append((index, item, order))

    if not orders:
        return result.sorted()

    # Each order's earlier client too: a re-sent order may have moved to another client,
    # and both need new totals.
    earlier = Order.objects.filter(
        channel__in={order.channel for _, _, order in orders},
        external_id__in={order.external_id for _, _, order in orders},
    ).values_list("channel", "external_id", "customer_id")
    existing = set()
    touched_customers = set()
    for channel, external_id, customer_id in earlier:
        existing.add((channel, external_id))
        touched_customers.add(customer_id)
    # One column per field, as the database stores it; a field an item leaves out takes
    # the model's default, as `Order(...)` would (a re-sent order replaces them all).
    defaults = {name: Order._meta.get_field(name).get_default() for name in ORDER_FIELDS}
    order_columns: dict[str, list[Any]] = {
        "channel": [order.channel for _, _, order in orders],
        "external_id": [order.external_id for _, _, order in orders],
        "customer_id": [order.customer_id for _, _, order in orders],
        "store_id": [stores.get(item.get("store")) for _, item, _ in orders],
        "associate_id": [staff.get(item.get("associate")) for _, item, _ in orders],
        **{
            name: [item.get(name, default) for _, item, _ in orders]
            for name, default in defaults.items()
        },
    }
    with transaction.atomic():
        written = upsert_rows(
            Order,
            order_columns,
            conflict=["channel", "external_id"],
            update=["customer_id", "store_id", "associate_id", *ORDER_FIELDS, "updated_at"],
            returning=True,
        )
        pks = {(channel, external_id): pk for pk, channel, external_id in written}
        order_ids = [pks[order.channel, order.external_id] for _, _, order in orders]
        lines: list[tuple] = []
        cent = Decimal("0.01")
        for (_, item, order), order_id in zip(orders, order_ids, strict=True):
            order.pk = order_id
            touched_customers.add(order.customer_id)
            for position, line in enumerate(item["lines"], start=1):
                quantity = line["quantity"]
                unit_price = line["unit_price"]
                line_total = line.get("line_total")
                if line_total is None:
                    line_total = (unit_price * quantity).quantize(cent)
                product_id, variant_id = products.get(line["sku"], (None, None))
                lines.append(
                    (
                        order_id,
                        position,
                        product_id,
                        variant_id,
                        line["sku"],
                        line.get("description", ""),
                        quantity,
                        unit_price,
                        line_total,
                        line.get("size", ""),
                        line.get("colour", ""),
                        line.get("offer_code", ""),
                    )
                )
        if lines:
            # Rows into columns (in the order of ORDER_LINE_COLUMNS).
            upsert_rows(
                OrderLine,
                dict(zip(ORDER_LINE_COLUMNS, map(list, zip(*lines, strict=True)), strict=True)),
                conflict=["order_id", "line_number"],
                update=list(ORDER_LINE_FIELDS),
                copy=True,
            )
        # Lines beyond an order's new count (a re-sent order that lost lines): one statement.
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {OrderLine._meta.db_table} AS line "  # noqa: S608 (name from _meta)
                "USING unnest(%s::bigint[], %s::integer[]) AS sent(order_id, lines) "
                "WHERE line.order_id = sent.order_id AND line.line_number > sent.lines",
                [order_ids, [len(item["lines"]) for _, item, _ in orders]],
            )
        customer_refresh_totals(customer_ids=touched_customers)
        # Points (idempotent per order), offers redeemed by code, offers their purchases open.
        loyalty_earn_for_orders(order_ids=[order.pk for _, _, order in orders])
        reasons_refresh_after_commit(touched_customers, recommendations=True)

    for index, item, order in orders:
        result.saved.append(
            {
                "index": index,
                "external_id": item["external_id"],
                "id": order.pk,
                "created": (item["channel"], item["external_id"]) not in existing,
            }
        )
    return result.sorted()


def engagement_ingest_bulk(*, items: list[tuple[int, dict[str, Any]]]) -> IngestResult:
    """Record engagement events; an event already recorded (same source and id) is skipped."""
    result = IngestResult()
    items = _mark_repeats(
        items, lambda item: (item["source"], item["external_id"]), result, "external_id"
    )
    customers = _resolve_customers(item["customer"] for _, item in items)
    products = dict(
        Product.objects.filter(
            sku__in={item["sku"] for _, item in items if item.get("sku")}
        ).values_list("sku", "pk")
    )
    existing = set(
        EngagementEvent.objects.filter(
            source__in={item["source"] for _, item in items},
            external_id__in={item["external_id"] for _, item in items},
        ).values_list("source", "external_id")
    )
    events = []
    for index, item in items:
        errors: dict[str, list[str]] = {}
        if _customer_key(item["customer"]) not in customers:
            errors["customer"] = ["Unknown client: push them to /api/v1/customers/bulk first."]
        if item.get("sku") and item["sku"] not in products:
            errors["sku"] = [f"No product has the SKU “{item['sku']}”."]
        if errors:
            result.add_error(index, item["external_id"], errors)
            continue
        created = (item["source"], item["external_id"]) not in existing
        result.saved.append(
            {"index": index, "external_id": item["external_id"], "created": created}
        )
        if created:
            events.append(
                EngagementEvent(
                    customer_id=customers[_customer_key(item["customer"])],
                    kind=item["kind"],
                    product_id=products.get(item.get("sku")),
                    occurred_at=item["occurred_at"],
                    source=item["source"],
                    external_id=item["external_id"],
                )
            )
    # ignore_conflicts: a concurrent push of the same events must not fail this one.
    with transaction.atomic():
        EngagementEvent.objects.bulk_create(events, batch_size=2000, ignore_conflicts=True)
        reasons_refresh_after_commit({event.customer_id for event in events}, recommendations=True)
    return result.sorted()
