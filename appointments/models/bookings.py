"""Appointments with stylists: their kinds, the stylists' working hours and time off,
personal styling enrolments, and each stylist's private calendar feed.

An appointment holds its stylist for longer than it lasts: an in-home try-on blocks the
travel before and after, and every kind may ask for a buffer after it. That held period
(`blocked_from`..`blocked_until`) is what may not overlap another of the same stylist:
PostgreSQL guarantees it with an exclusion constraint; the booking service also locks the
stylist's row and checks first, so the refusal is a clear sentence, not an error.
"""

from __future__ import annotations

import datetime
import secrets

from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from clienteling.stores.models import StaffMember, Store
from customers.models import Customer

from .base import PostgresExclusionConstraint, TsTzRange
from .rooms import Reservation, Room


def new_manage_token() -> str:
    return secrets.token_urlsafe(24)


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class AppointmentKind(models.Model):
    """What a client can come for, managed in the admin: how long it lasts and where."""

    class Place(models.TextChoices):
        STORE = "store", "In the store"
        HOME = "home", "At the client's home"
        VIRTUAL = "virtual", "On video"

    name = models.CharField(max_length=80, unique=True, help_text="e.g. “In-store try-on”.")
    place = models.CharField(max_length=8, choices=Place.choices, default=Place.STORE)
    default_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(5), MaxValueValidator(8 * 60)]
    )
    travel_minutes = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(4 * 60)],
        help_text="Held before and after, for the trip to the client's home.",
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(2 * 60)],
        help_text="Held after each appointment of this kind (tidy up, notes).",
    )
    uses_fitting_room = models.BooleanField(
        default=False, help_text="Offer to reserve a fitting room with items to stage."
    )
    is_makeover = models.BooleanField(
        default=False, help_text="Stylists write makeover notes (chapters, products, photos)."
    )
    online_stores = models.ManyToManyField(
        Store,
        blank=True,
        related_name="online_appointment_kinds",
        help_text="Stores whose public booking page offers this kind.",
    )
    online_needs_approval = models.BooleanField(
        default=False,
        help_text="Bookings clients make themselves wait for a stylist to accept them.",
    )
    online_min_notice_hours = models.PositiveSmallIntegerField(
        default=12, help_text="How far ahead clients must book online."
    )
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_minutes__gt=0), name="appointment_kind_lasts"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.default_minutes)

    @property
    def held_before(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.travel_minutes)

    @property
    def held_after(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.travel_minutes + self.buffer_minutes)


class WorkingHours(models.Model):
    """A stylist's regular hours on one weekday, in their store's local time."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    stylist = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["stylist", "weekday", "starts"]
        verbose_name = "working hours"
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends__gt=F("starts")), name="working_hours_end_after_start"
            ),
            models.UniqueConstraint(
                fields=["stylist", "weekday", "starts"], name="working_hours_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class TimeOff(models.Model):
    """A period a stylist takes no appointments (holiday, training, a doctor's visit)."""

    stylist = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = "time off"
        verbose_name_plural = "time off"
        indexes = [models.Index(fields=["stylist", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="time_off_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stylist} off {self.starts_at:%Y-%m-%d}"


class AppointmentQuerySet(models.QuerySet):
    def live(self) -> AppointmentQuerySet:
        """Holding their stylist's time: everything but cancelled ones."""
        return self.exclude(status=Appointment.Status.CANCELLED)

    def upcoming(self, now: datetime.datetime | None = None) -> AppointmentQuerySet:
        """Still ahead and still expected (not cancelled, not ended as a no-show)."""
        return self.filter(
            ends_at__gt=now or timezone.now(), status__in=Appointment.EXPECTED_STATUSES
        )

    def holding(
        self, *, stylist_ids, starts_at: datetime.datetime, ends_at: datetime.datetime
    ) -> AppointmentQuerySet:
        """Live appointments whose held period meets [starts_at, ends_at) for these stylists."""
        return self.live().filter(
            stylist_id__in=stylist_ids, blocked_from__lt=ends_at, blocked_until__gt=starts_at
        )

    def for_store(self, store: Store | int) -> AppointmentQuerySet:
        return self.filter(store=store)

    def between(self, starts_at: datetime.datetime, ends_at: datetime.datetime):
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)

    def for_agenda(self) -> AppointmentQuerySet:
        """What an agenda row shows: the client, the kind and the room, in one query."""
        return self.select_related("customer", "kind", "room", "store", "stylist__user").order_by(
            "starts_at", "pk"
        )


class Appointment(models.Model):
    """A client's time with a stylist: in the store, at home or on video."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Awaiting approval"
        BOOKED = "booked", "Booked"
        CONFIRMED = "confirmed", "Confirmed"
        CHECKED_IN = "checked_in", "Checked in"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"
        CANCELLED = "cancelled", "Cancelled"

    class BookedThrough(models.TextChoices):
        STAFF = "staff", "By a stylist or associate"
        ONLINE = "online", "By the client, online"

    # Still expected to happen: reminders go out for these.
    EXPECTED_STATUSES = (Status.REQUESTED, Status.BOOKED, Status.CONFIRMED, Status.CHECKED_IN)
    OVERLAP_FIELDS = ("stylist", "blocked_from", "blocked_until")

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="appointments")
    # Nullable only so that erasing a client keeps the stylist's calendar honest.
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="appointments"
    )
    stylist = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="appointments")
    kind = models.ForeignKey(AppointmentKind, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # What the stylist's calendar holds: travel before, travel and buffer after.
    blocked_from = models.DateTimeField()
    blocked_until = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BOOKED)
    booked_through = models.CharField(
        max_length=8, choices=BookedThrough.choices, default=BookedThrough.STAFF
    )
    room = models.ForeignKey(
        Room, on_delete=models.SET_NULL, null=True, blank=True, related_name="appointments"
    )
    reservation = models.OneToOneField(
        Reservation, on_delete=models.SET_NULL, null=True, blank=True, related_name="appointment"
    )
    address = models.CharField(max_length=250, blank=True, help_text="For in-home try-ons.")
    video_link = models.URLField(blank=True, help_text="For virtual styling.")
    notes = models.TextField(blank=True, help_text="For the stylist: what the client wants.")
    # The client's own link to see, cancel or move the appointment (no login).
    manage_token = models.CharField(
        max_length=48, unique=True, default=new_manage_token, editable=False
    )
    # Bumped at each reschedule: reminders are keyed by it, so the new time gets its own.
    revision = models.PositiveSmallIntegerField(default=1)
    cancel_reason = models.CharField(max_length=200, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    booked_by = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["stylist", "starts_at"], name="appointment_stylist_starts"),
            models.Index(fields=["store", "starts_at"], name="appointment_store_starts"),
            models.Index(fields=["customer", "-starts_at"], name="appointment_customer"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(blocked_from__lte=F("starts_at")) & Q(blocked_until__gte=F("ends_at")),
                name="appointment_holds_its_own_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="appointment_cancelled_has_time",
            ),
            # No two live appointments of a stylist hold the same minute (PostgreSQL).
            PostgresExclusionConstraint(
                name="appointment_no_overlap_per_stylist",
                expressions=[
                    (
                        TsTzRange("blocked_from", "blocked_until", RangeBoundary()),
                        RangeOperators.OVERLAPS,
                    ),
                    ("stylist", RangeOperators.EQUAL),
                ],
                condition=~Q(status="cancelled"),
                violation_error_message="The stylist already has an appointment at that time.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.starts_at:%Y-%m-%d %H:%M}"

    def conflicting(self, using: str = "default") -> AppointmentQuerySet | None:
        """Live appointments of the stylist this one would overlap (for the constraint)."""
        if self.status == self.Status.CANCELLED or not (
            self.stylist_id and self.blocked_from and self.blocked_until
        ):
            return None
        return Appointment.objects.using(using).holding(
            stylist_ids=[self.stylist_id], starts_at=self.blocked_from, ends_at=self.blocked_until
        )

    @property
    def is_expected(self) -> bool:
        return self.status in self.EXPECTED_STATUSES

    @property
    def local_starts_at(self) -> datetime.datetime:
        return timezone.localtime(self.starts_at, self.store.zone)

    @property
    def local_ends_at(self) -> datetime.datetime:
        return timezone.localtime(self.ends_at, self.store.zone)

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class StylingEnrollment(models.Model):
    """A client in personal styling with a dedicated stylist (one at a time)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="styling_enrollments"
    )
    stylist = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="styling_clients"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    goals = models.CharField(
        max_length=250, blank=True, help_text="What the client wants from it, in a line."
    )
    enrolled_by = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "personal styling enrolment"
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(ended_at__isnull=True),
                name="styling_one_active_enrollment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} with {self.stylist}"


class CalendarFeed(models.Model):
    """The secret address of a stylist's personal calendar (.ics), rotated by a manager."""

    stylist = models.OneToOneField(
        StaffMember, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_calendar_token)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "calendar feed"

    def __str__(self) -> str:
        return f"Calendar of {self.stylist}"

    def rotate(self) -> None:
        self.token = new_calendar_token()
        self.save(update_fields=["token"])
