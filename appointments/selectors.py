"""Reads for fitting rooms shared by the associate pages, Today and the tablet."""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    F,
    Prefetch,
    Q,
    QuerySet,
)
from django.utils import timezone

from clienteling.core.compiled import models_once
from clienteling.stores.models import StaffMember, Store

from . import versions
from .models import (
    RESERVATION_LEAD,
    Page,
    Reservation,
    Room,
    StagedItem,
    Visit,
    is_postgresql,
)

# The most pages an associate's phone lists at once (oldest first).
PAGER_LIMIT = 30


def client_visible_to(staff: StaffMember, customer) -> bool:
    """Whether staff may open this client's card (the rule of customers_visible_to)."""
    if customer is None:
        return False
    if customer.home_store_id == staff.store_id:
        return True
    return not staff.is_manager and customer.assigned_associate_id == staff.pk


@dataclass
class Pager:
    """What an associate's phone shows of fitting-room pages, and the version it shows."""

    staff: StaffMember
    version: str
    rendered_at: int
    pages: list[Page] = field(default_factory=list)

    @property
    def newest_id(self) -> int:
        return max((page.pk for page in self.pages), default=0)

    @property
    def waiting(self) -> int:
        return sum(1 for page in self.pages if page.acknowledged_by_id is None)


def pager_for(staff: StaffMember, *, version: str | None = None) -> Pager:
    """The open pages waiting for this associate or taken by them, oldest first.

    One query. The version is read before the rows (see `versions`).
    """
    if version is None:
        version = versions.pager_version(store_id=staff.store_id, staff_id=staff.pk)
    # Written once per process (clienteling.core.compiled): Today and every changed poll.
    pages = models_once(
        ("pager",),
        lambda values: Page.objects.for_pager(
            StaffMember(pk=values["staff_id"], store_id=values["store_id"])
        )[:PAGER_LIMIT],
        {"staff_id": staff.pk, "store_id": staff.store_id},
    )
    for page in pages:
        page.client_visible = client_visible_to(staff, page.visit.customer)
        page.is_mine = page.acknowledged_by_id == staff.pk
        page.for_me_first = page.target_id == staff.pk and page.escalated_at is None
    return Pager(
        staff=staff, version=version, rendered_at=int(timezone.now().timestamp()), pages=pages
    )


@dataclass
class BoardRoom:
    room: Room
    status: str
    status_label: str
    visit: Visit | None
    pages: list[Page]
    reservation_now: Reservation | None
    next_reservation: Reservation | None

    @property
    def waiting(self) -> list[Page]:
        return [page for page in self.pages if page.acknowledged_by_id is None]

    @property
    def oldest_waiting(self) -> Page | None:
        waiting = self.waiting
        return min(waiting, key=lambda page: page.created_at) if waiting else None

    @property
    def taken(self) -> list[Page]:
        return [page for page in self.pages if page.acknowledged_by_id is not None]


def rooms_board(*, store: Store, staff: StaffMember, now: datetime.datetime) -> list[BoardRoom]:
    """Every active room of the store with its status, occupant, open pages and bookings.

    Four queries whatever the number of rooms: rooms, open visits, open pages, and
    today's remaining reservations.
    """
    day_end = timezone.localtime(now, store.zone).replace(
        hour=23, minute=59, second=59, microsecond=0
    )
    rooms = (
        Room.objects.for_store(store)
        .active()
        .prefetch_related(
            Prefetch(
                "visits",
                queryset=Visit.objects.open().select_related("associate__user", "customer"),
                to_attr="open_visits",
            ),
            Prefetch(
                "pages",
                queryset=Page.objects.open()
                .select_related("acknowledged_by__user")
                .order_by("created_at"),
                to_attr="open_pages",
            ),
            Prefetch(
                "reservations",
                queryset=Reservation.objects.upcoming(now)
                .filter(starts_at__lte=day_end)
                .select_related("customer", "associate__user")
                .order_by("starts_at"),
                to_attr="today_reservations",
            ),
        )
    )
    board = []
    for room in rooms:
        visit = room.open_visits[0] if room.open_visits else None
        if visit is not None:
            visit.client_visible = client_visible_to(staff, visit.customer)
        current = [r for r in room.today_reservations if r.starts_at <= now + RESERVATION_LEAD]
        later = [r for r in room.today_reservations if r.starts_at > now + RESERVATION_LEAD]
        status = room.board_status(current[0] if current else None)
        board.append(
            BoardRoom(
                room=room,
                status=status,
                status_label=Room.Status(status).label,
                visit=visit,
                pages=room.open_pages,
                reservation_now=current[0] if current else None,
                next_reservation=later[0] if later else None,
            )
        )
    return board


def room_open_pages(room: Room) -> list[Page]:
    return list(
        Page.objects.open()
        .filter(room=room)
        .select_related("acknowledged_by__user", "target__user")
        .order_by("created_at")
    )


def room_upcoming_reservations(room: Room, now: datetime.datetime, limit: int = 20):
    return list(
        Reservation.objects.upcoming(now)
        .filter(room=room)
        .select_related("customer", "associate__user")
        .annotate(
            items=Count("staged_items"),
            staged=Count("staged_items", filter=Q(staged_items__staged_at__isnull=False)),
        )
        .order_by("starts_at")[:limit]
    )


# --- The tablet ------------------------------------------------------------------------

# The tablet lists at most this many of the visit's pages, newest first.
TABLET_PAGE_LIMIT = 6


def tablet_pages(room: Room) -> list[Page]:
    """The open visit's pages, newest first: kind, item and who is coming, nothing more."""
    return list(
        Page.objects.filter(room=room, visit__ended_at__isnull=True)
        .select_related("acknowledged_by__user")
        .order_by("-created_at", "-pk")[:TABLET_PAGE_LIMIT]
    )


def tablet_staged_items(room: Room, now: datetime.datetime) -> list[StagedItem]:
    """Items staged in the room for the visit's reservation (or the one holding the room now)."""
    visit = room.visits.open().first()
    reservation_id = visit.reservation_id if visit else None
    if reservation_id is None:
        reservation_id = (
            Reservation.objects.current(now)
            .filter(room=room)
            .order_by("starts_at")
            .values_list("pk", flat=True)
            .first()
        )
    if reservation_id is None:
        return []
    return list(StagedItem.objects.filter(reservation_id=reservation_id).select_related("product"))


# --- Metrics --------------------------------------------------------------------------


class Median(Aggregate):
    """PostgreSQL's median: percentile_cont(0.5), here over intervals (NULLs ignored)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


@dataclass
class ResponseTimes:
    key: int | None
    label: str
    pages: int
    acknowledged: int
    escalated: int
    median_acknowledge: datetime.timedelta | None
    median_resolve: datetime.timedelta | None


def _median(values: list[datetime.timedelta]) -> datetime.timedelta | None:
    if not values:
        return None
    return datetime.timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def page_response_times(*, pages: QuerySet[Page], group_by: str) -> list[dict]:
    """Per value of `group_by` ("store" or "acknowledged_by"): pages, how many were taken
    and escalated, and the medians of time to acknowledge and to resolve.

    On PostgreSQL the medians are computed by the database (one grouped query);
    elsewhere (the SQLite demo) the durations of the period are fetched and the
    medians taken in Python.
    """
    column = f"{group_by}_id"
    escalated = Q(escalated_at__isnull=False, target__isnull=False)
    if is_postgresql(pages.db):
        rows = (
            pages.order_by()
            .values(column)
            .annotate(
                pages=Count("pk"),
                acknowledged=Count("acknowledged_at"),
                escalated=Count("pk", filter=escalated),
                median_acknowledge=Median(F("acknowledged_at") - F("created_at")),
                median_resolve=Median(F("resolved_at") - F("created_at")),
            )
        )
        return [{"key": row.pop(column), **row} for row in rows]
    groups: dict[int | None, dict] = defaultdict(
        lambda: {"pages": 0, "acknowledged": 0, "escalated": 0, "ack": [], "resolve": []}
    )
    for key, created, acknowledged, resolved, escalated_at, target in pages.values_list(
        column, "created_at", "acknowledged_at", "resolved_at", "escalated_at", "target_id"
    ):
        group = groups[key]
        group["pages"] += 1
        if acknowledged:
            group["acknowledged"] += 1
            group["ack"].append(acknowledged - created)
        if resolved:
            group["resolve"].append(resolved - created)
        if escalated_at and target:
            group["escalated"] += 1
    return [
        {
            "key": key,
            "pages": group["pages"],
            "acknowledged": group["acknowledged"],
            "escalated": group["escalated"],
            "median_acknowledge": _median(group["ack"]),
            "median_resolve": _median(group["resolve"]),
        }
        for key, group in groups.items()
    ]


def response_times_by_store(
    *, stores: QuerySet[Store], start: datetime.datetime, end: datetime.datetime
) -> list[ResponseTimes]:
    pages = Page.objects.filter(store__in=stores, created_at__gte=start, created_at__lt=end)
    rows = {row["key"]: row for row in page_response_times(pages=pages, group_by="store")}
    return [
        ResponseTimes(label=store.name, **rows[store.pk])
        for store in stores.order_by("name")
        if store.pk in rows
    ]


def response_times_by_associate(
    *, store: Store, start: datetime.datetime, end: datetime.datetime
) -> list[ResponseTimes]:
    pages = Page.objects.filter(store=store, created_at__gte=start, created_at__lt=end)
    rows = page_response_times(pages=pages, group_by="acknowledged_by")
    names = {
        staff.pk: staff.display_name
        for staff in StaffMember.objects.filter(
            pk__in=[row["key"] for row in rows if row["key"]]
        ).select_related("user")
    }
    result = [
        ResponseTimes(label=names.get(row["key"], "Nobody (the client left first)"), **row)
        for row in rows
    ]
    return sorted(result, key=lambda item: (item.key is None, item.label))


def appointments_for_today(staff: StaffMember, now: datetime.datetime | None = None):
    """Today's expected appointments (store time) that concern this person: theirs as the
    stylist, and those of the clients in their book. One query, clients joined."""
    from .models import Appointment
    from .services.bookings import wall_clock

    now = now or timezone.now()
    zone = staff.store.zone
    today = timezone.localtime(now, zone).date()
    starts = wall_clock(today, datetime.time.min, zone)
    ends = wall_clock(today + datetime.timedelta(days=1), datetime.time.min, zone)
    if starts is None or ends is None:  # a zone whose clocks skip midnight
        starts, ends = now - datetime.timedelta(hours=12), now + datetime.timedelta(hours=12)
    return models_once(
        ("appointments-today",),
        lambda values: (
            Appointment.objects.filter(
                store_id=values["store_id"], status__in=Appointment.EXPECTED_STATUSES
            )
            .between(values["starts"], values["ends"])
            .filter(
                Q(stylist_id=values["staff_id"])
                | Q(customer__assigned_associate_id=values["staff_id"])
            )
            .select_related("customer", "kind", "stylist__user", "room", "store")
            .order_by("starts_at", "pk")
        ),
        {"store_id": staff.store_id, "staff_id": staff.pk, "starts": starts, "ends": ends},
    )
