"""A staff member's devices that accept Web Push, the notifications waiting to go to them,
and the keys of writes a device sent (offline writes are sent once, whatever the retries)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class PushSubscriptionQuerySet(models.QuerySet):
    def for_users(self, user_ids) -> PushSubscriptionQuerySet:
        """The devices of these people whose account is still active."""
        return self.filter(user_id__in=user_ids, user__is_active=True)


class PushSubscription(models.Model):
    """One browser on one device that said yes to notifications (the Push API's subscription).

    The endpoint is the push service's address for this browser: unique, so the same
    browser subscribing again (or another person signing in on it) updates the one row.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    # The browser's P-256 public key and auth secret (base64url), for RFC 8291 encryption.
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    label = models.CharField("device", max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_success_at = models.DateTimeField(null=True, blank=True)

    objects = PushSubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = "device with notifications"
        verbose_name_plural = "devices with notifications"

    def __str__(self) -> str:
        return self.label or self.endpoint[:60]

    @property
    def subscription_info(self) -> dict:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class Notice(models.Model):
    """A notification waiting for the worker: the outbox of pushes, one row per person.

    Its text stays in the database (it may hold a client's first name), never in the
    broker: the task carries ids only. The worker deletes a row when it sends it.
    """

    class Kind(models.TextChoices):
        PAGE = "page", "Fitting-room page"
        PAGE_ESCALATED = "page_escalated", "Fitting-room page for everyone"
        CLIENT_REPLIED = "client_replied", "A client wrote back"
        BOOKING_REQUEST = "booking_request", "Online booking waiting"
        # Quiets a notification on every device (someone took the page).
        CLOSE = "close", "Taken elsewhere"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Notifications with one tag replace each other on a device (one per page, per client).
    tag = models.CharField(max_length=100)
    title = models.CharField(max_length=120)
    body = models.CharField(max_length=240, blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    def payload(self) -> dict:
        return {
            "type": "close" if self.kind == self.Kind.CLOSE else "show",
            "kind": self.kind,
            "tag": self.tag,
            "title": self.title,
            "body": self.body,
            "url": self.url,
        }


class IdempotencyKey(models.Model):
    """A write a device sent with an `Idempotency-Key` header, kept so a repeat does nothing.

    A phone that lost signal sends its queued note again when signal returns, maybe
    twice (the first answer never arrived): the unique key makes the second a no-op.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    path = models.CharField(max_length=300)
    # Where the first request's answer pointed (a redirect), given again to a repeat.
    location = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="push_idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.path}"
