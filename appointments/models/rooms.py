"""Time and place: fitting rooms, the visits in them, pages from a room to an associate,
reservations of a room for a client with the items to stage.

A page goes first to the associate who brought the client (the visit's associate); if
nobody acknowledges it in time, it escalates to every associate of the store. The room
tablet is public: it knows its room by a secret token in its link, and shows only the
room's own pages, never anything about a client.
"""

from __future__ import annotations

import datetime
import secrets

from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from clienteling.catalog.models import Product
from clienteling.stores.models import StaffMember, Store
from customers.models import Customer

from .base import PostgresExclusionConstraint, TsTzRange

# A reservation counts as "now" this long before it starts: the room is being prepared.
RESERVATION_LEAD = datetime.timedelta(minutes=15)


def new_tablet_token() -> str:
    return secrets.token_urlsafe(24)


# --- Rooms ------------------------------------------------------------------------


class RoomQuerySet(models.QuerySet):
    def for_store(self, store: Store | int) -> RoomQuerySet:
        return self.filter(store=store)

    def active(self) -> RoomQuerySet:
        return self.filter(is_active=True)


class Room(models.Model):
    class Status(models.TextChoices):
        AVAILABLE = "available", "Available"
        OCCUPIED = "occupied", "Occupied"
        RESERVED = "reserved", "Reserved"
        NEEDS_ATTENTION = "needs_attention", "Needs attention"
        BEING_CLEANED = "being_cleaned", "Being cleaned"

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="fitting_rooms")
    name = models.CharField(max_length=60, help_text="As written on the door, e.g. “Room 3”.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order on the room board.")
    # Set by the services: a visit makes it occupied, its end "being cleaned", an associate
    # frees it. "Reserved" is shown on the board while a reservation holds an available room.
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AVAILABLE)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # The secret in the room tablet's link and QR code; rotating it retires the old link.
    tablet_token = models.CharField(
        max_length=64, unique=True, default=new_tablet_token, editable=False
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RoomQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "fitting room"
        constraints = [
            models.UniqueConstraint(fields=["store", "name"], name="room_name_unique_per_store"),
        ]

    def __str__(self) -> str:
        return self.name

    def rotate_tablet_token(self) -> None:
        self.tablet_token = new_tablet_token()
        self.save(update_fields=["tablet_token"])

    def board_status(self, reservation: Reservation | None) -> str:
        """What the board shows: an available room held by a reservation is "reserved"."""
        if self.status == self.Status.AVAILABLE and reservation is not None:
            return self.Status.RESERVED
        return self.status


# --- Reservations and staging ------------------------------------------------------


class ReservationQuerySet(models.QuerySet):
    def active(self) -> ReservationQuerySet:
        return self.filter(cancelled_at__isnull=True)

    def overlapping(
        self, *, room_id: int, starts_at: datetime.datetime, ends_at: datetime.datetime
    ) -> ReservationQuerySet:
        """Reservations of the room whose period meets [starts_at, ends_at) (back to back is fine)."""
        return self.filter(room_id=room_id, starts_at__lt=ends_at, ends_at__gt=starts_at)

    def current(self, now: datetime.datetime) -> ReservationQuerySet:
        """Holding their room now, or starting within RESERVATION_LEAD (being prepared)."""
        return self.active().filter(starts_at__lte=now + RESERVATION_LEAD, ends_at__gt=now)

    def upcoming(self, now: datetime.datetime) -> ReservationQuerySet:
        return self.active().filter(ends_at__gt=now)


class Reservation(models.Model):
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="reservations")
    # Nullable only so that erasing a client keeps the room's calendar: the form asks for one.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="fitting_room_reservations",
    )
    associate = models.ForeignKey(
        StaffMember,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="fitting_room_reservations",
        help_text="Who looks after the client; their pages go to this person first.",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True, help_text="e.g. “Wedding guest dress”.")
    created_by = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = ReservationQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["room", "starts_at"], name="reservation_room_starts")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="reservation_ends_after_start"
            ),
            # No two live reservations of a room overlap: guaranteed by PostgreSQL
            # (btree_gist lets the room's id share the GiST index with the range).
            PostgresExclusionConstraint(
                name="reservation_no_overlap_per_room",
                expressions=[
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("room", RangeOperators.EQUAL),
                ],
                condition=Q(cancelled_at__isnull=True),
                violation_error_message="This room is already reserved at that time.",
            ),
        ]

    OVERLAP_FIELDS = ("room", "starts_at", "ends_at")

    def __str__(self) -> str:
        return f"{self.room} {self.starts_at:%Y-%m-%d %H:%M}"

    def conflicting(self, using: str = "default") -> ReservationQuerySet | None:
        """Live reservations of the room this one would overlap (for the constraint)."""
        if self.cancelled_at or not (self.room_id and self.starts_at and self.ends_at):
            return None
        return (
            Reservation.objects.using(using)
            .active()
            .overlapping(room_id=self.room_id, starts_at=self.starts_at, ends_at=self.ends_at)
        )

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class StagedItem(models.Model):
    """An item and size to prepare in the room before the client arrives; checked once there."""

    reservation = models.ForeignKey(
        Reservation, on_delete=models.CASCADE, related_name="staged_items"
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description = models.CharField(
        max_length=120, blank=True, help_text="When it is not in the catalog, or a detail."
    )
    size = models.CharField(max_length=20, blank=True)
    # The check mark: the item is in the room.
    staged_at = models.DateTimeField(null=True, blank=True)
    staged_by = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["pk"]
        verbose_name = "staged item"
        constraints = [
            models.CheckConstraint(
                condition=Q(product__isnull=False) | ~Q(description=""),
                name="staged_item_names_something",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        name = self.product.name if self.product_id else self.description
        return f"{name} · {self.size}" if self.size else name


# --- Visits and pages ---------------------------------------------------------------


class VisitQuerySet(models.QuerySet):
    def open(self) -> VisitQuerySet:
        return self.filter(ended_at__isnull=True)


class Visit(models.Model):
    """A client's time in a room, from check-in (or an associate bringing them) to the end."""

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="visits")
    associate = models.ForeignKey(
        StaffMember,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="fitting_room_visits",
        help_text="Who brought the client: the visit's pages go to them first.",
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="fitting_room_visits",
    )
    reservation = models.ForeignKey(
        Reservation, on_delete=models.SET_NULL, null=True, blank=True, related_name="visits"
    )
    started_at = models.DateTimeField(default=timezone.now)
    # When the client checked in on the tablet (an associate may have started the visit).
    checked_in_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["room"],
                condition=Q(ended_at__isnull=True),
                name="visit_one_open_per_room",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="visit_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room} {self.started_at:%Y-%m-%d %H:%M}"


class PageQuerySet(models.QuerySet):
    def open(self) -> PageQuerySet:
        """Neither resolved nor cancelled (the visit ended first)."""
        return self.filter(resolved_at__isnull=True, cancelled_at__isnull=True)

    def for_store(self, store: Store | int) -> PageQuerySet:
        return self.filter(store=store)

    def for_staff(self, staff: StaffMember) -> PageQuerySet:
        """Pages this person is paged for: theirs first, everyone's once escalated.

        A page without a target (nobody brought the client) is escalated from the start.
        Pages the person took stay theirs until resolved.
        """
        return self.filter(store_id=staff.store_id).filter(
            Q(target=staff) | Q(escalated_at__isnull=False) | Q(acknowledged_by=staff)
        )

    def for_pager(self, staff: StaffMember) -> PageQuerySet:
        """What an associate's phone shows: open pages waiting for them or taken by them.

        One query: the room and the visit's client come joined; the item is a snapshot.
        """
        return (
            self.open()
            .for_staff(staff)
            .filter(Q(acknowledged_by__isnull=True) | Q(acknowledged_by=staff))
            # Room and client only: every join costs planning time on each poll (with
            # seven joins PostgreSQL spent 5 ms planning, ten times the execution).
            .select_related("room", "visit__customer")
            .order_by("created_at", "pk")
        )

    def due_for_escalation(
        self, *, now: datetime.datetime, after: datetime.timedelta
    ) -> PageQuerySet:
        """Open, not acknowledged and not yet escalated, sent at least `after` ago."""
        return self.open().filter(
            escalated_at__isnull=True, acknowledged_at__isnull=True, created_at__lte=now - after
        )


class Page(models.Model):
    """A call from a room's tablet to an associate: sent, acknowledged, then resolved."""

    class Kind(models.TextChoices):
        SIZE = "size", "Another size"
        COLOUR = "colour", "Another colour"
        HELP = "help", "Help"
        CHECKOUT = "checkout", "Ready to check out"

    # Copied from the room: feeds and metrics filter by store without a join.
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="fitting_room_pages")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="pages")
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="pages")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The item named on the tablet: one staged in the room, or a SKU typed in.
    staged_item = models.ForeignKey(
        StagedItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="pages"
    )
    sku = models.CharField("SKU", max_length=64, blank=True)
    # The item's name as it was when paged (product or staged item): phones and the tablet
    # show it without joining two more tables on every poll.
    item_name = models.CharField(max_length=200, blank=True)
    size = models.CharField(max_length=20, blank=True)
    colour = models.CharField(max_length=40, blank=True)
    # Who is paged first: the associate who brought the client, if any.
    target = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # When the page went to every associate of the store (at once when there is no target).
    escalated_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        StaffMember,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="acknowledged_pages",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The visit ended before anyone resolved it.
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The feeds and the escalation sweep read only open pages: a small index.
            models.Index(
                fields=["store", "created_at"],
                condition=Q(resolved_at__isnull=True, cancelled_at__isnull=True),
                name="page_open_by_store",
            ),
            # Metrics over a period.
            models.Index(fields=["store", "created_at"], name="page_store_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | Q(acknowledged_at__gte=F("created_at")),
                name="page_acknowledged_after_sent",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(acknowledged_at__isnull=False),
                name="page_resolved_only_once_acknowledged",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(cancelled_at__isnull=True),
                name="page_not_both_resolved_and_cancelled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room}: {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None and self.cancelled_at is None

    @property
    def item_label(self) -> str:
        """The item named on the tablet, e.g. “Silk wrap dress · size M”."""
        parts = []
        if self.item_name:
            parts.append(self.item_name)
        elif self.sku:
            parts.append(self.sku)
        if self.size:
            parts.append(f"size {self.size}")
        if self.colour:
            parts.append(self.colour)
        return " · ".join(parts)

    @property
    def time_to_acknowledge(self) -> datetime.timedelta | None:
        return self.acknowledged_at - self.created_at if self.acknowledged_at else None

    @property
    def time_to_resolve(self) -> datetime.timedelta | None:
        return self.resolved_at - self.created_at if self.resolved_at else None
