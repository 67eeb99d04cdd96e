"""Order lines whose SKU the catalog did not know yet: kept, then linked when it arrives."""

from __future__ import annotations

from django.db import transaction

from ..models import OrderLine
from .reasons import reasons_refresh_after_commit
from .totals import customer_refresh_totals


def order_lines_link(skus: dict[str, tuple[int, int]]) -> int:
    """Link the lines waiting for these SKUs ({sku: (product id, variant id)}) to their
    product and variant; the clients' totals are recomputed now and their reasons and
    suggestions (which read categories and brands from the lines) after commit.

    Called by the catalog feed inside its transaction (`catalog.ingest.on_skus_arrived`).
    One UPDATE per SKU that has waiting lines, found with one query on a partial index.
    Returns how many lines were linked.
    """
    if not skus:
        return 0
    with transaction.atomic():
        waiting = list(
            OrderLine.objects.filter(product__isnull=True, sku__in=list(skus))
            .values_list("sku", "order__customer_id")
            .distinct()
        )
        if not waiting:
            return 0
        linked = 0
        for sku in sorted({sku for sku, _ in waiting}):
            product_id, variant_id = skus[sku]
            linked += OrderLine.objects.filter(product__isnull=True, sku=sku).update(
                product_id=product_id, variant_id=variant_id
            )
        customers = {customer_id for _, customer_id in waiting}
        customer_refresh_totals(customer_ids=customers)
        reasons_refresh_after_commit(customers, recommendations=True)
    return linked
