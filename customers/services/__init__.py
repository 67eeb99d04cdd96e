"""Writes on clients: every interface (pages, API, tasks, admin) calls these."""

from .audit import audit_record
from .contacts import contact_log, reason_close, reason_snooze
from .customers import (
    ConsentAnswer,
    SignupResult,
    consent_wording,
    customer_create,
    customer_duplicates,
    customer_self_signup,
)
from .ingest import (
    IngestResult,
    consents_append_if_changed,
    customer_upsert_bulk,
    engagement_ingest_bulk,
    order_ingest_bulk,
)
from .notes import note_add, note_set_pinned, note_update
from .orders import order_update_alteration, order_update_shipment
from .profile import contact_preferences_set, preferences_replace, situation_set, sizes_set
from .reasons import reasons_refresh, reasons_refresh_after_commit
from .totals import customer_refresh_totals

__all__ = [
    "ConsentAnswer",
    "IngestResult",
    "SignupResult",
    "audit_record",
    "consent_wording",
    "consents_append_if_changed",
    "contact_log",
    "contact_preferences_set",
    "customer_create",
    "customer_duplicates",
    "customer_refresh_totals",
    "customer_self_signup",
    "customer_upsert_bulk",
    "engagement_ingest_bulk",
    "note_add",
    "note_set_pinned",
    "note_update",
    "order_ingest_bulk",
    "order_update_alteration",
    "order_update_shipment",
    "preferences_replace",
    "reason_close",
    "reason_snooze",
    "reasons_refresh",
    "reasons_refresh_after_commit",
    "situation_set",
    "sizes_set",
]
