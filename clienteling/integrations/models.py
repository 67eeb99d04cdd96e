"""Integration API tokens: one per integration (or several, while one is rotated), each
with the scopes it may use, revocable at once, and stored only as a SHA-256 digest.

The key itself is shown once, when it is issued; the database keeps its digest and a
short prefix that people can recognise ("cl_Xy3k…"). A leaked table opens nothing.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

KEY_PREFIX = "cl_"
PREFIX_LENGTH = 10


class Scope(models.TextChoices):
    CUSTOMERS_WRITE = "customers:write", "Create and update clients"
    ORDERS_WRITE = "orders:write", "Push orders, shipments and alterations"
    EVENTS_WRITE = "events:write", "Push engagement events"
    CUSTOMERS_READ = "customers:read", "Look clients up at the till (POS read-back)"
    CATALOG_WRITE = "catalog:write", "Feed the catalog and stock counts"


ALL_SCOPES = [scope.value for scope in Scope]


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def validate_scopes(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one scope.")
    unknown = sorted(set(value) - set(ALL_SCOPES))
    if unknown:
        raise ValidationError(f"Unknown scope: {', '.join(unknown)}.")


class IntegrationTokenQuerySet(models.QuerySet):
    def usable(self, now=None) -> IntegrationTokenQuerySet:
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class IntegrationToken(models.Model):
    name = models.CharField(max_length=80, help_text="e.g. “POS SoHo” or “Web shop”.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="integration_tokens",
        help_text="The integration's account (it holds the permission to push data).",
    )
    prefix = models.CharField(max_length=PREFIX_LENGTH, editable=False)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list, validators=[validate_scopes])
    # A till's key belongs to its store: what it reads back is that store's clients only.
    # Empty: the retailer's own systems (e-commerce, the email platform), every store.
    store = models.ForeignKey(
        "stores.Store",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="A key for one store sees that store's clients only; empty: every store.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = IntegrationTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "integration token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(
        cls,
        *,
        user,
        name: str,
        scopes: list[str],
        created_by=None,
        expires_at=None,
        store=None,
    ) -> tuple[IntegrationToken, str]:
        """A new token and its key: show the key once, it is not kept."""
        validate_scopes(scopes)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            prefix=key[:PREFIX_LENGTH],
            key_digest=key_digest(key),
            scopes=sorted(set(scopes)),
            created_by=created_by,
            expires_at=expires_at,
            store=store,
        )
        return token, key

    def revoke(self, now=None) -> bool:
        return bool(
            IntegrationToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(
                revoked_at=now or timezone.now()
            )
        )

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def allows(self, scope: str) -> bool:
        return scope in self.scopes
