"""The catalog and stock feeds at volume (issue 16): ≥ 2,000 variants/s and ≥ 10,000
stock rows/s in bulk.

Each job feeds rows of its own (SKUs under a prefix unique to the run) in the chunks an
integration sends (API_BULK_MAX_ITEMS), reports the time of the feeding alone as its
`seconds`, and removes what it added, so the data set is the same after it.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings

from clienteling.catalog.ingest import catalog_ingest, stock_ingest
from clienteling.catalog.models import Brand, Category, Product, Stock, Variant
from clienteling.stores.models import Store

SIZES = ("36", "37", "38", "39", "40")


def _catalog_rows(prefix: str, variants: int) -> list[dict[str, Any]]:
    rows = []
    for number in range(variants):
        style, size = divmod(number, len(SIZES))
        rows.append(
            {
                "sku": f"{prefix}-{style:06d}-{SIZES[size]}",
                "product_ref": f"{prefix}-{style:06d}",
                "name": f"Bench pump {style}",
                "brand": "Bench Brand",
                "category": "Bench Shoes",
                "price": "320.00",
                "size": SIZES[size],
                "colour": "black",
                "barcode": f"{number:013d}",
                "url": f"https://shop.example/p/{style}",
            }
        )
    return rows


def _feed(feed, rows: list[dict[str, Any]], chunk: int) -> tuple[float, int]:
    started = time.perf_counter()
    refused = 0
    for start in range(0, len(rows), chunk):
        refused += len(feed(rows[start : start + chunk], source="bench").errors)
    return time.perf_counter() - started, refused


def _clean(prefix: str) -> None:
    Stock.objects.filter(variant__sku__startswith=prefix).delete()
    Variant.objects.filter(sku__startswith=prefix).delete()
    Product.objects.filter(sku__startswith=prefix).delete()
    Brand.objects.filter(name="Bench Brand", products__isnull=True).delete()
    Category.objects.filter(name="Bench Shoes", products__isnull=True).delete()


def catalog_feed_job(options: dict[str, Any] | None = None) -> dict[str, Any]:
    """`catalog_ingest` of new variants, then the same feed again (all updates)."""
    variants = int((options or {}).get("variants", 20_000))
    prefix = f"BENCH{time.time_ns() % 10**9}"
    rows = _catalog_rows(prefix, variants)
    chunk = settings.API_BULK_MAX_ITEMS
    try:
        created, refused = _feed(catalog_ingest, rows, chunk)
        updated, refused_again = _feed(catalog_ingest, rows, chunk)
    finally:
        _clean(prefix)
    seconds = created + updated
    return {
        "items": 2 * variants,
        "unit": "variants",
        "seconds": seconds,
        "details": {
            "create_per_second": round(variants / created),
            "update_per_second": round(variants / updated),
            "refused": refused + refused_again,
        },
    }


def stock_feed_job(options: dict[str, Any] | None = None) -> dict[str, Any]:
    """`stock_ingest` of a count per store and variant, then a second count of each."""
    stores = list(Store.objects.order_by("pk").values_list("code", flat=True)[:5])
    if not stores:
        raise RuntimeError("the stock feed needs stores in the data set")
    # 50,000 rows a pass whatever the number of stores.
    rows = int((options or {}).get("stock_rows", 50_000))
    variants = max(1, rows // len(stores))
    prefix = f"BENCH{time.time_ns() % 10**9}"
    chunk = settings.API_BULK_MAX_ITEMS
    try:
        _feed(catalog_ingest, _catalog_rows(prefix, variants), chunk)  # not timed
        skus = list(Variant.objects.filter(sku__startswith=prefix).values_list("sku", flat=True))
        first = [
            {"store": store, "sku": sku, "quantity": (index % 4), "counted_at": None}
            for index, sku in enumerate(skus)
            for store in stores
        ]
        second = [{**row, "quantity": row["quantity"] + 1} for row in first]
        created, refused = _feed(stock_ingest, first, chunk)
        updated, refused_again = _feed(stock_ingest, second, chunk)
    finally:
        _clean(prefix)
    return {
        "items": 2 * len(first),
        "unit": "stock rows",
        "seconds": created + updated,
        "details": {
            "create_per_second": round(len(first) / created),
            "update_per_second": round(len(first) / updated),
            "refused": refused + refused_again,
        },
    }
