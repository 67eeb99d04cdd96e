"""Bodies for POST /api/v1/orders/bulk/, as a POS would send them.

wrk sends many requests from a few prepared bodies: each body carries `BATCH_PLACEHOLDER`
in its orders' external ids, and the Lua script replaces it per request (a fresh batch
id for the "new orders" scenario, the body's own fixed id for the "re-sent" one). So the
JSON built here, with the placeholder replaced, is exactly what the API receives.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

# Plain characters only: Lua's gsub treats none of them as magic, and JSON needs no escaping.
BATCH_PLACEHOLDER = "@@BATCH@@"
# Every order the benchmark writes has an external id starting with this, so a run can
# remove what earlier runs wrote (child.cleanup) and the data set stays the same size.
EXTERNAL_ID_PREFIX = "bench-"


@dataclass(frozen=True)
class CustomerRef:
    """A client as the POS knows them, and the store where they shop."""

    pos_id: str
    store_code: str


@dataclass(frozen=True)
class ProductRef:
    sku: str
    price: Decimal


def order_payload(
    *,
    customers: Sequence[CustomerRef],
    products: Sequence[ProductRef],
    batch: str,
    run_id: str,
    orders: int = 100,
    lines_per_order: int = 10,
    placed_at: datetime.datetime | None = None,
) -> dict:
    """`orders` store sales of `lines_per_order` lines each, one order per client.

    Clients are taken in turn from `customers` (pass at least `orders` of them so no
    client appears twice in one request, and disjoint blocks to concurrent requests:
    refreshing a client's totals locks their row). Products rotate through `products`.
    """
    if not customers or not products:
        raise ValueError("need at least one client and one product")
    placed_at = placed_at or datetime.datetime.now(datetime.UTC)
    items = []
    for number in range(orders):
        customer = customers[number % len(customers)]
        lines = []
        total = Decimal("0")
        for position in range(lines_per_order):
            product = products[(number * lines_per_order + position) % len(products)]
            lines.append(
                {"sku": product.sku, "quantity": 1, "unit_price": str(product.price), "size": "M"}
            )
            total += product.price
        items.append(
            {
                "channel": "store",
                "external_id": f"{EXTERNAL_ID_PREFIX}{run_id}-{batch}-{number:04d}",
                "customer": {"source": "pos", "external_id": customer.pos_id},
                "store": customer.store_code,
                "placed_at": (placed_at - datetime.timedelta(minutes=number))
                .isoformat()
                .replace("+00:00", "Z"),
                "total": str(total),
                "lines": lines,
            }
        )
    return {"orders": items}


def order_bodies(
    *,
    customers: Sequence[CustomerRef],
    products: Sequence[ProductRef],
    run_id: str,
    bodies: int,
    orders: int = 100,
    lines_per_order: int = 10,
) -> list[str]:
    """`bodies` compact JSON bodies with the batch placeholder, each on its own clients."""
    needed = bodies * orders
    if len(customers) < needed:
        raise ValueError(f"need {needed} clients with a POS id, got {len(customers)}")
    return [
        json.dumps(
            order_payload(
                customers=customers[index * orders : (index + 1) * orders],
                products=products,
                batch=BATCH_PLACEHOLDER,
                run_id=run_id,
                orders=orders,
                lines_per_order=lines_per_order,
            ),
            separators=(",", ":"),
        )
        for index in range(bodies)
    ]


def with_batch(body: str, batch: str) -> str:
    """What the Lua script does to a body before sending it (the Python side of it)."""
    return body.replace(BATCH_PLACEHOLDER, batch)
