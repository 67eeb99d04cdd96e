"""What clients bought and how they engage, across store, online and app."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from clienteling.catalog.models import Product, Variant
from clienteling.stores.models import StaffMember, Store

from .choices import Source
from .clients import Customer


class OrderQuerySet(models.QuerySet):
    def counted(self) -> OrderQuerySet:
        """Orders that count towards lifetime value (not cancelled or returned)."""
        return self.exclude(status__in=[Order.Status.CANCELLED, Order.Status.RETURNED])

    def for_store(self, store: Store) -> OrderQuerySet:
        return self.filter(store=store)


class Order(models.Model):
    class SalesChannel(models.TextChoices):
        STORE = "store", "In store"
        ONLINE = "online", "Online"
        APP = "app", "App"

    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        RETURNED = "returned", "Returned"

    class ShipmentStatus(models.TextChoices):
        NOT_APPLICABLE = "n/a", "Taken in store"
        PENDING = "pending", "Preparing"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        READY_FOR_PICKUP = "ready_for_pickup", "Ready for pick-up"
        COLLECTED = "collected", "Collected"
        RETURNED = "returned", "Returned to sender"

    class AlterationStatus(models.TextChoices):
        NONE = "none", "No alteration"
        IN_PROGRESS = "in_progress", "Alteration in progress"
        READY = "ready", "Alteration ready"
        COLLECTED = "collected", "Alteration collected"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    channel = models.CharField(max_length=8, choices=SalesChannel.choices)
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    associate = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="sales"
    )
    external_id = models.CharField(
        max_length=64, help_text="The order's id in the POS or e-commerce system."
    )
    placed_at = models.DateTimeField()
    currency = models.CharField(max_length=3, default="USD")
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    tax = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COMPLETED)
    shipment_status = models.CharField(
        max_length=16, choices=ShipmentStatus.choices, default=ShipmentStatus.NOT_APPLICABLE
    )
    tracking_number = models.CharField(max_length=64, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    alteration_status = models.CharField(
        max_length=12, choices=AlterationStatus.choices, default=AlterationStatus.NONE
    )
    alteration_ready_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at"]
        permissions = [("ingest_data", "Can push data through the integration API")]
        indexes = [
            models.Index(fields=["customer", "-placed_at"]),
            # "The last 7 days" (Today, reports): a short range scan instead of every order.
            models.Index(fields=["-placed_at"], name="order_placed_at_desc"),
            models.Index(fields=["store", "-placed_at"]),
            models.Index(fields=["associate", "-placed_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="order_external_id_unique_per_channel"
            ),
            models.CheckConstraint(
                condition=~Q(channel="store") | Q(store__isnull=False),
                name="order_store_sale_has_store",
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0, discount__gte=0, tax__gte=0, total__gte=0),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(alteration_status="ready") | Q(alteration_ready_on__isnull=False),
                name="order_ready_alteration_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} order {self.external_id}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveSmallIntegerField()
    # Empty while the SKU is unknown to the catalog: the line keeps the SKU and the till's
    # description, and is linked when the catalog brings that SKU
    # (customers.services.order_lines_link).
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="order_lines"
    )
    variant = models.ForeignKey(
        Variant, on_delete=models.SET_NULL, null=True, blank=True, related_name="order_lines"
    )
    sku = models.CharField("SKU", max_length=64, blank=True)
    description = models.CharField(max_length=200, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    line_total = models.DecimalField(max_digits=12, decimal_places=2)
    size = models.CharField(max_length=16, blank=True)
    colour = models.CharField(max_length=60, blank=True)
    # The code of an offer the till applied to this line, and what became of it
    # (customers.services.loyalty): "Redeemed", or why not (a second line with the code).
    offer_code = models.CharField(max_length=40, blank=True)
    offer_note = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["order", "line_number"]
        indexes = [
            models.Index(fields=["product", "order"]),
            # Lines waiting for their SKU to reach the catalog: a small partial index.
            models.Index(
                fields=["sku"], condition=Q(product__isnull=True), name="order_line_unlinked_sku"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "line_number"], name="order_line_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0, line_total__gte=0),
                name="order_line_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id or self.sku}"

    @property
    def label(self) -> str:
        """What the card names: the product, else the till's description and SKU."""
        if self.product_id:
            return self.product.name
        return self.description or f"SKU {self.sku}"


class EngagementEvent(models.Model):
    class Kind(models.TextChoices):
        EMAIL_OPEN = "email_open", "Opened an email"
        EMAIL_CLICK = "email_click", "Clicked an email"
        SITE_VISIT = "site_visit", "Visited the site"
        APP_OPEN = "app_open", "Opened the app"
        FAVOURITE = "favourite", "Added a favourite"
        CART_ABANDONED = "cart_abandoned", "Left a cart"

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="engagement_events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.ECOMMERCE)
    # The sender's own id for the event: a repeated push is recognised and ignored.
    # NULL, not "": events without an id must never collide in the unique constraint.
    external_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"]),
            models.Index(fields=["kind", "-occurred_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="engagement_event_external_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"
