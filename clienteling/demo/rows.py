"""The shape of what the client generator produces: one list of tuples per table.

Shared by the generator (clients.py, story.py), which fills the tuples in this column
order, and by the build (build.py), which writes them table by table in TABLES order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from customers.models import (
    ConsentEvent,
    ContactPreferences,
    Customer,
    EngagementEvent,
    Note,
    Order,
    OrderLine,
    Preference,
    Size,
)

# Column order of each table's tuples. Columns not named here (tier, lifetime value,
# order count, purchase dates...) take the model's default; customer_refresh_totals
# computes the totals once the orders are in.
CUSTOMER_FIELDS = (
    "id", "first_name", "last_name", "email", "phone", "home_store_id", "assigned_associate_id",
    "birthday", "anniversary", "time_zone", "joined_via", "joined_at", "pos_customer_id",
    "ecommerce_customer_id", "situation", "situation_updated_at", "created_at", "updated_at",
)  # fmt: skip
CONTACT_FIELDS = (
    "customer_id", "preferred_channel", "max_messages_per_week", "quiet_hours_start",
    "quiet_hours_end", "topics_declined", "updated_at",
)  # fmt: skip
CONSENT_FIELDS = (
    "id", "customer_id", "channel", "granted", "source", "wording", "recorded_at", "recorded_by_id",
)  # fmt: skip
SIZE_FIELDS = ("id", "customer_id", "category_id", "size", "fit", "source", "recorded_at")
PREFERENCE_FIELDS = (
    "id", "customer_id", "kind", "sentiment", "value", "brand_id", "category_id", "source", "recorded_at",
)  # fmt: skip
NOTE_FIELDS = ("id", "customer_id", "author_id", "text", "pinned", "created_at", "updated_at")
ORDER_FIELDS = (
    "id", "customer_id", "channel", "store_id", "associate_id", "external_id", "placed_at",
    "currency", "subtotal", "discount", "tax", "total", "status", "shipment_status",
    "tracking_number", "shipped_at", "delivered_at", "alteration_status", "alteration_ready_on",
    "created_at", "updated_at",
)  # fmt: skip
LINE_FIELDS = (
    "id", "order_id", "line_number", "product_id", "quantity", "unit_price", "line_total", "size",
    "colour",
)  # fmt: skip
EVENT_FIELDS = (
    "id", "customer_id", "kind", "product_id", "occurred_at", "source", "external_id", "created_at",
)  # fmt: skip

# Tables in the order they are written: a row's foreign keys point at tables written
# before it. (SQLite checks foreign keys at commit; on PostgreSQL they are set aside during
# the load and re-added after it, see loader.PostgresBulkMode.)
TABLES = [
    (Customer, CUSTOMER_FIELDS, "customers"),
    (ContactPreferences, CONTACT_FIELDS, "contact_preferences"),
    (ConsentEvent, CONSENT_FIELDS, "consents"),
    (Size, SIZE_FIELDS, "sizes"),
    (Preference, PREFERENCE_FIELDS, "preferences"),
    (Note, NOTE_FIELDS, "notes"),
    (Order, ORDER_FIELDS, "orders"),
    (OrderLine, LINE_FIELDS, "lines"),
    (EngagementEvent, EVENT_FIELDS, "events"),
]
ID_MODELS = [Customer, ConsentEvent, Size, Preference, Note, Order, OrderLine, EngagementEvent]

# Plain strings rather than enum members for what is written on every order: an enum
# member is a slower attribute lookup, and COPY adapts an exact str fastest.
COMPLETED, PLACED, CANCELLED, RETURNED = (
    str(status.value)
    for status in (
        Order.Status.COMPLETED,
        Order.Status.PLACED,
        Order.Status.CANCELLED,
        Order.Status.RETURNED,
    )
)
NOT_SHIPPED, PENDING, SHIPPED, DELIVERED, READY_FOR_PICKUP, COLLECTED = (
    str(status.value)
    for status in (
        Order.ShipmentStatus.NOT_APPLICABLE,
        Order.ShipmentStatus.PENDING,
        Order.ShipmentStatus.SHIPPED,
        Order.ShipmentStatus.DELIVERED,
        Order.ShipmentStatus.READY_FOR_PICKUP,
        Order.ShipmentStatus.COLLECTED,
    )
)
NO_ALTERATION, ALTERATION_IN_PROGRESS, ALTERATION_READY, ALTERATION_COLLECTED = (
    str(status.value)
    for status in (
        Order.AlterationStatus.NONE,
        Order.AlterationStatus.IN_PROGRESS,
        Order.AlterationStatus.READY,
        Order.AlterationStatus.COLLECTED,
    )
)


@dataclass
class Rows:
    """The rows of one chunk of clients, per table (keys as in TABLES)."""

    tables: dict[str, list[tuple]] = field(
        default_factory=lambda: {name: [] for _, _, name in TABLES}
    )
    customer_ids: list[int] = field(default_factory=list)
