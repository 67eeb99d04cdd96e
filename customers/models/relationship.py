"""The associate's side of the relationship: reasons to contact, the contact log, suggestions."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clienteling.catalog.models import Product
from clienteling.channels import channel_choices
from clienteling.stores.models import StaffMember

from .clients import Customer
from .orders import Order

# The states a reason can come back to Today from (a snooze runs out), and the kinds the
# client started (the registry's `client_initiated`, which imports the models: a test
# keeps the two in step): the conditions of Today's partial indexes.
OPEN_STATES = ["open", "snoozed"]
CLIENT_STARTED_KINDS = ["signed_up", "client_replied"]


def dated_today(on: datetime.date) -> datetime.date:
    """The latest day a reason may be dated with and be due on `on`, a store's today.

    Reasons are dated in the server's zone (the jobs, a sign-up, a reply, a hold: none of
    them runs in a store's), and a store west of it is still on the day before for hours
    each evening (New York from 19:00 or 20:00, against UTC): a client who signed up or
    wrote back then would wait for the store's midnight to reach Today. A reason dated
    today by either calendar is due."""
    return max(on, timezone.localdate(timezone=timezone.get_default_timezone()))


class ReasonQuerySet(models.QuerySet):
    def open(self, on: datetime.date | None = None) -> ReasonQuerySet:
        """Open reasons, and snoozed ones whose snooze has run out (by `on`, today)."""
        today = on or timezone.localdate()
        return self.filter(
            Q(state=Reason.State.OPEN) | Q(state=Reason.State.SNOOZED, snoozed_until__lte=today)
        )

    def due(
        self, on: datetime.date | None = None, *, dated: datetime.date | None = None
    ) -> ReasonQuerySet:
        """Open reasons whose day has come: by `on` (today, in the zone of whoever asks:
        the store's on its pages), or by `dated`, which defaults to `dated_today(on)`."""
        on = on or timezone.localdate()
        return self.open(on).filter(due_on__lte=dated or dated_today(on))

    def for_associate(self, staff: StaffMember) -> ReasonQuerySet:
        """Reasons about the associate's own clients; and, for everyone of the store, the
        sign-ups and replies of clients whose associate is away (none, or no longer
        active): a client who writes back is never left unanswered."""
        # Imported here: the registry imports the models.
        from ..reason_kinds import client_initiated_kinds

        return self.filter(
            Q(customer__assigned_associate=staff)
            | Q(
                Q(customer__assigned_associate__isnull=True)
                | Q(customer__assigned_associate__user__is_active=False),
                kind__in=client_initiated_kinds(),
                customer__home_store_id=staff.store_id,
            )
        )


class Reason(models.Model):
    """A reason to get in touch with a client, with a sentence that says why."""

    class Kind(models.TextChoices):
        ORDER_SHIPPED = "order_shipped", "Order shipped"
        ALTERATION_READY = "alteration_ready", "Alteration ready"
        REPLENISHMENT = "replenishment", "Running out"
        BIRTHDAY = "birthday", "Birthday coming"
        ANNIVERSARY = "anniversary", "Anniversary coming"
        THANK_YOU = "thank_you", "Thank-you"
        WELCOME = "welcome", "Welcome"
        SECOND_PURCHASE = "second_purchase", "No second purchase yet"
        DRIFTING = "drifting", "Drifting away"
        BACK_IN_STOCK = "back_in_stock", "Back in stock"
        NEW_ARRIVAL = "new_arrival", "New arrival for them"
        APPOINTMENT_FOLLOW_UP = "appointment_follow_up", "After the appointment"
        MILESTONE = "milestone", "Milestone"
        SIGNED_UP = "signed_up", "Signed up at the counter"
        CLIENT_REPLIED = "client_replied", "The client wrote back"
        CART_ABANDONED = "cart_abandoned", "Left a cart"
        WISHLIST = "wishlist", "Saved to the wishlist"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        SNOOZED = "snoozed", "Snoozed"
        DISMISSED = "dismissed", "Dismissed"
        RESOLVED = "resolved", "Closed by itself"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="reasons")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    # What raised it, as "order:12", "product:7", "appointment:3", "event:99" or "" (e.g. a
    # birthday): one open reason per kind, client and source.
    source_key = models.CharField(max_length=40, blank=True)
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    why = models.CharField(max_length=300, help_text="One sentence an associate understands.")
    due_on = models.DateField(default=timezone.localdate)
    # After this day the moment has passed and the reason closes by itself.
    expires_on = models.DateField(null=True, blank=True)
    # 0-100, and its parts (value, urgency, likelihood to respond) so Today can explain the order.
    score = models.PositiveSmallIntegerField(default=50)
    score_parts = models.JSONField(default=dict, blank=True)
    snoozed_until = models.DateField(null=True, blank=True)
    # Why it was dismissed by a person, or what ended it when it closed by itself.
    closed_note = models.CharField(max_length=200, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Copies of the client's associate and home store, kept by database triggers (on a
    # reason's insert and on a client's change, whatever path wrote it: services, the
    # admin, bulk updates, COPY), never written by Django. They let Today read its best
    # few reasons straight from an index ordered by score (see the indexes below and
    # `customers.selectors._best_capped_many`) instead of joining the whole store's reasons.
    owner = models.ForeignKey(
        StaffMember,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    store = models.ForeignKey(
        "stores.Store",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects = ReasonQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "due_on"]
        indexes = [
            models.Index(fields=["customer", "state"]),
            models.Index(fields=["state", "due_on"]),
            # Today, in the order it shows (score, due day, id), open and snoozed only:
            # an associate's own clients; the store's clients nobody looks after; the
            # replies and sign-ups of the store (everyone answers those of an absent
            # associate). Each read is a LIMIT on one of these, whatever the store's size.
            models.Index(
                fields=["owner", "-score", "due_on", "id"],
                condition=Q(state__in=OPEN_STATES),
                name="reason_open_by_owner",
            ),
            models.Index(
                fields=["store", "-score", "due_on", "id"],
                condition=Q(state__in=OPEN_STATES, owner__isnull=True),
                name="reason_open_unowned",
            ),
            models.Index(
                fields=["store", "-score", "due_on", "id"],
                condition=Q(state__in=OPEN_STATES, kind__in=CLIENT_STARTED_KINDS),
                name="reason_open_client_started",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "source_key"],
                condition=Q(state__in=["open", "snoozed"]),
                name="reason_one_open_per_kind_client_source",
            ),
            models.CheckConstraint(
                condition=~Q(state="snoozed") | Q(snoozed_until__isnull=False),
                name="reason_snooze_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["dismissed", "resolved"]) | ~Q(closed_note=""),
                name="reason_dismissal_says_why",
            ),
            models.CheckConstraint(condition=Q(score__lte=100), name="reason_score_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.why}"

    @property
    def badge(self) -> str:
        """The kind in a word or two (its spec's badge), for a row on a phone."""
        from ..reason_kinds import reason_kind  # the registry imports the models

        return reason_kind(self.kind).badge


def contact_channel_choices() -> list[tuple[str, str]]:
    """How a contact happened: a message by a registered channel, a call, a visit."""
    return [*channel_choices(), *Contact.Channel.choices]


class Contact(models.Model):
    """One entry of the contact log: a message sent, a call, a visit, with its outcome."""

    class Channel(models.TextChoices):
        """The ways of reaching a client that are logged, not sent. A contact by a
        message carries the code of its channel from the registry (`clienteling.channels`)."""

        PHONE = "phone", "Phone call"
        IN_PERSON = "in_person", "In person"
        VIDEO = "video", "Video call"

    class Direction(models.TextChoices):
        OUTBOUND = "out", "We reached out"
        INBOUND = "in", "The client reached us"

    class Outcome(models.TextChoices):
        SENT = "sent", "Message sent"
        REACHED = "reached", "Talked"
        LEFT_MESSAGE = "left_message", "Left a message"
        NO_ANSWER = "no_answer", "No answer"
        BOOKED = "booked", "Booked an appointment"
        BOUGHT = "bought", "Bought something"
        NOT_INTERESTED = "not_interested", "Not interested now"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=contact_channel_choices)
    direction = models.CharField(
        max_length=3, choices=Direction.choices, default=Direction.OUTBOUND
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    body = models.TextField(blank=True, help_text="The message, or what was said.")
    reason = models.ForeignKey(
        Reason, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    # The outbox row when the contact was a message sent through the app.
    message = models.OneToOneField(
        "customers.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact",
    )
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"]),
            models.Index(fields=["staff", "-occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.get_outcome_display()}"


class Recommendation(models.Model):
    """A product suggested to a client, with the sentence that says why. Rebuilt by a refresh."""

    # No index of its own: the unique (customer, product) constraint starts with it.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="recommendations", db_index=False
    )
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField(help_text="1 is the best suggestion for this client.")
    score = models.FloatField()
    why = models.CharField(max_length=300)
    # The parts the score was blended from, e.g. {"co_purchase": 0.6, "new_category": 0.3}.
    signals = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["customer", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "product"], name="recommendation_one_per_product"
            ),
            models.UniqueConstraint(
                fields=["customer", "rank"], name="recommendation_one_per_rank"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.product_id} for {self.customer_id}: {self.why}"
