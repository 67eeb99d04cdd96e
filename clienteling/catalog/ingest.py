"""The catalog and stock feeds: what the API, the CSV imports and the connectors call.

`catalog_ingest` creates or updates products and their variants by SKU; `stock_ingest`
records how many of each variant every store holds. Both check every row alone, write
every row that passes in one transaction and answer the others with field messages by
their index, so a feed is never refused whole for one bad row. Both are idempotent: the
same feed sent twice leaves the same rows.

Cost, whatever the number of rows: catalog, a lookup each for brands, categories,
products and variants, one upsert for products and one for variants (plus the handful of
brands or categories it creates); stock, a lookup each for stores, variants and current
counts, one upsert and two UPDATEs for the products' in-stock flags.

When the catalog brings a SKU that order lines were waiting for, the handlers registered
with `on_skus_arrived` (the customers app links those lines and refreshes the clients'
totals and reasons) run in the same transaction: the catalog, at the bottom of the
layers, never imports the apps above it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify

from clienteling.core.tasks import enqueue_on_commit
from clienteling.stores.models import Store

from .models import Brand, Category, Product, Stock, Variant

# Rows per INSERT ... ON CONFLICT statement.
BATCH_SIZE = 2000
MAX_IMAGE_URLS = 10

# Longest value each text field takes (the model's max_length).
TEXT_LIMITS = {
    "sku": 64,
    "product_ref": 64,
    "name": 200,
    "brand": 100,
    "category": 100,
    "size": 16,
    "colour": 60,
    "barcode": 32,
    "url": 500,
    "description": 10_000,
}
PRODUCT_TEXT_FIELDS = ("name", "description", "url")


@dataclass
class IngestResult:
    """What a feed did: counts, the rows saved and each refused row's field messages."""

    created: int = 0
    updated: int = 0
    errors: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    # (index, sku, created) of every row saved, in request order.
    saved: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, index: int, field_name: str, message: str) -> None:
        self.errors.setdefault(index, {}).setdefault(field_name, []).append(message)


# -- Who hears about SKUs arriving --------------------------------------------------------

SkuArrivedHandler = Callable[[dict[str, tuple[int, int]]], None]
_sku_handlers: list[SkuArrivedHandler] = []


def on_skus_arrived(handler: SkuArrivedHandler) -> SkuArrivedHandler:
    """Register `handler(skus)`, called inside the feed's transaction with
    {variant SKU: (product id, variant id)} for every SKU the feed created."""
    if handler not in _sku_handlers:
        _sku_handlers.append(handler)
    return handler


# -- Checking one row ---------------------------------------------------------------------

_url = URLValidator(schemes=["http", "https"])


def _text(item: dict, name: str, result: IngestResult, index: int) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, str | int):
        result.refuse(index, name, "Must be text.")
        return None
    value = str(value).strip()
    if len(value) > TEXT_LIMITS[name]:
        result.refuse(index, name, f"At most {TEXT_LIMITS[name]} characters.")
        return None
    return value


def _price(item: dict, result: IngestResult, index: int) -> Decimal | None:
    if item.get("price") in (None, ""):
        return None
    try:
        price = Decimal(str(item["price"]).strip())
    except InvalidOperation:
        result.refuse(index, "price", "Not a number.")
        return None
    if not price.is_finite() or price < 0 or price >= Decimal("1e8"):
        result.refuse(index, "price", "A price from 0 to 99,999,999.99.")
        return None
    return price.quantize(Decimal("0.01"))


def _image_urls(item: dict, result: IngestResult, index: int) -> list[str] | None:
    raw = item.get("image_urls")
    if raw is None:
        return None
    if isinstance(raw, str):  # a CSV cell: URLs separated by spaces or "|"
        raw = raw.replace("|", " ").split()
    if not isinstance(raw, list) or len(raw) > MAX_IMAGE_URLS:
        result.refuse(index, "image_urls", f"A list of at most {MAX_IMAGE_URLS} URLs.")
        return None
    urls = []
    for url in raw:
        try:
            if not isinstance(url, str) or len(url) > 500:
                raise ValidationError("bad")
            _url(url)
        except ValidationError:
            result.refuse(index, "image_urls", f"Not a web address: “{str(url)[:80]}”.")
            return None
        urls.append(url)
    return urls


def _clean_catalog_row(item: Any, index: int, result: IngestResult) -> dict | None:
    if not isinstance(item, dict):
        result.refuse(index, "non_field_errors", "Each row is an object.")
        return None
    sku = _text(item, "sku", result, index)
    if not sku and index not in result.errors:
        result.refuse(index, "sku", "Each variant needs its SKU.")
    row: dict[str, Any] = {"sku": sku}
    row["product_ref"] = _text(item, "product_ref", result, index) or sku
    for name in ("name", "brand", "category", "size", "colour", "barcode", "url", "description"):
        if name in item:
            value = _text(item, name, result, index)
            if value is not None:
                row[name] = value
    if row.get("url"):
        try:
            _url(row["url"])
        except ValidationError:
            result.refuse(index, "url", "Not a web address.")
    price = _price(item, result, index)
    if price is not None:
        row["price"] = price
    urls = _image_urls(item, result, index)
    if urls is not None:
        row["image_urls"] = urls
    if item.get("arrived_at"):
        try:
            row["arrived_at"] = datetime.date.fromisoformat(str(item["arrived_at"])[:10])
        except ValueError:
            result.refuse(index, "arrived_at", "A date as YYYY-MM-DD.")
    return None if index in result.errors else row


def _repeats(
    rows: list[tuple[int, dict]], key: str, result: IngestResult
) -> list[tuple[int, dict]]:
    """An upsert touches a row once per statement: a key twice in one feed is refused."""
    seen: dict[Any, int] = {}
    unique = []
    for index, row in rows:
        if row[key] in seen:
            result.refuse(
                index, key, f"Appears twice in this feed (first at row {seen[row[key]]})."
            )
            continue
        seen[row[key]] = index
        unique.append((index, row))
    return unique


# -- Catalog ------------------------------------------------------------------------------


def _named(model, names: set[str]) -> dict[str, int]:
    """Brands or categories by name (case-insensitive), creating the missing ones."""
    if not names:
        return {}
    found = {name.lower(): pk for name, pk in model.objects.values_list("name", "pk")}
    missing = {name for name in names if name.lower() not in found}
    if missing:
        taken = set(model.objects.values_list("slug", flat=True))
        new = []
        for name in sorted(missing):
            slug = base = slugify(name)[:90] or "item"
            number = 2
            while slug in taken:
                slug, number = f"{base}-{number}", number + 1
            taken.add(slug)
            new.append(model(name=name, slug=slug))
        model.objects.bulk_create(new, ignore_conflicts=True)
        found.update(
            {
                name.lower(): pk
                for name, pk in model.objects.filter(name__in=missing).values_list("name", "pk")
            }
        )
    return {name: found[name.lower()] for name in names if name.lower() in found}


def catalog_ingest(items: list[dict], *, source: str) -> IngestResult:
    """Create or update products and their variants, by variant SKU.

    Each item: "sku" (required), "product_ref" (the style grouping variants; the SKU when
    absent), "name", "brand", "category", "price", "size", "colour", "barcode", "url",
    "image_urls", "description". A key that is absent leaves the stored value; a new
    product needs a name, brand, category and price. New pictures are fetched by the
    worker after commit (`product_fetch_image`). `source` names the feed in logs.
    """
    result = IngestResult()
    rows = []
    for index, item in enumerate(items):
        row = _clean_catalog_row(item, index, result)
        if row is not None:
            rows.append((index, row))
    rows = _repeats(rows, "sku", result)

    refs = {row["product_ref"] for _, row in rows}
    skus = {row["sku"] for _, row in rows}
    products = Product.objects.in_bulk(refs, field_name="sku")
    variants = Variant.objects.in_bulk(skus, field_name="sku")

    # Product fields: the first row of the style that carries each key wins.
    product_values: dict[str, dict[str, Any]] = {}
    product_rows: dict[str, list[int]] = {}
    for index, row in rows:
        values = product_values.setdefault(row["product_ref"], {})
        product_rows.setdefault(row["product_ref"], []).append(index)
        for name in (
            *PRODUCT_TEXT_FIELDS,
            "brand",
            "category",
            "price",
            "image_urls",
            "arrived_at",
        ):
            if name in row and name not in values:
                values[name] = row[name]
        if row.get("size"):
            values.setdefault("sizes", []).append(row["size"])
        if row.get("colour") and "colour" not in values:
            values["colour"] = row["colour"]

    # A new product needs what the model cannot do without.
    refused_refs = set()
    for ref, values in product_values.items():
        if ref in products:
            continue
        missing = [name for name in ("name", "brand", "category", "price") if not values.get(name)]
        if missing:
            refused_refs.add(ref)
            for index in product_rows[ref]:
                for name in missing:
                    result.refuse(index, name, "A new product needs this.")
    rows = [(index, row) for index, row in rows if row["product_ref"] not in refused_refs]
    if not rows:
        return result

    brands = _named(Brand, {v["brand"] for v in product_values.values() if v.get("brand")})
    categories = _named(
        Category, {v["category"] for v in product_values.values() if v.get("category")}
    )
    now = timezone.now()
    today = timezone.localdate()
    to_write: list[Product] = []
    fetch_images: set[str] = set()
    for ref, values in product_values.items():
        if ref in refused_refs:
            continue
        product = products.get(ref) or Product(sku=ref, arrived_at=today, created_at=now)
        for name in PRODUCT_TEXT_FIELDS:
            if name in values:
                setattr(product, name, values[name])
        if "price" in values:
            product.price = values["price"]
        if values.get("brand"):
            product.brand_id = brands[values["brand"]]
        if values.get("category"):
            product.category_id = categories[values["category"]]
        if values.get("colour") and not product.colour:
            product.colour = values["colour"]
        if "arrived_at" in values:
            product.arrived_at = values["arrived_at"]
        if values.get("sizes"):
            product.sizes = list(dict.fromkeys([*(product.sizes or []), *values["sizes"]]))
        if "image_urls" in values and values["image_urls"] != product.image_urls:
            product.image_urls = values["image_urls"]
            product.image_error = ""
            if values["image_urls"]:
                fetch_images.add(ref)
        product.updated_at = now
        # Inserted as new rows whose conflict on the SKU turns into an update: the primary
        # key comes back from the statement, for new and existing rows alike.
        product.pk = None
        to_write.append(product)

    with transaction.atomic():
        Product.objects.bulk_create(
            to_write,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["sku"],
            update_fields=[
                "name",
                "brand",
                "category",
                "description",
                "price",
                "colour",
                "sizes",
                "url",
                "image_urls",
                "image_error",
                "arrived_at",
                "updated_at",
            ],
        )
        product_ids = {product.sku: product.pk for product in to_write}
        new_variants: list[Variant] = []
        arrived: dict[str, tuple[int, int]] = {}
        for index, row in rows:
            variant = variants.get(row["sku"]) or Variant(sku=row["sku"], created_at=now)
            created = variant.pk is None
            variant.product_id = product_ids[row["product_ref"]]
            for name in ("size", "colour", "barcode"):
                if name in row:
                    setattr(variant, name, row[name])
            variant.updated_at = now
            variant.pk = None
            new_variants.append(variant)
            result.saved.append({"index": index, "sku": row["sku"], "created": created})
            if created:
                result.created += 1
            else:
                result.updated += 1
        _variants_upsert(new_variants, now)
        arrived = {
            variant.sku: (variant.product_id, variant.pk)
            for variant in new_variants
            if variant.sku not in variants
        }
        if arrived:
            for handler in _sku_handlers:
                handler(arrived)
        if fetch_images:
            from .tasks import product_fetch_image

            for ref in sorted(fetch_images):
                enqueue_on_commit(product_fetch_image, product_ids[ref])
    result.saved.sort(key=lambda saved: saved["index"])
    return result


# -- Stock --------------------------------------------------------------------------------


def _counted_at(value: Any, now: datetime.datetime) -> datetime.datetime | None:
    if value in (None, ""):
        return now
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, str):
        moment = parse_datetime(value.strip())
        if moment is None:
            return None
    else:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def stock_ingest(rows: list[dict], *, source: str) -> IngestResult:
    """Record how many of each variant each store holds.

    Each row: "store" (its code), "sku" (a variant SKU), "quantity" (0 or more),
    "counted_at" (when it was counted; now when absent). A count older than the one
    stored is ignored (feeds arrive out of order) and reported as updated. The products'
    `in_stock` flag follows: true while any store holds any variant, and a product
    coming back stamps `restocked_at` (back-in-stock reasons start from it).
    """
    result = IngestResult()
    now = timezone.now()
    clean: list[tuple[int, dict]] = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            result.refuse(index, "non_field_errors", "Each row is an object.")
            continue
        store, sku = str(row.get("store") or "").strip(), str(row.get("sku") or "").strip()
        if not store:
            result.refuse(index, "store", "Give the store's code.")
        if not sku:
            result.refuse(index, "sku", "Give the variant's SKU.")
        quantity = row.get("quantity")
        try:
            if isinstance(quantity, bool) or quantity is None:
                raise ValueError
            quantity = int(str(quantity).strip())
            if quantity < 0 or quantity > 10_000_000:
                raise ValueError
        except (TypeError, ValueError):
            result.refuse(index, "quantity", "A whole number, 0 or more.")
        counted_at = _counted_at(row.get("counted_at"), now)
        if counted_at is None:
            result.refuse(index, "counted_at", "A date and time, e.g. 2026-05-01T09:30:00Z.")
        if index not in result.errors:
            clean.append(
                (
                    index,
                    {
                        "key": (store, sku),
                        "store": store,
                        "sku": sku,
                        "quantity": quantity,
                        "counted_at": counted_at,
                    },
                )
            )
    clean = _repeats(clean, "key", result)

    stores = dict(
        Store.objects.filter(code__in={row["store"] for _, row in clean}).values_list("code", "pk")
    )
    variants = dict(
        Variant.objects.filter(sku__in={row["sku"] for _, row in clean}).values_list("sku", "pk")
    )
    known: list[tuple[int, dict]] = []
    for index, row in clean:
        if row["store"] not in stores:
            result.refuse(index, "store", f"No store has the code “{row['store']}”.")
        if row["sku"] not in variants:
            result.refuse(
                index, "sku", f"No variant has the SKU “{row['sku']}”: feed the catalog first."
            )
        if index not in result.errors:
            known.append((index, row))
    if not known:
        return result

    if connection.vendor == "postgresql":
        return _stock_upsert_postgresql(known, stores, variants, result, now)
    current = {
        (store_id, variant_id): counted
        for store_id, variant_id, counted in Stock.objects.filter(
            variant_id__in={variants[row["sku"]] for _, row in known},
            store_id__in={stores[row["store"]] for _, row in known},
        ).values_list("store_id", "variant_id", "counted_at")
    }
    to_write = []
    for index, row in known:
        key = (stores[row["store"]], variants[row["sku"]])
        result.saved.append({"index": index, "sku": row["sku"], "created": key not in current})
        if key in current:
            result.updated += 1
            if current[key] and row["counted_at"] < current[key]:
                continue  # an older count arriving late changes nothing
        else:
            result.created += 1
        to_write.append(
            Stock(
                store_id=key[0],
                variant_id=key[1],
                quantity=row["quantity"],
                counted_at=row["counted_at"],
                updated_at=now,
            )
        )
    with transaction.atomic():
        Stock.objects.bulk_create(
            to_write,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["store", "variant"],
            update_fields=["quantity", "counted_at", "updated_at"],
        )
        products_follow_stock(variant_ids={stock.variant_id for stock in to_write}, now=now)
    return result


# PostgreSQL: one statement per batch from arrays (unnest), the conflict turning into an
# update only when the count is not older than the stored one; RETURNING says which rows
# were new (xmax = 0). Django's bulk_create spends longer compiling a 2,000-row VALUES
# list than PostgreSQL spends running it.
STOCK_UPSERT = """
INSERT INTO catalog_stock (store_id, variant_id, quantity, counted_at, updated_at)
SELECT store_id, variant_id, quantity, counted_at, %s
FROM unnest(%s::bigint[], %s::bigint[], %s::int[], %s::timestamptz[])
    AS feed (store_id, variant_id, quantity, counted_at)
ON CONFLICT (store_id, variant_id) DO UPDATE
SET quantity = EXCLUDED.quantity, counted_at = EXCLUDED.counted_at,
    updated_at = EXCLUDED.updated_at
WHERE catalog_stock.counted_at IS NULL OR catalog_stock.counted_at <= EXCLUDED.counted_at
RETURNING store_id, variant_id, (xmax = 0) AS created
"""

VARIANT_UPSERT = """
INSERT INTO catalog_variant (product_id, sku, size, colour, barcode, created_at, updated_at)
SELECT product_id, sku, size, colour, barcode, %s, %s
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[])
    AS feed (product_id, sku, size, colour, barcode)
ON CONFLICT (sku) DO UPDATE
SET product_id = EXCLUDED.product_id, size = EXCLUDED.size, colour = EXCLUDED.colour,
    barcode = EXCLUDED.barcode, updated_at = EXCLUDED.updated_at
RETURNING id, sku
"""


def _variants_upsert(variants: list[Variant], now: datetime.datetime) -> None:
    """Insert or update variants by SKU and set their primary keys."""
    if connection.vendor != "postgresql":
        Variant.objects.bulk_create(
            variants,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["sku"],
            update_fields=["product", "size", "colour", "barcode", "updated_at"],
        )
        return
    by_sku = {variant.sku: variant for variant in variants}
    with connection.cursor() as cursor:
        for start in range(0, len(variants), BATCH_SIZE):
            batch = variants[start : start + BATCH_SIZE]
            cursor.execute(
                VARIANT_UPSERT,
                [
                    now,
                    now,
                    [variant.product_id for variant in batch],
                    [variant.sku for variant in batch],
                    [variant.size for variant in batch],
                    [variant.colour for variant in batch],
                    [variant.barcode for variant in batch],
                ],
            )
            for pk, sku in cursor.fetchall():
                by_sku[sku].pk = pk


def _stock_upsert_postgresql(
    known: list[tuple[int, dict]],
    stores: dict[str, int],
    variants: dict[str, int],
    result: IngestResult,
    now: datetime.datetime,
) -> IngestResult:
    keys = [(stores[row["store"]], variants[row["sku"]]) for _, row in known]
    created: dict[tuple[int, int], bool] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(known), BATCH_SIZE):
            batch = known[start : start + BATCH_SIZE]
            batch_keys = keys[start : start + BATCH_SIZE]
            cursor.execute(
                STOCK_UPSERT,
                [
                    now,
                    [store for store, _ in batch_keys],
                    [variant for _, variant in batch_keys],
                    [row["quantity"] for _, row in batch],
                    [row["counted_at"] for _, row in batch],
                ],
            )
            for store_id, variant_id, is_new in cursor.fetchall():
                created[(store_id, variant_id)] = is_new
        products_follow_stock(variant_ids={variant for _, variant in keys}, now=now)
    for (index, row), key in zip(known, keys, strict=True):
        # A count older than the stored one was skipped: the row existed, so "updated".
        new = created.get(key, False)
        result.saved.append({"index": index, "sku": row["sku"], "created": new})
        if new:
            result.created += 1
        else:
            result.updated += 1
    return result


def products_follow_stock(*, variant_ids: Iterable[int], now: datetime.datetime) -> None:
    """Keep `Product.in_stock` equal to "some store holds some variant" for these variants'
    products; one coming back stamps `restocked_at`. Two conditional UPDATEs: a flag
    already right is not written, and two feeds at once stamp a return once."""
    product_ids = Variant.objects.filter(pk__in=list(variant_ids)).values("product_id")
    held = Exists(Stock.objects.filter(variant__product_id=OuterRef("pk"), quantity__gt=0))
    Product.objects.filter(pk__in=product_ids, in_stock=False).filter(held).update(
        in_stock=True, restocked_at=now, updated_at=now
    )
    Product.objects.filter(pk__in=product_ids, in_stock=True).exclude(held).update(
        in_stock=False, updated_at=now
    )
