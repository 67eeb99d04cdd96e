"""Everything about the client as a person: profile, consent, preferences, orders, events,
notes, and the associate's side: reasons to contact, the contact log, recommendations."""

from .choices import (
    CUSTOMER_ID_SOURCES,
    ENGAGEMENT_SOURCES,
    TIER_THRESHOLDS,
    ContactChannel,
    Source,
    Topic,
)
from .clients import (
    AuditEvent,
    ConsentEvent,
    ConsentEventQuerySet,
    ContactPreferences,
    Customer,
    CustomerQuerySet,
    Note,
    NoteQuerySet,
    Preference,
    Size,
)
from .orders import EngagementEvent, Order, OrderLine, OrderQuerySet
from .outreach import AutomationRule, Bounce, Message, MessageQuerySet, MessageTemplate
from .relationship import Contact, Reason, ReasonQuerySet, Recommendation

__all__ = [
    "CUSTOMER_ID_SOURCES",
    "ENGAGEMENT_SOURCES",
    "TIER_THRESHOLDS",
    "AuditEvent",
    "AutomationRule",
    "Bounce",
    "ConsentEvent",
    "ConsentEventQuerySet",
    "Contact",
    "ContactChannel",
    "ContactPreferences",
    "Customer",
    "CustomerQuerySet",
    "EngagementEvent",
    "Message",
    "MessageQuerySet",
    "MessageTemplate",
    "Note",
    "NoteQuerySet",
    "Order",
    "OrderLine",
    "OrderQuerySet",
    "Preference",
    "Reason",
    "ReasonQuerySet",
    "Recommendation",
    "Size",
    "Source",
    "Topic",
]
