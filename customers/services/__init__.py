"""Writes on clients: every interface (pages, API, tasks, admin) calls these."""

from .ingest import (
    IngestResult,
    consents_append_if_changed,
    customer_upsert_bulk,
    engagement_ingest_bulk,
    order_ingest_bulk,
)
from .orders import order_update_alteration, order_update_shipment
from .totals import customer_refresh_totals

__all__ = [
    "IngestResult",
    "consents_append_if_changed",
    "customer_refresh_totals",
    "customer_upsert_bulk",
    "engagement_ingest_bulk",
    "order_ingest_bulk",
    "order_update_alteration",
    "order_update_shipment",
]
