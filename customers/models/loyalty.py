"""Loyalty points and the offers open for one client.

`PointsRule` is what a manager sets: how many points a dollar earns, in a store or
everywhere, on a category or on everything. `PointsMovement` is the ledger: one row per
order and kind holds what that order earns now (a re-sent order rewrites it, never adds a
second), and the till's redemptions and adjustments are rows of their own, each with the
till's id so a repeat is recognised. `ClientOffer` is one offer opened for one client by
its trigger, with its cause in plain words and until when it can be used.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clienteling.catalog.models import Category
from clienteling.stores.models import Store

from .clients import Customer
from .offers import Offer
from .orders import Order, OrderLine


class PointsRule(models.Model):
    """Points per dollar spent; the most precise rule wins (store and category first)."""

    store = models.ForeignKey(
        Store,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="points_rules",
        help_text="Empty: every store (and online).",
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: every category.",
    )
    points_per_dollar = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"))
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["store", "category"]
        constraints = [
            models.CheckConstraint(
                condition=Q(points_per_dollar__gte=0), name="points_rule_rate_not_negative"
            ),
        ]

    def __str__(self) -> str:
        where = self.store.name if self.store_id else "Every store"
        what = self.category.name if self.category_id else "everything"
        return f"{where}, {what}: {self.points_per_dollar} points per dollar"


class PointsMovementQuerySet(models.QuerySet):
    def for_card(self) -> PointsMovementQuerySet:
        """Newest first, with what the card names (the order, the offer)."""
        return self.select_related("order", "client_offer__offer").order_by("-at", "-pk")


class PointsMovement(models.Model):
    """One line of a client's points ledger."""

    class Kind(models.TextChoices):
        EARNED = "earned", "Earned on an order"
        OFFER_BONUS = "offer_bonus", "Offer bonus"
        REDEEMED = "redeemed", "Redeemed at the till"
        ADJUSTED = "adjusted", "Adjusted"

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="points_movements"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    points = models.IntegerField(help_text="Negative when points are spent or taken back.")
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, null=True, blank=True, related_name="points_movements"
    )
    client_offer = models.ForeignKey(
        "ClientOffer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    store = models.ForeignKey(
        Store, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The till's own id for a redemption or adjustment (or its Idempotency-Key): a repeat
    # is recognised by the unique constraint and answered with the first row.
    external_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    note = models.CharField(max_length=200, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PointsMovementQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["customer", "-at"])]
        constraints = [
            # What an order earns is one row per kind: a re-sent order rewrites it.
            # (NULL orders never collide: the till's movements are keyed below.)
            models.UniqueConstraint(fields=["order", "kind"], name="points_once_per_order_kind"),
            models.UniqueConstraint(
                fields=["customer", "external_id"], name="points_movement_external_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} {self.get_kind_display().lower()}"


class ClientOfferQuerySet(models.QuerySet):
    def usable(self, today=None) -> ClientOfferQuerySet:
        """Open, not past their last day, and their offer neither paused nor switched off."""
        today = today or timezone.localdate()
        return self.filter(
            status=ClientOffer.Status.OPEN,
            valid_until__gte=today,
            offer__is_active=True,
            offer__paused_at__isnull=True,
        )


class ClientOffer(models.Model):
    """An offer open for one client: its cause, its last day, and whether it was used."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        REDEEMED = "redeemed", "Redeemed"
        EXPIRED = "expired", "Expired"

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="client_offers")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="client_offers")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    cause = models.CharField(
        max_length=300, help_text="Why it opened, in words an associate can say."
    )
    opened_at = models.DateTimeField(default=timezone.now)
    valid_until = models.DateField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    redeemed_line = models.ForeignKey(
        OrderLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ClientOfferQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["customer", "status", "valid_until"])]
        constraints = [
            # One open at a time per client and offer: two workers opening it at once
            # leave one row.
            models.UniqueConstraint(
                fields=["offer", "customer"],
                condition=Q(status="open"),
                name="client_offer_one_open",
            ),
            models.CheckConstraint(
                condition=~Q(status="redeemed") | Q(redeemed_at__isnull=False),
                name="client_offer_redeemed_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offer} for {self.customer_id} ({self.status})"
