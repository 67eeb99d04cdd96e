"""The demo's appointments: kinds, stylists' working weeks, two weeks behind and one ahead
of try-ons, makeovers and styling sessions, and a few clients in personal styling.

Written directly (bulk inserts, no messages queued): the demo starts with a lived-in
calendar, not with a thousand confirmations waiting for the worker. Times are laid on a
grid per stylist, so they never overlap (the exclusion constraint would refuse them).
"""

from __future__ import annotations

import datetime
import random
import zoneinfo
from dataclasses import dataclass

from django.utils import timezone

from appointments.models import (
    Appointment,
    AppointmentKind,
    Room,
    StylingEnrollment,
    WorkingHours,
)
from clienteling.stores.models import StaffMember, Store
from customers.models import Customer

from . import data


@dataclass(frozen=True)
class KindSpec:
    name: str
    place: str
    minutes: int
    travel: int = 0
    buffer: int = 0
    room: bool = False
    makeover: bool = False
    online: bool = False
    approval: bool = False


KINDS = [
    KindSpec("In-store try-on", "store", 60, buffer=15, room=True, online=True),
    KindSpec("In-home try-on", "home", 90, travel=30),
    KindSpec("Virtual styling", "virtual", 45, online=True, approval=True),
    KindSpec("Makeover", "store", 75, buffer=15, makeover=True, online=True),
    KindSpec("Alteration fitting", "store", 30, room=True),
    KindSpec("Personal styling session", "store", 90, buffer=15, room=True),
]
# Tuesday to Saturday 10:00-19:00, Sunday 11:00-17:00; Mondays off.
WEEK = {day: (datetime.time(10), datetime.time(19)) for day in range(1, 6)}
WEEK[6] = (datetime.time(11), datetime.time(17))
# Start times on each working day's grid (store time): at most one per slot.
GRID = [datetime.time(10, 30), datetime.time(12, 30), datetime.time(15), datetime.time(17)]
DAYS_BACK, DAYS_AHEAD = 14, 7
NOTES = [
    "Wedding guest in June: something she can dance in.",
    "New job: a capsule of workwear she can mix.",
    "Prefers natural fabrics; no wool against the skin.",
    "Bring the new season's trench in her size.",
    "Evening look for an anniversary dinner.",
    "",
    "",
]


def _at(day: datetime.date, at: datetime.time, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, at, tzinfo=zone).astimezone(datetime.UTC)


def build_appointments(*, rng: random.Random, today: datetime.date) -> dict[str, int]:
    """Create the kinds, hours and appointments; return how many of each were made."""
    kinds = []
    for position, spec in enumerate(KINDS):
        kinds.append(
            AppointmentKind.objects.create(
                name=spec.name,
                place=spec.place,
                default_minutes=spec.minutes,
                travel_minutes=spec.travel,
                buffer_minutes=spec.buffer,
                uses_fitting_room=spec.room,
                is_makeover=spec.makeover,
                online_needs_approval=spec.approval,
                online_min_notice_hours=12,
                position=position,
            )
        )
    stores = list(Store.objects.filter(code__in=data.DEMO_STORE_CODES))
    online = [kind for kind, spec in zip(kinds, KINDS, strict=True) if spec.online]
    for kind in online:
        kind.online_stores.set(stores)

    stylists = list(
        StaffMember.objects.filter(role=StaffMember.Role.STYLIST, store__in=stores).select_related(
            "store"
        )
    )
    WorkingHours.objects.bulk_create(
        [
            WorkingHours(stylist=stylist, weekday=day, starts=starts, ends=ends)
            for stylist in stylists
            for day, (starts, ends) in WEEK.items()
        ]
    )

    now = timezone.now()
    appointments: list[Appointment] = []
    for store in stores:
        zone = store.zone
        clients = list(
            Customer.objects.filter(home_store=store)
            .order_by("pk")
            .values_list("pk", flat=True)[:400]
        )
        if not clients:
            continue
        for stylist in (s for s in stylists if s.store_id == store.pk):
            for offset in range(-DAYS_BACK, DAYS_AHEAD + 1):
                day = today + datetime.timedelta(days=offset)
                if day.weekday() not in WEEK:
                    continue
                opens, closes = WEEK[day.weekday()]
                for start in GRID:
                    if start < opens or rng.random() < 0.45:
                        continue
                    kind = rng.choice(kinds)
                    starts_at = _at(day, start, zone)
                    ends_at = starts_at + kind.duration
                    if ends_at > _at(day, closes, zone):
                        continue
                    if kind.place == "home" and start != GRID[0]:
                        continue  # the trip needs the morning: keep the grid free of overlaps
                    appointments.append(
                        _appointment(rng, store, stylist, kind, rng.choice(clients), starts_at, now)
                    )
    Appointment.objects.bulk_create(appointments, batch_size=1000)
    _story_try_on(kinds[0], today, now)
    enrolled = _enrol(rng, stylists)
    return {
        "appointment kinds": len(kinds),
        "appointments": Appointment.objects.count(),
        "in personal styling": enrolled,
    }


def _appointment(rng, store, stylist, kind, client_id, starts_at, now) -> Appointment:
    ends_at = starts_at + kind.duration
    if ends_at < now:
        status = rng.choices(
            [
                Appointment.Status.COMPLETED,
                Appointment.Status.NO_SHOW,
                Appointment.Status.CANCELLED,
            ],
            [0.86, 0.06, 0.08],
        )[0]
    else:
        status = rng.choices([Appointment.Status.BOOKED, Appointment.Status.CONFIRMED], [0.5, 0.5])[
            0
        ]
    appointment = Appointment(
        store=store,
        customer_id=client_id,
        stylist=stylist,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        blocked_from=starts_at - kind.held_before,
        blocked_until=ends_at + kind.held_after,
        status=status,
        booked_through=rng.choice(
            [Appointment.BookedThrough.STAFF] * 3 + [Appointment.BookedThrough.ONLINE]
        ),
        notes=rng.choice(NOTES),
    )
    if kind.place == "home":
        appointment.address = f"{rng.randint(2, 240)} {rng.choice(['Elm', 'Park', 'Grove'])} Street"
    if kind.place == "virtual":
        appointment.video_link = (
            f"https://video.example.com/styling-{appointment.manage_token[:12]}"
        )
    if status == Appointment.Status.CANCELLED:
        appointment.cancelled_at = starts_at - datetime.timedelta(days=1)
        appointment.cancel_reason = "The client asked to move it; will rebook."
    if status == Appointment.Status.COMPLETED:
        appointment.completed_at = ends_at
    return appointment


def _story_try_on(try_on: AppointmentKind, today: datetime.date, now) -> None:
    """Claire comes in to try shoes with the dress she loves: tomorrow at 15:30, with
    Sofia, in a fitting room (a time between the grid's, so it is always free)."""
    story = data.STORY_CLIENT
    claire = Customer.objects.filter(
        first_name=story.first_name, last_name=story.last_name, home_store__code=story.store_code
    ).first()
    sofia = (
        StaffMember.objects.filter(role=StaffMember.Role.STYLIST, store__code=story.store_code)
        .order_by("pk")
        .first()
    )
    if claire is None or sofia is None:
        return
    day = today + datetime.timedelta(days=1)
    starts_at = _at(day, datetime.time(15, 30), sofia.store.zone)
    # Overlapping grid appointments of Sofia's that day make way for the story.
    Appointment.objects.filter(
        stylist=sofia,
        blocked_from__lt=starts_at + try_on.duration + try_on.held_after,
        blocked_until__gt=starts_at,
    ).delete()
    room = Room.objects.filter(store=sofia.store).order_by("position").first()
    Appointment.objects.create(
        store=sofia.store,
        customer=claire,
        stylist=sofia,
        kind=try_on,
        starts_at=starts_at,
        ends_at=starts_at + try_on.duration,
        blocked_from=starts_at,
        blocked_until=starts_at + try_on.duration + try_on.held_after,
        room=room,
        notes="Shoes to wear with her Lou Lace dress: her first pair from us.",
    )


def _enrol(rng: random.Random, stylists: list[StaffMember]) -> int:
    """Each stylist has a handful of personal styling clients (their recent clients)."""
    rows = []
    seen: set[int] = set()
    for stylist in stylists:
        recent = list(
            Appointment.objects.filter(stylist=stylist, customer__isnull=False)
            .order_by("-starts_at")
            .values_list("customer_id", flat=True)[:20]
        )
        for customer_id in rng.sample(sorted(set(recent)), k=min(4, len(set(recent)))):
            if customer_id in seen:
                continue
            seen.add(customer_id)
            rows.append(
                StylingEnrollment(
                    customer_id=customer_id,
                    stylist=stylist,
                    goals=rng.choice(
                        [
                            "A capsule wardrobe for the new job",
                            "Dressing for a wedding season",
                            "Fewer, better pieces",
                            "Colours that suit her",
                        ]
                    ),
                )
            )
    StylingEnrollment.objects.bulk_create(rows)
    return len(rows)
