"""The history import's speed (issue 16): a CSV export of order lines, written for
clients of the data set, imported by `history_import_orders` as `import_history` does,
then removed so the data set is left as it was.

The budget is a rate (≥ 5,000 order lines a second); the runner times the whole job, so
it is stated as the time the default size may take (50,000 lines in ≤ 10 s). The job
reports its own rate, measured around the import alone (not writing the file or
cleaning up), in its details.
"""

from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path
from typing import Any

from django.db import transaction

LINES = 50_000
LINES_PER_ORDER = 5
PREFIX = "bench-history-"


def _write_export(path: Path, *, clients: list[str], skus: list[tuple[str, str]], lines: int):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["order_id", "customer_id", "placed_at", "sku", "quantity", "unit_price", "size"]
        )
        for number in range(lines // LINES_PER_ORDER):
            customer = clients[number % len(clients)]
            placed_at = (
                f"20{15 + number % 10}-0{1 + number % 9}-1{number % 10}T1{number % 10}:00:00Z"
            )
            for position in range(LINES_PER_ORDER):
                sku, price = skus[(number * LINES_PER_ORDER + position) % len(skus)]
                # One line in fifty names a SKU the catalog never had (kept, not refused).
                if (number + position) % 50 == 0:
                    sku = f"LEGACY-{number % 97}"
                writer.writerow([f"{PREFIX}{number}", customer, placed_at, sku, 1, price, "M"])


def history_import_job(options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Import `LINES` order lines (options "history_lines") from a CSV file."""
    from clienteling.catalog.models import Product
    from clienteling.integrations.history.models import ImportRun
    from clienteling.integrations.history.services import history_import_orders
    from customers.models import Customer, Order
    from customers.services import customer_refresh_totals

    lines = int((options or {}).get("history_lines", LINES))
    rows = list(
        Customer.objects.exclude(pos_customer_id=None)
        .order_by("pk")
        .values_list("pos_customer_id", "home_store_id")[:5000]
    )
    if not rows:
        raise RuntimeError("the history import needs clients with a POS id in the data set")
    store_id = rows[0][1]
    clients = [pos_id for pos_id, home in rows if home == store_id]
    skus = [
        (sku, str(price))
        for sku, price in Product.objects.order_by("pk").values_list("sku", "price")[:200]
    ]
    if not skus:
        raise RuntimeError("the history import needs products in the data set")
    from clienteling.stores.models import Store

    store = Store.objects.get(pk=store_id)
    with tempfile.TemporaryDirectory(prefix="bench-history-") as folder:
        path = Path(folder) / f"orders-{time.time_ns()}.csv"
        _write_export(path, clients=clients, skus=skus, lines=lines)
        started = time.perf_counter()
        run = history_import_orders(path=path, store=store)
        seconds = time.perf_counter() - started
    details = {
        "lines_per_second": round(run.rows_saved / seconds),
        "import_seconds": round(seconds, 2),
        "saved": run.rows_saved,
        "refused": run.rows_refused,
    }
    # Leave the data set as it was.
    with transaction.atomic():
        orders = Order.objects.filter(external_id__startswith=PREFIX)
        touched = set(orders.values_list("customer_id", flat=True))
        orders.delete()
        customer_refresh_totals(customer_ids=touched)
        ImportRun.objects.filter(pk=run.pk).delete()
    # The figure is the import as an operator runs it (reading the file, checking and
    # writing every row, the report); writing the file and putting the data set back
    # are the benchmark's own work, outside it.
    return {"items": run.rows_done, "unit": "order lines", "seconds": seconds, "details": details}
