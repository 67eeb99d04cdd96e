"""Makeover sessions: what a stylist did, chapter by chapter, with the products used,
the samples given and the photos; private notes for staff and a summary for the client,
who opens it through a personal, expiring, revocable link.

Photos live in private storage (never under MEDIA_URL): they are served by a view that
checks who asks, staff of the store or the holder of the client's link.
"""

from __future__ import annotations

import hashlib
import secrets

from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clienteling.catalog.models import Product
from clienteling.stores.models import StaffMember
from customers.models import Customer

from .bookings import Appointment


class PrivateStorage(FileSystemStorage):
    """Files with no URL at all: FileSystemStorage would fall back to MEDIA_URL, so a
    template writing `photo.file.url` would link under /media/. Here it fails loudly."""

    def url(self, name: str | None) -> str:
        raise ValueError(
            "Makeover files are private: serve them through the makeover views, not a URL."
        )


def private_storage() -> FileSystemStorage:
    """Files no URL leads to: PRIVATE_MEDIA_ROOT, read back only through access checks.

    A callable, so migrations name the function rather than freeze today's path.
    """
    from django.conf import settings

    return PrivateStorage(location=settings.PRIVATE_MEDIA_ROOT)


def share_token_digest(token: str) -> str:
    """What the database keeps of a share link: a digest, so a leaked table opens nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_share_token() -> str:
    return secrets.token_urlsafe(32)


class MakeoverSession(models.Model):
    """The record of one makeover, attached to its appointment and its client."""

    appointment = models.OneToOneField(
        Appointment, on_delete=models.PROTECT, related_name="makeover"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="makeovers"
    )
    stylist = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="makeovers")
    title = models.CharField(max_length=120, blank=True, help_text="e.g. “Evening look”.")
    private_notes = models.TextField(
        blank=True, help_text="For staff only: skin notes, reactions, what to try next time."
    )
    summary = models.TextField(
        blank=True, help_text="For the client: shown on their page, in your words."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the stylist finished it: its products then raise replenishment reasons.
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "makeover session"

    def __str__(self) -> str:
        return self.title or f"Makeover {self.created_at:%Y-%m-%d}"


class Chapter(models.Model):
    class Area(models.TextChoices):
        SKIN = "skin", "Skin"
        EYES = "eyes", "Eyes"
        BROWS = "brows", "Brows"
        LIPS = "lips", "Lips"
        SCULPTING = "sculpting", "Sculpting"
        CUSTOM = "custom", "Other"

    session = models.ForeignKey(MakeoverSession, on_delete=models.CASCADE, related_name="chapters")
    area = models.CharField(max_length=12, choices=Area.choices, default=Area.SKIN)
    custom_title = models.CharField(max_length=80, blank=True, help_text="For “Other”.")
    steps = models.TextField(
        blank=True, help_text="One step per line, as the client would redo it."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(area="custom") | ~Q(custom_title=""),
                name="chapter_custom_has_title",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return self.custom_title if self.area == self.Area.CUSTOM else self.get_area_display()

    @property
    def step_list(self) -> list[str]:
        return [line.strip() for line in self.steps.splitlines() if line.strip()]


class ProductUse(models.Model):
    """A product the stylist used in a chapter, with its shade and how much."""

    chapter = models.ForeignKey(Chapter, on_delete=models.CASCADE, related_name="products")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    shade = models.CharField(max_length=60, blank=True)
    quantity = models.PositiveSmallIntegerField(default=1)
    note = models.CharField(max_length=120, blank=True, help_text="e.g. “pressed, not swept”.")

    class Meta:
        ordering = ["pk"]
        verbose_name = "product used"
        verbose_name_plural = "products used"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="product_use_quantity"),
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.shade}".strip()


class Sample(models.Model):
    """A sample the client took home: it runs out, so it may raise a replenishment reason."""

    session = models.ForeignKey(MakeoverSession, on_delete=models.CASCADE, related_name="samples")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    shade = models.CharField(max_length=60, blank=True)
    quantity = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="sample_quantity"),
        ]

    def __str__(self) -> str:
        return f"Sample of {self.product}"


def media_path(instance: MakeoverMedia, filename: str) -> str:
    # Deterministic per row: re-processing overwrites instead of piling up copies.
    return f"makeovers/{instance.session_id}/{instance.token}{_suffix(filename)}"


def thumbnail_path(instance: MakeoverMedia, filename: str) -> str:
    return f"makeovers/{instance.session_id}/{instance.token}-thumb.jpg"


def _suffix(filename: str) -> str:
    return "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def new_media_token() -> str:
    return secrets.token_urlsafe(12)


class MakeoverMedia(models.Model):
    """A photo (cleaned: EXIF and GPS gone, orientation fixed, thumbnail made), a short
    video, or a link to one."""

    class Kind(models.TextChoices):
        PHOTO = "photo", "Photo"
        VIDEO = "video", "Video"
        LINK = "link", "Video link"

    session = models.ForeignKey(MakeoverSession, on_delete=models.CASCADE, related_name="media")
    chapter = models.ForeignKey(
        Chapter, on_delete=models.SET_NULL, null=True, blank=True, related_name="media"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PHOTO)
    # Names the files (not guessable from the id) and the row in URLs.
    token = models.CharField(max_length=24, unique=True, default=new_media_token, editable=False)
    file = models.FileField(upload_to=media_path, storage=private_storage, blank=True)
    thumbnail = models.FileField(upload_to=thumbnail_path, storage=private_storage, blank=True)
    content_type = models.CharField(max_length=40, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    link = models.URLField(blank=True)
    caption = models.CharField(max_length=150, blank=True)
    shared = models.BooleanField(default=True, help_text="Shown on the client's page.")
    uploaded_by = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "makeover photo or video"
        verbose_name_plural = "makeover photos and videos"
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="link") | ~Q(link=""), name="makeover_media_link_has_url"
            ),
        ]

    def __str__(self) -> str:
        return self.caption or f"{self.get_kind_display()} {self.pk}"


class ShareLinkQuerySet(models.QuerySet):
    def usable(self, now=None) -> ShareLinkQuerySet:
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class ShareLink(models.Model):
    """A client's personal link to their makeover page. Only a digest of its secret is
    kept; the link itself went to the client in a message."""

    session = models.ForeignKey(
        MakeoverSession, on_delete=models.CASCADE, related_name="share_links"
    )
    token_digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_opened_at = models.DateTimeField(null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "makeover share link"

    def __str__(self) -> str:
        return f"Link to {self.session}"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now
