"""Offers a client earns by what they do, and who was held out of each offer and automation.

`Offer` is a row a manager edits in the admin: a trigger, who is eligible, a reward, and
its holdout. `Exposure` records that one client became eligible for an offer or an
automation and which group they fell in (the offer group, or the holdout that gets
nothing): the performance page compares the two groups' purchases after that moment.
The group is deterministic per client and subject (`services.holdout.holdout_group`), so a
client never moves between groups, whichever worker asks.
"""

from __future__ import annotations

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
