"""Writes on clients: every interface (pages, API, tasks, admin) calls these."""

from .audit import audit_record
from .books import book_reassign, customer_claim
from .consent import (
    ConsentAnswer,
    ConsentChange,
    consent_address_attribute,
    consent_check,
    consent_record,
    consent_wording,
    consents_record,
)
from .contacts import contact_log, conversation_reply, reason_close, reason_snooze
from .customers import (
    SignupResult,
    customer_create,
    customer_duplicates,
    customer_self_signup,
)
from .ingest import (
    IngestResult,
    customer_upsert_bulk,
    engagement_ingest_bulk,
    order_ingest_bulk,
)
from .loyalty import loyalty_card, loyalty_earn_for_orders, loyalty_points, points_record
from .merge import customer_merge, customer_merge_check
from .notes import note_add, note_set_pinned, note_text_clean, note_update
from .orders import order_update_alteration, order_update_shipment
from .outreach import (
    automation_reach,
    automation_rule_save,
    automations_run,
    client_replied,
    email_inbound,
    inbound_messages_prune,
    message_deliver,
    message_delivery_update,
    message_provider_accepted,
    message_queue,
    messages_sweep,
    messages_withdraw,
    sms_inbound,
    sms_received,
    unsubscribe_url,
)
from .policy import Decision, evaluate_policy, message_policy
from .privacy import (
    customer_erase_own,
    customer_export_own,
    customer_is_erased,
    manages_store,
)
from .profile import (
    contact_preferences_set,
    customer_details_update,
    preferences_replace,
    situation_set,
    sizes_set,
)
from .reasons import reasons_refresh, reasons_refresh_after_commit, replenishment_from_use
from .recommendations import (
    recommendations_evaluate,
    recommendations_for,
    recommendations_refresh,
    recommendations_refresh_recent,
)
from .selections import selection_hold, selection_send, selection_url
from .suppression import is_suppressed, suppression_add, suppression_lift
from .totals import customer_refresh_totals
from .wording import message_wording, render_template_text

__all__ = [
    "ConsentAnswer",
    "ConsentChange",
    "Decision",
    "IngestResult",
    "SignupResult",
    "audit_record",
    "automation_reach",
    "automation_rule_save",
    "automations_run",
    "book_reassign",
    "client_replied",
    "consent_address_attribute",
    "consent_check",
    "consent_record",
    "consent_wording",
    "consents_record",
    "contact_log",
    "contact_preferences_set",
    "conversation_reply",
    "customer_claim",
    "customer_create",
    "customer_details_update",
    "customer_duplicates",
    "customer_erase_own",
    "customer_export_own",
    "customer_is_erased",
    "customer_merge",
    "customer_merge_check",
    "customer_refresh_totals",
    "customer_self_signup",
    "customer_upsert_bulk",
    "email_inbound",
    "engagement_ingest_bulk",
    "evaluate_policy",
    "inbound_messages_prune",
    "is_suppressed",
    "loyalty_card",
    "loyalty_earn_for_orders",
    "loyalty_points",
    "manages_store",
    "message_deliver",
    "message_delivery_update",
    "message_policy",
    "message_provider_accepted",
    "message_queue",
    "message_wording",
    "messages_sweep",
    "messages_withdraw",
    "note_add",
    "note_set_pinned",
    "note_text_clean",
    "note_update",
    "order_ingest_bulk",
    "order_update_alteration",
    "order_update_shipment",
    "points_record",
    "preferences_replace",
    "reason_close",
    "reason_snooze",
    "reasons_refresh",
    "reasons_refresh_after_commit",
    "recommendations_evaluate",
    "recommendations_for",
    "recommendations_refresh",
    "recommendations_refresh_recent",
    "render_template_text",
    "replenishment_from_use",
    "selection_hold",
    "selection_send",
    "selection_url",
    "situation_set",
    "sizes_set",
    "sms_inbound",
    "sms_received",
    "suppression_add",
    "suppression_lift",
    "unsubscribe_url",
]
