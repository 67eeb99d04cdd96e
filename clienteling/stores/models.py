"""Stores and the people who work in them."""

from __future__ import annotations

import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone, e.g. “Europe/Paris”.")


def new_signup_token() -> str:
    return secrets.token_urlsafe(16)


class Store(models.Model):
    name = models.CharField(max_length=120)
    code = models.SlugField(
        max_length=32,
        unique=True,
        help_text="Short code used by the POS and the API, e.g. “nyc-soho”.",
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code, e.g. US, FR.")
    phone = models.CharField(max_length=32, blank=True)
    is_active = models.BooleanField(default=True)
    # A stricter window than the legal one (08:00-21:00, SMS_WINDOW_*) for text messages,
    # in the client's local time; empty means the legal window.
    sms_window_start = models.TimeField(null=True, blank=True)
    sms_window_end = models.TimeField(null=True, blank=True)
    # The secret in the store's self sign-up link and QR code; rotating it retires old prints.
    signup_token = models.CharField(
        max_length=32, unique=True, default=new_signup_token, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def rotate_signup_token(self) -> None:
        self.signup_token = new_signup_token()
        self.save(update_fields=["signup_token"])


class StaffMemberQuerySet(models.QuerySet):
    def active(self) -> StaffMemberQuerySet:
        return self.filter(user__is_active=True)

    def for_store(self, store: Store) -> StaffMemberQuerySet:
        return self.filter(store=store)

    def associates(self) -> StaffMemberQuerySet:
        """People who serve clients on the floor: associates and stylists."""
        return self.filter(role__in=[StaffMember.Role.ASSOCIATE, StaffMember.Role.STYLIST])


class StaffMember(models.Model):
    class Role(models.TextChoices):
        ASSOCIATE = "associate", "Sales associate"
        STYLIST = "stylist", "Stylist"
        MANAGER = "manager", "Store manager"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ASSOCIATE)
    employee_code = models.CharField(
        max_length=32,
        null=True,
        blank=True,
        unique=True,
        help_text="The id the POS knows this person by.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StaffMemberQuerySet.as_manager()

    class Meta:
        ordering = ["user__first_name", "user__last_name"]
        verbose_name = "staff member"
        indexes = [models.Index(fields=["store", "role"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER
