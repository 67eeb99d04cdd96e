"""Outreach: message templates, automation rules, and the outbox of messages with their fate."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clienteling.channels import channel_choices
from clienteling.stores.models import Store

from .clients import Customer
from .relationship import Reason


class MessageTemplate(models.Model):
    """A message managers write once, with variables, that associates personalise."""

    name = models.CharField(max_length=100, unique=True)
    purpose = models.CharField(
        max_length=32,
        help_text="A reason kind (e.g. thank_you, replenishment) or 'personal'.",
    )
    channel = models.CharField(max_length=8, choices=channel_choices)
    subject = models.CharField(max_length=150, blank=True, help_text="Email only.")
    body = models.TextField(
        help_text=(
            "Variables: {{ first_name }}, {{ associate }}, {{ store }}, {{ product }}. "
            "Plain text; the associate can edit it before it goes."
        )
    )
    is_active = models.BooleanField(default=True)
    # WhatsApp: the version Meta approved in Twilio's Content API, sent outside the
    # 24-hour window (when free text can't go) with its numbered variables.
    whatsapp_content_sid = models.CharField(
        "WhatsApp template (Content SID)",
        max_length=34,
        blank=True,
        validators=[
            RegexValidator(r"^HX[0-9a-fA-F]{32}$", "A Content SID is HX and 32 hex digits.")
        ],
        help_text=(
            "The approved WhatsApp template in Twilio (HX…): it can go to a client who last "
            "wrote on WhatsApp more than 24 hours ago."
        ),
    )
    whatsapp_variables = models.CharField(
        "WhatsApp template variables",
        max_length=200,
        blank=True,
        help_text=(
            "The variables of the approved template's {{1}}, {{2}}…, in order, separated by "
            "commas: e.g. first_name, store."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["purpose", "channel", "name"]
        indexes = [models.Index(fields=["purpose", "channel"])]

    def __str__(self) -> str:
        return self.name


class MessageTemplateVariant(models.Model):
    """One of two wordings of a template (A or B), to learn which one brings clients back.

    When a template has both, automations give each client one of them, always the same
    one for a client and a rule (see `customers.services.outreach.variant_for`), and the
    template's own text is not used; with only one, or none, the template's text goes.
    """

    class Letter(models.TextChoices):
        A = "A", "A"
        B = "B", "B"

    template = models.ForeignKey(MessageTemplate, on_delete=models.CASCADE, related_name="variants")
    letter = models.CharField(max_length=1, choices=Letter.choices)
    subject = models.CharField(max_length=150, blank=True, help_text="Email only.")
    body = models.TextField(help_text="The same variables as the template.")

    class Meta:
        ordering = ["template", "letter"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "letter"], name="message_template_variant_unique_letter"
            )
        ]

    def __str__(self) -> str:
        return f"{self.template} ({self.letter})"


# An automation rule's channel: a registered one, or whichever the client prefers.
PREFERRED_CHANNEL = "preferred"


def automation_channel_choices() -> list[tuple[str, str]]:
    return [(PREFERRED_CHANNEL, "The client's preferred channel"), *channel_choices()]


class AutomationRule(models.Model):
    """What happens when a reason opens: send by itself, or leave a draft on Today."""

    class Mode(models.TextChoices):
        SEND = "send", "Send automatically"
        DRAFT = "draft", "Draft for the associate"

    reason_kind = models.CharField(max_length=24, choices=Reason.Kind.choices, unique=True)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.DRAFT)
    delay_hours = models.PositiveIntegerField(
        default=0, help_text="e.g. 24: a thank-you one day after."
    )
    channel = models.CharField(
        max_length=12, choices=automation_channel_choices, default=PREFERRED_CHANNEL
    )
    template = models.ForeignKey(MessageTemplate, on_delete=models.PROTECT, null=True, blank=True)
    is_marketing = models.BooleanField(
        default=True,
        help_text="Marketing counts towards the client's weekly cap; service messages do not.",
    )
    is_active = models.BooleanField(default=True)
    # When it last started sending by itself (switched on in "send" mode): it sends only
    # for reasons opened since, so switching a rule on never blasts the reasons already
    # waiting. Set and cleared by `services.automation_rule_save`; empty on a rule that
    # was sending before this existed, which keeps sending as it did.
    enabled_at = models.DateTimeField("sending since", null=True, blank=True, editable=False)
    include_backlog = models.BooleanField(
        "include the backlog",
        default=False,
        help_text=(
            "Also send for the reasons that were already open when the rule was switched on. "
            "Off: only reasons opened afterwards get a message."
        ),
    )

    # Its holdout: a fixed share of the clients it would reach get nothing (deterministic
    # per client, `services.holdout`), so the performance page can say what it adds.
    holdout_percent = models.PositiveSmallIntegerField(
        default=10,
        help_text="The share of clients it would reach who get nothing, to measure what it adds.",
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

    class Meta:
        ordering = ["reason_kind"]

    def __str__(self) -> str:
        return f"{self.get_reason_kind_display()}: {self.get_mode_display().lower()}"

    @property
    def sends(self) -> bool:
        """It sends by itself: switched on, in "send automatically" mode."""
        return self.is_active and self.mode == self.Mode.SEND


class MessageQuerySet(models.QuerySet):
    def due(self, now=None) -> MessageQuerySet:
        """Queued messages whose time has come (the sweep picks these up)."""
        return self.filter(status=Message.Status.QUEUED, scheduled_for__lte=now or timezone.now())

    def marketing_sent_since(self, since) -> MessageQuerySet:
        return self.filter(
            is_marketing=True,
            status__in=[Message.Status.SENDING, Message.Status.SENT, Message.Status.DELIVERED],
            sent_at__gte=since,
        )


class Message(models.Model):
    """One message to one client: the outbox row, written with what caused it.

    Its dedupe key is unique: whatever retries or sweeps happen, one key is one message,
    and a second attempt after a crash is reconciled with the provider first
    (`services.outreach`).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Not sent"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="messages")
    channel = models.CharField(max_length=8, choices=channel_choices)
    purpose = models.CharField(max_length=32, help_text="The reason kind, or 'personal'.")
    topic = models.CharField(
        max_length=16, blank=True, help_text="A topic the client may have turned down."
    )
    is_marketing = models.BooleanField(default=True)
    subject = models.CharField(max_length=150, blank=True)
    body = models.TextField()
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when an automation sent it.",
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    reason = models.ForeignKey(
        Reason, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    # The template an automation wrote it from, and which of its two wordings (A/B), if any.
    template = models.ForeignKey(
        MessageTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    variant = models.CharField(
        max_length=1, choices=MessageTemplateVariant.Letter.choices, blank=True
    )
    # The variables of the approved template it goes as ({"1": "Claire"}), on channels
    # that send approved templates (WhatsApp's ContentVariables).
    template_variables = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    suppressed_reason = models.CharField(max_length=200, blank=True)
    dedupe_key = models.CharField(max_length=100, unique=True)
    scheduled_for = models.DateTimeField(default=timezone.now)
    # When a worker claimed it; a claim older than the lease is taken over by the sweep.
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    provider_id = models.CharField(max_length=100, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    # The provider said the address itself is at fault (a dead or invalid number), not
    # the carrier or the content: enough of these and the address is bounced.
    bad_address = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sweep's question: which queued messages are due?
            models.Index(
                fields=["scheduled_for"], name="message_queued_due", condition=Q(status="queued")
            ),
            models.Index(fields=["customer", "-created_at"]),
            models.Index(fields=["customer", "is_marketing", "sent_at"]),
            # The performance page: a store's messages sent, and not sent, over a period;
            # and the A/B comparison of a template's two wordings.
            models.Index(fields=["store", "sent_at"], name="message_store_sent"),
            models.Index(
                fields=["store", "created_at"],
                name="message_store_suppressed",
                condition=Q(status="suppressed"),
            ),
            models.Index(
                fields=["template", "sent_at"],
                name="message_template_variant",
                condition=~Q(variant=""),
            ),
            # Delivery receipts find their message by the provider's id.
            models.Index(
                fields=["provider_id"],
                name="message_provider_id",
                condition=~Q(provider_id=""),
            ),
            # Sales attributed to outreach: which clients an associate wrote to lately.
            models.Index(
                fields=["sender", "sent_at"],
                name="message_sender_sent",
                condition=Q(sender__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="suppressed") | ~Q(suppressed_reason=""),
                name="message_suppression_says_why",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["sent", "delivered"]) | Q(sent_at__isnull=False),
                name="message_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.customer_id}: {self.get_status_display()}"

    @property
    def is_suppressed(self) -> bool:
        """The policy (or a withdrawal) stopped it: it will not go; `suppressed_reason` says why."""
        return self.status == self.Status.SUPPRESSED


class Bounce(models.Model):
    """An address a provider told us is dead: nothing more goes to it."""

    channel = models.CharField(max_length=8, choices=channel_choices)
    address = models.CharField(max_length=254)
    detail = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "address"], name="bounce_unique_address")
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.address}"


class SelectionQuerySet(models.QuerySet):
    def live(self, now=None) -> SelectionQuerySet:
        """Selections a client can still open: not revoked, not expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class Selection(models.Model):
    """A few pieces an associate picked for one client, sent as a personal phone page."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="selections")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The unguessable part of the page's link (only the client gets it, in the message).
    token = models.CharField(max_length=43, unique=True)
    note = models.TextField(blank=True, help_text="The associate's words above the pieces.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = SelectionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Selection for {self.customer_id} ({self.created_at:%Y-%m-%d})"


class SelectionItem(models.Model):
    selection = models.ForeignKey(Selection, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    size = models.CharField(max_length=16, blank=True, help_text="The client's size, if known.")
    position = models.PositiveSmallIntegerField(default=0)
    # When the client tapped "hold this for me".
    hold_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["selection", "product"], name="selection_item_once_per_product"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product_id} in selection {self.selection_id}"


class Suppression(models.Model):
    """An address whose owner said stop (a STOP text, a spam complaint): nothing goes to it
    on that consent channel, whatever a later consent says, until they opt in themselves.

    Keyed by a salted hash of the normalised address (`services.suppression`), not the
    address: it holds nothing readable, so erasure keeps it, and a client erased and then
    re-created by an import with "consent: yes" still receives nothing.
    """

    class Reason(models.TextChoices):
        STOP = "stop", "Replied STOP"
        COMPLAINT = "complaint", "Marked a message as spam"
        OTHER = "other", "Other"

    # The consent channel it suppresses ("sms" covers every channel borrowing SMS consent).
    channel = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, help_text="HMAC-SHA256 of the normalised address.")
    reason = models.CharField(max_length=16, choices=Reason.choices, default=Reason.STOP)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "digest"], name="suppression_unique_address")
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.digest[:12]}…"


class InboundMessage(models.Model):
    """A provider's inbound message we have handled, by its id (Twilio's MessageSid): a
    webhook the provider retries is answered without recording or confirming twice.
    Holds no content, no number."""

    provider_id = models.CharField(max_length=100, unique=True)
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.provider_id
