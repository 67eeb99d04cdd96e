"""Offers a client earns by what they do, and who was held out of each offer and automation.

`Offer` is a row a manager edits in the admin: a trigger, who is eligible, a reward, and
its holdout. `Exposure` records that one client became eligible for an offer or an
automation and which group they fell in (the offer group, or the holdout that gets
nothing): the performance page compares the two groups' purchases after that moment.
The group is deterministic per client and subject (`services.holdout.holdout_group`), so a
client never moves between groups, whichever worker asks.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from clienteling.stores.models import Store

from .clients import Customer

# The share of eligible clients that gets nothing, unless a manager sets another.
DEFAULT_HOLDOUT_PERCENT = 10


class Offer(models.Model):
    """An always-on offer: opens for a client when its trigger happens."""

    name = models.CharField(max_length=120)
    code = models.SlugField(
        max_length=40, unique=True, help_text="What the till sends on an order line to redeem it."
    )
    store = models.ForeignKey(
        Store,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="offers",
        help_text="Empty: every store.",
    )
    is_active = models.BooleanField(default=True)

    # --- What opens it, for whom, what it gives (customers.services.offers) ---------------
    class Trigger(models.TextChoices):
        NEW_CATEGORY = "new_category", "A first purchase in a category new to the client"
        LAPSE = "lapse", "A lapse against the client's own rhythm"
        BIRTHDAY_MONTH = "birthday_month", "The client's birthday month"
        TIER_REACHED = "tier_reached", "A tier reached"
        MAKEOVER = "makeover", "A makeover completed"

    class Reward(models.TextChoices):
        POINTS_MULTIPLIER = "points_multiplier", "Points multiplied (on a category)"
        AMOUNT = "amount", "An amount off"
        PERCENT = "percent", "A percentage off"
        GIFT = "gift", "A gift"

    description = models.CharField(
        max_length=200,
        blank=True,
        help_text="What the associate says, e.g. “Buy your first shoes with us and earn double "
        "points on dresses”.",
    )
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.NEW_CATEGORY)
    trigger_category = models.ForeignKey(
        "catalog.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="New category: the category the client has never bought (e.g. Shoes); "
        "an order line in it carrying the code redeems the offer.",
    )
    trigger_tier = models.CharField(
        max_length=16, blank=True, help_text="Tier reached: the tier (e.g. gold)."
    )
    lapse_factor = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.5"),
        help_text="Lapse: opens when the time since the last purchase passes this many times "
        "the client's usual time between purchases.",
    )
    # Who is eligible. The client's own "no offers" wish always wins over all of these.
    min_lifetime_value = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    bought_category = models.ForeignKey(
        "catalog.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Only clients who bought this category (e.g. Dresses) …",
    )
    bought_at_least = models.PositiveSmallIntegerField(
        default=1, help_text="… at least this many pieces of it."
    )
    not_bought_category = models.ForeignKey(
        "catalog.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Only clients who never bought this category (new category: the trigger's).",
    )
    active_within_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Likely to respond: only clients who bought within this many days. "
        "Empty: anyone.",
    )
    reward = models.CharField(
        max_length=20, choices=Reward.choices, default=Reward.POINTS_MULTIPLIER
    )
    reward_multiplier = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("2"),
        help_text="Points multiplied: 2 is double points.",
    )
    reward_category = models.ForeignKey(
        "catalog.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Points multiplied on this category's lines of the order redeeming it "
        "(empty: the whole order).",
    )
    reward_amount = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        help_text="An amount off (in the order's currency) or a percentage off.",
    )
    reward_gift = models.CharField(max_length=120, blank=True, help_text="A gift: what it is.")
    valid_from = models.DateField(null=True, blank=True, help_text="Empty: from now on.")
    valid_until = models.DateField(null=True, blank=True, help_text="Empty: always on.")
    valid_days = models.PositiveSmallIntegerField(
        default=60, help_text="How long a client has to use it once it opens for them."
    )
    limit_per_client = models.PositiveSmallIntegerField(
        default=1, help_text="How many times it may open for one client."
    )

    holdout_percent = models.PositiveSmallIntegerField(
        default=DEFAULT_HOLDOUT_PERCENT,
        help_text="The share of eligible clients who get nothing, to measure what the offer adds.",
    )
    pause_after_days = models.PositiveSmallIntegerField(
        default=30,
        help_text=(
            "Paused by itself when its effect stays below zero (the whole 95% interval) "
            "for this many days."
        ),
    )
    # Since when the whole 95% interval of its effect has been below zero (the nightly
    # verdict sets and clears it); paused once that lasts `pause_after_days`.
    below_zero_since = models.DateField(null=True, blank=True, editable=False)
    paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    pause_reason = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def reward_in_words(self) -> str:
        """The reward as the till and the card say it: "2× points on Dresses"."""
        if self.reward == self.Reward.POINTS_MULTIPLIER:
            on = f" on {self.reward_category.name}" if self.reward_category_id else ""
            return f"{self.reward_multiplier.normalize():f}× points{on}"
        if self.reward == self.Reward.AMOUNT:
            return f"${self.reward_amount:,.2f} off".replace(".00 ", " ")
        if self.reward == self.Reward.PERCENT:
            return f"{self.reward_amount.normalize():f}% off"
        return f"A gift: {self.reward_gift}" if self.reward_gift else "A gift"


class Exposure(models.Model):
    """One client became eligible for an offer or an automation, in one group."""

    class Subject(models.TextChoices):
        OFFER = "offer", "Offer"
        AUTOMATION = "automation", "Automation"

    class Group(models.TextChoices):
        TREATED = "treated", "Offer group"
        HOLDOUT = "holdout", "Holdout"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="exposures")
    # The client's home store when it happened: the manager's page reads one store.
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=12, choices=Subject.choices)
    subject_id = models.PositiveIntegerField()
    group = models.CharField(max_length=8, choices=Group.choices)
    exposed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "subject", "subject_id"], name="exposure_once_per_subject"
            )
        ]
        indexes = [models.Index(fields=["store", "subject", "subject_id", "group"])]

    def __str__(self) -> str:
        return f"{self.subject} {self.subject_id}: {self.group}"
