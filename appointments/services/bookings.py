"""Booking: the free slots of a store's stylists, and an appointment's life from booked
to completed (or cancelled), with the client's messages through the outbox.

Time: working hours are wall-clock times in the store's zone. A slot is built from the
wall-clock start on its day, turned into UTC once, and everything after (length, travel,
buffers, overlaps) is computed in UTC, so a 60-minute try-on lasts 60 minutes on the day
the clocks change, and 10:00 is 10:00 local on either side of the change. Wall-clock
times the clocks skip (02:30 on a spring-forward night) are never offered.

Double booking: the stylist's row is locked while a booking checks and writes, so two
bookings of one stylist are serialised; on PostgreSQL an exclusion constraint on the held
period is the last word. Either way the loser gets a clear sentence, not an error page.

Messages (confirmation, reminders 24 h and 2 h before, a thank-you after, a notice when
cancelled) go through `customers.services.message_queue`: the policy (consent, preferred
channel, quiet hours, caps) applies, each has a dedupe key (sent once, whatever retries),
and those due later wait in the database for the outbox sweep. A reschedule bumps the
appointment's revision: the old reminders are withdrawn and the new ones get new keys.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.urls import reverse
from django.utils import timezone

from clienteling.catalog.models import Product
from clienteling.core.errors import ApplicationError
from clienteling.core.http import absolute_url
from clienteling.stores.models import StaffMember, Store
from customers.models import Customer
from customers.services import message_queue, message_wording, messages_withdraw
from customers.services.reasons import Candidate, reasons_open

from ..models import (
    Appointment,
    AppointmentKind,
    CalendarFeed,
    Room,
    StylingEnrollment,
    TimeOff,
    WorkingHours,
)
from . import notices
from .rooms import reservation_cancel, reservation_create, staged_item_add

logger = logging.getLogger(__name__)

UTC = datetime.UTC
ONE_DAY = datetime.timedelta(days=1)


# --- Free slots ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """A time a stylist can take this kind of appointment (UTC)."""

    stylist_id: int
    starts_at: datetime.datetime
    ends_at: datetime.datetime

    @property
    def key(self) -> str:
        """What a form posts back: stylist and start, e.g. "12@2026-12-08T14:00:00Z"
        ("Z", not "+00:00": a "+" in a query string would arrive as a space)."""
        return f"{self.stylist_id}@{self.starts_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def parse_slot_key(value: str) -> tuple[int, datetime.datetime] | None:
    """The stylist id and UTC start of a slot key, or None if it is not one."""
    stylist, _, start = (value or "").partition("@")
    try:
        moment = datetime.datetime.fromisoformat(start)
        stylist_id = int(stylist)
        if moment.tzinfo is None or not 0 < stylist_id < 2**63:
            return None
        return stylist_id, moment.astimezone(UTC)
    except (ValueError, OverflowError):  # not a date, or one UTC cannot hold
        return None


def slot_minutes() -> int:
    return settings.APPOINTMENT_SLOT_MINUTES


def wall_clock(day: datetime.date, at: datetime.time, zone) -> datetime.datetime | None:
    """`at` on `day` in `zone`, as UTC; None for a wall-clock time the clocks skip."""
    local = datetime.datetime.combine(day, at, tzinfo=zone)
    moment = local.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return moment


def stylists_of(store: Store | int):
    """The people who take appointments in a store: its active stylists."""
    return (
        StaffMember.objects.active()
        .filter(store=store, role=StaffMember.Role.STYLIST)
        .select_related("user")
    )


def slots_free(
    *,
    store: Store,
    kind: AppointmentKind,
    day: datetime.date,
    stylist_ids: Iterable[int] | None = None,
    now: datetime.datetime | None = None,
    online: bool = False,
    ignore_appointment_id: int | None = None,
) -> list[Slot]:
    """Every free slot on `day` (the store's local day) for this kind, by start then stylist.

    Three queries whatever the number of stylists: working hours, what they already hold
    around that day, and their time off. Online bookings also respect the kind's minimum
    notice. `ignore_appointment_id` frees an appointment's own time (rescheduling it).
    """
    now = now or timezone.now()
    zone = store.zone
    if stylist_ids is None:
        stylist_ids = list(stylists_of(store).values_list("pk", flat=True))
    stylist_ids = list(stylist_ids)
    if not stylist_ids or not kind.is_active:
        return []
    # The local day, widened by a day either side for travel and buffers that spill over.
    day_starts = wall_clock(day, datetime.time.min, zone) or datetime.datetime.combine(
        day, datetime.time.min, tzinfo=zone
    ).astimezone(UTC)
    around = (day_starts - ONE_DAY, day_starts + 2 * ONE_DAY)
    hours = list(
        WorkingHours.objects.filter(stylist_id__in=stylist_ids, weekday=day.weekday()).order_by(
            "starts"
        )
    )
    if not hours:
        return []
    held = Appointment.objects.holding(
        stylist_ids=stylist_ids, starts_at=around[0], ends_at=around[1]
    )
    if ignore_appointment_id:
        held = held.exclude(pk=ignore_appointment_id)
    busy: dict[int, list[tuple[datetime.datetime, datetime.datetime]]] = {}
    for stylist_id, starts_at, ends_at in held.values_list(
        "stylist_id", "blocked_from", "blocked_until"
    ):
        busy.setdefault(stylist_id, []).append((starts_at, ends_at))
    for stylist_id, starts_at, ends_at in TimeOff.objects.filter(
        stylist_id__in=stylist_ids, starts_at__lt=around[1], ends_at__gt=around[0]
    ).values_list("stylist_id", "starts_at", "ends_at"):
        busy.setdefault(stylist_id, []).append((starts_at, ends_at))

    earliest = now
    if online:
        earliest = now + datetime.timedelta(hours=kind.online_min_notice_hours)
    step = slot_minutes()
    slots: list[Slot] = []
    for window in hours:
        opens = wall_clock(day, window.starts, zone)
        closes = wall_clock(day, window.ends, zone)
        if opens is None or closes is None:
            continue
        minute = window.starts.hour * 60 + window.starts.minute
        last = window.ends.hour * 60 + window.ends.minute
        while minute < last:
            starts_at = wall_clock(day, datetime.time(minute // 60, minute % 60), zone)
            minute += step
            if starts_at is None or starts_at < earliest:
                continue
            ends_at = starts_at + kind.duration
            held_from = starts_at - kind.held_before
            held_until = ends_at + kind.held_after
            # Travel happens within working hours; the buffer after may run past closing.
            if held_from < opens or ends_at + kind.held_before > closes:
                continue
            taken = busy.get(window.stylist_id, ())
            if any(start < held_until and end > held_from for start, end in taken):
                continue
            slots.append(Slot(window.stylist_id, starts_at, ends_at))
    slots.sort(key=lambda slot: (slot.starts_at, slot.stylist_id))
    return slots


def first_free_day(
    *,
    store: Store,
    kind: AppointmentKind,
    since: datetime.date,
    stylist_ids: Iterable[int] | None = None,
    online: bool = False,
    days: int = 28,
    now: datetime.datetime | None = None,
) -> datetime.date | None:
    """The first day from `since` with a free slot, looking `days` ahead at most."""
    for offset in range(days):
        day = since + datetime.timedelta(days=offset)
        if slots_free(
            store=store, kind=kind, day=day, stylist_ids=stylist_ids, online=online, now=now
        ):
            return day
    return None


def _offered(
    *,
    store: Store,
    kind: AppointmentKind,
    stylist: StaffMember,
    starts_at: datetime.datetime,
    online: bool,
    now: datetime.datetime,
    ignore_appointment_id: int | None = None,
) -> Slot | None:
    day = timezone.localtime(starts_at, store.zone).date()
    for slot in slots_free(
        store=store,
        kind=kind,
        day=day,
        stylist_ids=[stylist.pk],
        now=now,
        online=online,
        ignore_appointment_id=ignore_appointment_id,
    ):
        if slot.starts_at == starts_at:
            return slot
    return None


# --- Words -------------------------------------------------------------------------------


def local_label(moment: datetime.datetime, store: Store) -> str:
    """“Tue 8 Dec at 14:00”, in the store's time."""
    local = timezone.localtime(moment, store.zone)
    return f"{local:%a} {local.day} {local:%b} at {local:%H:%M}"


def manage_url(appointment: Appointment) -> str:
    """The client's own link: see, move or cancel the appointment without signing in."""
    return absolute_url(reverse("appointment-manage", args=[appointment.manage_token]))


DEFAULT_WORDS = {
    "appointment_confirmation": (
        "Hi {{ first_name }}, you're booked: {{ kind }} with {{ associate }} at {{ store }}, "
        "{{ when }}.{% if place %} {{ place }}{% endif %} To move or cancel: {{ link }}"
    ),
    "appointment_request": (
        "Hi {{ first_name }}, thank you: we have your request for {{ kind }} at {{ store }}, "
        "{{ when }}. {{ associate }} will confirm it shortly. {{ link }}"
    ),
    "appointment_moved": (
        "Hi {{ first_name }}, your {{ kind }} with {{ associate }} is now {{ when }}. "
        "To change it again: {{ link }}"
    ),
    "appointment_reminder": (
        "Hi {{ first_name }}, a reminder: {{ kind }} with {{ associate }} at {{ store }}, "
        "{{ when }}.{% if place %} {{ place }}{% endif %} To move or cancel: {{ link }}"
    ),
    "appointment_cancelled": (
        "Hi {{ first_name }}, your {{ kind }} on {{ when }} is cancelled. "
        "We'd love to see you another time: reply to book again."
    ),
    "appointment_thank_you": (
        "Hi {{ first_name }}, thank you for your visit today. It was a pleasure. "
        "Anything you'd like to see again, just ask. {{ associate }}"
    ),
}


def _words(purpose: str, appointment: Appointment) -> str:
    """The message for this purpose: a manager's active template if there is one, else ours
    (the variables are listed in customers.services.wording.FAMILIES)."""
    place = ""
    if appointment.kind.place == AppointmentKind.Place.HOME:
        place = f"At {appointment.address}."
    elif appointment.kind.place == AppointmentKind.Place.VIRTUAL and appointment.video_link:
        place = f"Join on video: {appointment.video_link}"
    context = {
        "first_name": appointment.customer.first_name,
        "associate": appointment.stylist.display_name,
        "store": appointment.store.name,
        "kind": appointment.kind.name.lower(),
        "when": local_label(appointment.starts_at, appointment.store),
        "place": place,
        "link": manage_url(appointment),
    }
    # The outbox picks the client's channel later: any channel's template will do.
    return message_wording(
        purpose=purpose, channel=None, context=context, default=DEFAULT_WORDS[purpose]
    )


def _dedupe(appointment: Appointment, what: str, *, revision: bool = True) -> str:
    if revision:
        return f"appointment:{appointment.pk}:r{appointment.revision}:{what}"
    return f"appointment:{appointment.pk}:{what}"


def _queue(
    appointment: Appointment,
    purpose: str,
    dedupe_key: str,
    *,
    when: datetime.datetime | None = None,
    sender=None,
) -> None:
    if appointment.customer is None:
        return
    message_queue(
        customer=appointment.customer,
        channel=None,  # the client's preferred, consented channel
        body=_words(purpose, appointment),
        subject=f"Your {appointment.kind.name.lower()} at {appointment.store.name}",
        dedupe_key=dedupe_key,
        purpose=purpose,
        is_marketing=False,
        sender=sender,
        scheduled_for=when,
    )


def _queue_confirmation_and_reminders(
    appointment: Appointment, *, purpose: str, now: datetime.datetime, sender=None
) -> None:
    """The confirmation now, and a reminder at each REMINDER_HOURS before that is still ahead."""
    _queue(appointment, purpose, _dedupe(appointment, purpose), sender=sender)
    if appointment.status == Appointment.Status.REQUESTED:
        return  # reminders once a stylist has accepted it
    for hours in settings.APPOINTMENT_REMINDER_HOURS:
        when = appointment.starts_at - datetime.timedelta(hours=hours)
        # A reminder that would arrive within minutes of the confirmation is noise.
        if when > now + datetime.timedelta(minutes=30):
            _queue(
                appointment,
                "appointment_reminder",
                _dedupe(appointment, f"reminder-{hours}h"),
                when=when,
            )


def _withdraw_pending(appointment: Appointment, why: str) -> int:
    """Drop this appointment's messages that have not gone yet (all revisions)."""
    return messages_withdraw(dedupe_prefix=f"appointment:{appointment.pk}:", reason=why)


# --- Booking and an appointment's life ------------------------------------------------------


def _lock_stylist(stylist: StaffMember) -> None:
    """Serialise bookings of one stylist (on SQLite the write lock does the same)."""
    StaffMember.objects.select_for_update().filter(pk=stylist.pk).first()


TAKEN = "That time has just been taken. Choose another time."
DEADLOCK_DETECTED = "40P01"  # PostgreSQL's SQLSTATE


def _lost_to_overlap(error: Exception) -> bool:
    """A write refused by the held-period exclusion constraint, or aborted by the deadlock
    two overlapping inserts can meet while checking it."""
    if isinstance(error, IntegrityError):
        return True
    return getattr(error.__cause__, "sqlstate", None) == DEADLOCK_DETECTED


CLIENT_BUSY_ONLINE = (
    "You already have an appointment at that time. Choose another time, or call the store "
    "if you want both at once."
)
# On the public page anyone may type a client's email: what they hear must not tell them
# that this client has an appointment then, so it is the words of a slot taken meanwhile.
CLIENT_BUSY_UNPROVEN = "Sorry, that time is no longer free. Choose another time."


def _lock_client(customer: Customer) -> None:
    """Serialise bookings of one client, whichever stylists they are with.

    Taken after the stylist's lock, always in that order. FOR NO KEY UPDATE: it does not
    wait for rows being inserted that point at the client (the public page records a
    consent before it books), which would otherwise deadlock against a staff booking.
    """
    Customer.objects.select_for_update(no_key=True).filter(pk=customer.pk).values_list("pk").first()


def _refuse_client_overlap(
    customer: Customer | None,
    *,
    store: Store,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    online: bool,
    moving: Appointment | None = None,
) -> None:
    # `online` with `moving`: the client, known by their appointment's secret link;
    # `online` alone: whoever filled in the public page.
    """Refuse a time the client is already expected elsewhere (any stylist, any store).

    Called inside the booking's transaction, after `_lock_client`. Staff hear which
    appointment is in the way; a client booking online, whose identity is only the email
    or phone they typed, hears no one else's details. No database constraint backs this:
    two services at once (hair and nails) are a real, intended booking.
    """
    if customer is None:
        return
    others = (
        Appointment.objects.filter(
            customer=customer,
            status__in=Appointment.EXPECTED_STATUSES,
            starts_at__lt=ends_at,
            ends_at__gt=starts_at,
        )
        .select_related("stylist__user", "store", "kind")
        .order_by("starts_at", "pk")
    )
    if moving is not None:
        others = others.exclude(pk=moving.pk)
    other = others.first()
    if other is None:
        return
    if online:
        raise ApplicationError(CLIENT_BUSY_ONLINE if moving is not None else CLIENT_BUSY_UNPROVEN)
    where = "" if other.store_id == store.pk else f" at {other.store.name}"
    raise ApplicationError(
        f"{customer.first_name or 'This client'} already has an appointment then: "
        f"{other.kind.name} {local_label(other.starts_at, store)} with "
        f"{other.stylist.display_name}{where}. Choose another time.",
        field="starts_at",
    )


def _video_link(appointment: Appointment, given: str) -> str:
    if given.strip():
        return given.strip()
    template = settings.VIDEO_ROOM_URL_TEMPLATE
    # A token of its own: the video link travels to calendars and the video provider,
    # and must not give away any part of the client's personal link.
    return template.format(token=secrets.token_urlsafe(12)) if template else ""


@dataclass
class StagedRequest:
    """An item to prepare in the room: a catalog product or a description, and a size."""

    product: Product | None = None
    description: str = ""
    size: str = ""


def appointment_book(
    *,
    customer: Customer,
    kind: AppointmentKind,
    stylist: StaffMember,
    starts_at: datetime.datetime,
    booked_by: StaffMember | None = None,
    online: bool = False,
    room: Room | None = None,
    staged: Iterable[StagedRequest] = (),
    notes: str = "",
    address: str = "",
    video_link: str = "",
    allow_overlap_for_client: bool = False,
    now: datetime.datetime | None = None,
) -> Appointment:
    """Book a client with a stylist at a free slot; reserve the room and stage the items.

    Online bookings (the client's own) respect the kind's notice and wait for approval
    when the kind asks for it. Everything happens in one transaction: a room that is not
    free, or a slot taken a moment ago, leaves nothing behind. A time the client is
    already expected elsewhere (another stylist, another store) is refused unless
    `allow_overlap_for_client` says it is meant (two services at once). Raises
    ApplicationError.
    """
    now = now or timezone.now()
    store = stylist.store
    if not kind.is_active:
        raise ApplicationError("This kind of appointment is no longer offered.", field="kind")
    if online and not kind.online_stores.filter(pk=store.pk).exists():
        raise ApplicationError("This store does not take that booking online.", field="kind")
    if stylist.role != StaffMember.Role.STYLIST or not stylist.user.is_active:
        raise ApplicationError("Choose one of the store's stylists.", field="stylist")
    if kind.place == AppointmentKind.Place.HOME and not address.strip():
        raise ApplicationError("Give the client's address for an in-home try-on.", field="address")
    if room is not None and room.store_id != store.pk:
        raise ApplicationError("Choose a fitting room of this store.", field="room")
    slot = _offered(
        store=store, kind=kind, stylist=stylist, starts_at=starts_at, online=online, now=now
    )
    if slot is None:
        raise ApplicationError(
            "That time is not free for this stylist. Choose one of the times offered.",
            field="slot",
        )
    held_from, held_until = slot.starts_at - kind.held_before, slot.ends_at + kind.held_after
    with transaction.atomic():
        _lock_stylist(stylist)
        if Appointment.objects.holding(
            stylist_ids=[stylist.pk], starts_at=held_from, ends_at=held_until
        ).exists():
            raise ApplicationError(TAKEN, field="slot")
        _lock_client(customer)
        if not allow_overlap_for_client:
            _refuse_client_overlap(
                customer, store=store, starts_at=slot.starts_at, ends_at=slot.ends_at, online=online
            )
        appointment = Appointment(
            store=store,
            customer=customer,
            stylist=stylist,
            kind=kind,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            blocked_from=held_from,
            blocked_until=held_until,
            status=(
                Appointment.Status.REQUESTED
                if online and kind.online_needs_approval
                else Appointment.Status.BOOKED
            ),
            booked_through=(
                Appointment.BookedThrough.ONLINE if online else Appointment.BookedThrough.STAFF
            ),
            address=address.strip() if kind.place == AppointmentKind.Place.HOME else "",
            notes=notes.strip(),
            booked_by=booked_by,
        )
        if kind.place == AppointmentKind.Place.VIRTUAL:
            appointment.video_link = _video_link(appointment, video_link)
        try:
            with transaction.atomic():
                appointment.save()
        except (IntegrityError, OperationalError) as error:
            # The exclusion constraint: a booking slipped past the checks. Two overlapping
            # inserts checking it at once can also deadlock; PostgreSQL then aborts one of
            # them, and that one is the booking that lost.
            if not _lost_to_overlap(error):
                raise
            raise ApplicationError(TAKEN, field="slot") from error
        if room is not None:
            _reserve(appointment, room, staged, created_by=booked_by)
        purpose = (
            "appointment_request"
            if appointment.status == Appointment.Status.REQUESTED
            else "appointment_confirmation"
        )
        _queue_confirmation_and_reminders(
            appointment, purpose=purpose, now=now, sender=booked_by.user if booked_by else None
        )
        notices.booking_request_notify(appointment=appointment)  # waits for a yes: ring
    return appointment


def _reserve(
    appointment: Appointment,
    room: Room,
    staged: Iterable[StagedRequest],
    *,
    created_by: StaffMember | None,
) -> None:
    reservation = reservation_create(
        room=room,
        customer=appointment.customer,
        associate=appointment.stylist,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        note=appointment.kind.name,
        created_by=created_by,
    )
    for item in staged:
        staged_item_add(
            reservation=reservation,
            product=item.product,
            description=item.description,
            size=item.size,
        )
    appointment.room = room
    appointment.reservation = reservation
    appointment.save(update_fields=["room", "reservation", "updated_at"])


def appointment_reschedule(
    *,
    appointment: Appointment,
    starts_at: datetime.datetime,
    stylist: StaffMember | None = None,
    by: StaffMember | None = None,
    by_client: bool = False,
    allow_overlap_for_client: bool = False,
    now: datetime.datetime | None = None,
) -> Appointment:
    """Move an expected appointment to another free slot (and stylist); the room moves
    with it. Old reminders are withdrawn; the client hears the new time. A time the
    client is expected at another appointment is refused, as in `appointment_book`."""
    now = now or timezone.now()
    stylist = stylist or appointment.stylist
    if appointment.status not in (
        Appointment.Status.REQUESTED,
        Appointment.Status.BOOKED,
        Appointment.Status.CONFIRMED,
    ):
        raise ApplicationError(
            f"This appointment is {appointment.get_status_display().lower()}: it can't be moved."
        )
    if (
        stylist.store_id != appointment.store_id
        or stylist.role != StaffMember.Role.STYLIST
        or not stylist.user.is_active
    ):
        raise ApplicationError("Choose one of the store's stylists.", field="stylist")
    kind = appointment.kind
    slot = _offered(
        store=appointment.store,
        kind=kind,
        stylist=stylist,
        starts_at=starts_at,
        online=by_client,
        now=now,
        ignore_appointment_id=appointment.pk,
    )
    if slot is None:
        raise ApplicationError(
            "That time is not free. Choose one of the times offered.", field="slot"
        )
    with transaction.atomic():
        _lock_stylist(stylist)
        if appointment.customer is not None:
            _lock_client(appointment.customer)  # before the appointment row, as bookings do
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.status != appointment.status or locked.revision != appointment.revision:
            raise ApplicationError("Someone changed this appointment meanwhile: look again.")
        held_from, held_until = slot.starts_at - kind.held_before, slot.ends_at + kind.held_after
        if (
            Appointment.objects.holding(
                stylist_ids=[stylist.pk], starts_at=held_from, ends_at=held_until
            )
            .exclude(pk=appointment.pk)
            .exists()
        ):
            raise ApplicationError(TAKEN, field="slot")
        if not allow_overlap_for_client:
            _refuse_client_overlap(
                appointment.customer,
                store=appointment.store,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                online=by_client,
                moving=appointment,
            )
        _withdraw_pending(appointment, "The appointment was moved to another time.")
        old_reservation = appointment.reservation
        appointment.stylist = stylist
        appointment.starts_at, appointment.ends_at = slot.starts_at, slot.ends_at
        appointment.blocked_from, appointment.blocked_until = held_from, held_until
        appointment.revision = locked.revision + 1
        if appointment.status == Appointment.Status.CONFIRMED:
            appointment.status = Appointment.Status.BOOKED  # the new time needs its own yes
        try:
            with transaction.atomic():
                appointment.save()
        except (IntegrityError, OperationalError) as error:
            if not _lost_to_overlap(error):
                raise
            raise ApplicationError(TAKEN, field="slot") from error
        if old_reservation is not None:
            staged = [
                StagedRequest(product=item.product, description=item.description, size=item.size)
                for item in old_reservation.staged_items.select_related("product")
            ]
            reservation_cancel(reservation=old_reservation, now=now)
            appointment.reservation = None
            _reserve(appointment, old_reservation.room, staged, created_by=by)
        _queue_confirmation_and_reminders(
            appointment,
            purpose="appointment_moved"
            if appointment.status != Appointment.Status.REQUESTED
            else "appointment_request",
            now=now,
            sender=by.user if by else None,
        )
    return appointment


def appointment_cancel(
    *,
    appointment: Appointment,
    reason: str = "",
    by: StaffMember | None = None,
    by_client: bool = False,
    now: datetime.datetime | None = None,
) -> bool:
    """Cancel an expected appointment: its time and room are freed, pending reminders
    withdrawn, and the client told (unless they cancelled it themselves). Staff say why.
    False if it was no longer expected (already cancelled, completed...)."""
    now = now or timezone.now()
    reason = reason.strip()
    if not by_client and not reason:
        raise ApplicationError("Say why it is cancelled (the client may ask).", field="reason")
    with transaction.atomic():
        cancelled = Appointment.objects.filter(
            pk=appointment.pk, status__in=Appointment.EXPECTED_STATUSES
        ).update(
            status=Appointment.Status.CANCELLED,
            cancelled_at=now,
            cancel_reason=(reason or "Cancelled by the client")[:200],
            updated_at=now,
        )
        if not cancelled:
            return False
        appointment.refresh_from_db()
        if appointment.reservation_id:
            reservation_cancel(reservation=appointment.reservation, now=now)
        _withdraw_pending(appointment, "The appointment was cancelled.")
        if not by_client:
            _queue(
                appointment,
                "appointment_cancelled",
                _dedupe(appointment, "cancelled", revision=False),
                sender=by.user if by else None,
            )
    return True


# action: (statuses it may come from, the status it leads to, the verb in a refusal)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "approve": ((Appointment.Status.REQUESTED,), Appointment.Status.BOOKED, "accepted"),
    "confirm": ((Appointment.Status.BOOKED,), Appointment.Status.CONFIRMED, "confirmed"),
    "check_in": (
        (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED),
        Appointment.Status.CHECKED_IN,
        "checked in",
    ),
    "complete": (
        (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED, Appointment.Status.CHECKED_IN),
        Appointment.Status.COMPLETED,
        "completed",
    ),
    "no_show": (
        (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED),
        Appointment.Status.NO_SHOW,
        "marked as a no-show",
    ),
}


def appointment_advance(
    *,
    appointment: Appointment,
    action: str,
    by: StaffMember | None = None,
    now: datetime.datetime | None = None,
) -> Appointment:
    """Move an appointment along: approve, confirm, check in, complete or mark a no-show.

    A conditional UPDATE from the allowed statuses: two taps at once change it once.
    Approving sends the confirmation and schedules the reminders; completing schedules
    the thank-you and a follow-up reason for the stylist; a no-show withdraws reminders.
    """
    if action not in TRANSITIONS:
        raise ApplicationError("Unknown step.", field="action")
    now = now or timezone.now()
    allowed_from, to, verb = TRANSITIONS[action]
    if action in ("check_in", "complete", "no_show"):
        local_day = timezone.localtime(appointment.starts_at, appointment.store.zone).date()
        if timezone.localtime(now, appointment.store.zone).date() < local_day:
            raise ApplicationError(f"It can be {verb} on the day, not before.")
    stamps = {}
    if to == Appointment.Status.CHECKED_IN:
        stamps["checked_in_at"] = now
    if to == Appointment.Status.COMPLETED:
        stamps["completed_at"] = now
    with transaction.atomic():
        changed = Appointment.objects.filter(pk=appointment.pk, status__in=allowed_from).update(
            status=to, updated_at=now, **stamps
        )
        appointment.refresh_from_db()
        if not changed:
            raise ApplicationError(
                f"This appointment is {appointment.get_status_display().lower()}: "
                f"it can't be {verb}."
            )
        sender = by.user if by else None
        if action == "approve":
            _queue_confirmation_and_reminders(
                appointment, purpose="appointment_confirmation", now=now, sender=sender
            )
            notices.booking_request_quiet(appointment=appointment)
        elif action == "no_show":
            _withdraw_pending(appointment, "The client did not come.")
        elif action == "complete":
            _withdraw_pending(appointment, "The appointment took place.")
            thank_at = max(now, appointment.ends_at) + datetime.timedelta(
                hours=settings.APPOINTMENT_THANK_YOU_AFTER_HOURS
            )
            _queue(
                appointment,
                "appointment_thank_you",
                _dedupe(appointment, "thank-you", revision=False),
                when=thank_at,
            )
            _follow_up_reason(appointment, now)
    return appointment


def _follow_up_reason(appointment: Appointment, now: datetime.datetime) -> None:
    if appointment.customer is None:
        return
    day = timezone.localtime(now, appointment.store.zone).date()
    reasons_open(
        kind="appointment_follow_up",
        candidates=[
            Candidate(
                customer_id=appointment.customer_id,
                source_key=f"appointment:{appointment.pk}",
                why=(
                    f"{appointment.customer.first_name} came for {appointment.kind.name.lower()} "
                    f"with {appointment.stylist.display_name} on {day:%a %d %b}: ask how it went "
                    "and what they'd like to see again."
                ),
                due_on=day + datetime.timedelta(days=2),
                expires_on=day + datetime.timedelta(days=21),
            )
        ],
    )


# --- Personal styling and calendar feeds -----------------------------------------------------


def styling_enroll(
    *,
    customer: Customer,
    stylist: StaffMember,
    goals: str = "",
    by: StaffMember | None = None,
    now: datetime.datetime | None = None,
) -> StylingEnrollment:
    """Enrol a client in personal styling with a dedicated stylist (ending any earlier one)."""
    now = now or timezone.now()
    if stylist.role != StaffMember.Role.STYLIST:
        raise ApplicationError("Personal styling is with one of the stylists.", field="stylist")
    with transaction.atomic():
        current = (
            StylingEnrollment.objects.select_for_update()
            .filter(customer=customer, ended_at__isnull=True)
            .first()
        )
        if current is not None and current.stylist_id == stylist.pk:
            if goals.strip() and goals.strip() != current.goals:
                current.goals = goals.strip()[:250]
                current.save(update_fields=["goals"])
            return current
        if current is not None:
            current.ended_at = now
            current.save(update_fields=["ended_at"])
        return StylingEnrollment.objects.create(
            customer=customer,
            stylist=stylist,
            goals=goals.strip()[:250],
            enrolled_by=by,
            started_at=now,
        )


def styling_end(*, enrollment: StylingEnrollment, now: datetime.datetime | None = None) -> bool:
    return bool(
        StylingEnrollment.objects.filter(pk=enrollment.pk, ended_at__isnull=True).update(
            ended_at=now or timezone.now()
        )
    )


def calendar_feed_for(stylist: StaffMember) -> CalendarFeed:
    """The stylist's feed, made on first use."""
    feed, _ = CalendarFeed.objects.get_or_create(stylist=stylist)
    return feed
