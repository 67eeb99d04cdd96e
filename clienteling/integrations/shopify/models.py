"""A connected Shopify shop, where its locations are, what it sent and how syncs went."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from clienteling.stores.models import Store


class ShopConnection(models.Model):
    """One Shopify shop feeding the app.

    The access token (Admin API, for the backfill) and the webhook secret (the app's
    client secret, which signs webhooks) are kept to be used, so they cannot be hashed:
    the admin writes them and never shows them back.
    """

    shop_domain = models.CharField(
        max_length=255, unique=True, help_text="The shop's own domain, e.g. soho.myshopify.com."
    )
    store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Home store of clients the shop brings who are not known yet.",
    )
    access_token = models.CharField(max_length=255, blank=True)
    webhook_secret = models.CharField(max_length=255, blank=True)
    storefront_url = models.URLField(
        blank=True, help_text="The shop's public address for product links; empty: the domain."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shop_domain"]
        verbose_name = "Shopify shop"

    def __str__(self) -> str:
        return self.shop_domain


class LocationStore(models.Model):
    """A Shopify location (a shop's POS or warehouse) and the store it is here."""

    connection = models.ForeignKey(
        ShopConnection, on_delete=models.CASCADE, related_name="locations"
    )
    location_id = models.BigIntegerField(help_text="The location's id in Shopify.")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "location_id"], name="shopify_location_once_per_shop"
            )
        ]

    def __str__(self) -> str:
        return f"{self.location_id} → {self.store_id}"


class InventoryItem(models.Model):
    """Which SKU a Shopify inventory item is (learnt from products): inventory levels
    name the item only."""

    connection = models.ForeignKey(ShopConnection, on_delete=models.CASCADE, related_name="+")
    inventory_item_id = models.BigIntegerField()
    sku = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "inventory_item_id"], name="shopify_inventory_item_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.inventory_item_id} = {self.sku}"


class OrderState(models.Model):
    """The last version of an order as it was ingested, and the units refunded so far:
    a refund arrives alone, and the order is re-ingested as returned once every unit is."""

    connection = models.ForeignKey(ShopConnection, on_delete=models.CASCADE, related_name="+")
    order_id = models.BigIntegerField()
    item = models.JSONField()
    refunded = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "order_id"], name="shopify_order_once")
        ]

    def __str__(self) -> str:
        return f"Order {self.order_id}"


class WebhookDelivery(models.Model):
    """One webhook Shopify delivered, kept by its id: a repeat is dropped."""

    class Outcome(models.TextChoices):
        DONE = "done", "Saved"
        PARTLY = "partly", "Partly refused"
        REFUSED = "refused", "Refused"
        IGNORED = "ignored", "Topic not used"

    connection = models.ForeignKey(ShopConnection, on_delete=models.CASCADE, related_name="+")
    webhook_id = models.CharField(max_length=100)
    topic = models.CharField(max_length=60)
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.DONE)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "webhook_id"], name="shopify_webhook_once"
            )
        ]
        indexes = [models.Index(fields=["connection", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.topic} {self.webhook_id}"


class SyncRun(models.Model):
    """One backfill through the Admin GraphQL API: what it saved and what was refused."""

    connection = models.ForeignKey(ShopConnection, on_delete=models.CASCADE, related_name="syncs")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    resources = models.JSONField(default=list)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    failure = models.TextField(blank=True, help_text="Why the run stopped, if it did.")

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=models.F("started_at")),
                name="shopify_sync_finished_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"Sync of {self.connection} at {self.started_at:%Y-%m-%d %H:%M}"
