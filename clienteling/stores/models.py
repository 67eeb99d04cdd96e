"""Stores and the people who work in them."""

from __future__ import annotations

import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


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
    # Who the store's messages come from. Empty: the project's defaults (DEFAULT_FROM_EMAIL,
    # TWILIO_DEFAULT_FROM...), so a new store can send on day one.
    email_from_name = models.CharField(
        max_length=100,
        blank=True,
        help_text="Shown as the sender of emails; empty: the store's name.",
    )
    email_from_address = models.EmailField(
        blank=True, help_text="An address of a domain verified with the email provider."
    )
    logo = models.ImageField(
        upload_to="stores/logos/", blank=True, help_text="Shown at the top of the store's emails."
    )
    sms_from_number = models.CharField(
        max_length=32,
        blank=True,
        help_text="The store's business number for texts (E.164, e.g. +12125550123).",
    )
    twilio_messaging_service_sid = models.CharField(
        max_length=40,
        blank=True,
        help_text="A Twilio Messaging Service (MG…): used instead of the number.",
    )
    whatsapp_from_number = models.CharField(
        max_length=32, blank=True, help_text="The store's WhatsApp sender number (E.164)."
    )
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


class RefusedAccess(models.Model):
    """A signed-in person asked for a record that exists but is not theirs to see (another
    store's client, appointment or makeover). They got the same 404 as for a record that
    does not exist; this row is the trace ASVS asks for (V7.2: log access-control failures).

    Bounded: past SECURITY_REFUSALS_KEPT_PER_WINDOW rows per person per window, further
    refusals are counted on that person's last row (`repeats`) instead of adding rows, so a
    scan of a million ids writes a handful of rows."""

    class Where(models.TextChoices):
        PAGE = "page", "Page"
        PARTIAL = "partial", "Part of a page (htmx)"
        API = "api", "API"
        ADMIN = "admin", "Admin"

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The actor's store: its manager answers for what their staff tried.
    store = models.ForeignKey(
        Store, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target = models.CharField(max_length=60, help_text="What was asked for, e.g. “client”.")
    target_ref = models.CharField(max_length=40, help_text="The id asked for.")
    where = models.CharField(max_length=10, choices=Where.choices)
    path = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    repeats = models.PositiveIntegerField(
        default=0, help_text="Further refusals folded into this row once the cap was reached."
    )

    class Meta:
        ordering = ["-at"]
        verbose_name = "refused access"
        verbose_name_plural = "refused accesses"
        indexes = [
            models.Index(fields=["actor", "-at"]),
            models.Index(fields=["store", "-at"]),
        ]

    def __str__(self) -> str:
        return f"{self.target} #{self.target_ref} refused to {self.actor_id} at {self.at:%Y-%m-%d %H:%M}"


class SecurityAlertQuerySet(models.QuerySet):
    def open(self) -> SecurityAlertQuerySet:
        return self.filter(reviewed_at__isnull=True)


class SecurityAlert(models.Model):
    """One person touched many records they may not see within a few minutes: their
    store's manager is told (on Today and in the admin) until someone marks it reviewed.
    At most one open alert per person; further refusals add to it."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(
        Store, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    last_at = models.DateTimeField(default=timezone.now)
    distinct_targets = models.PositiveIntegerField(
        default=0, help_text="Different records refused in the window that raised the alert."
    )
    refusals = models.PositiveIntegerField(default=0, help_text="Refusals since it opened.")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = SecurityAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["actor"],
                condition=models.Q(reviewed_at__isnull=True),
                name="one_open_security_alert_per_actor",
            )
        ]
        indexes = [models.Index(fields=["store", "reviewed_at"])]

    def __str__(self) -> str:
        return f"Alert on user {self.actor_id} opened {self.opened_at:%Y-%m-%d %H:%M}"
