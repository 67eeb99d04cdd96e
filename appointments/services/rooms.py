"""Writes on fitting rooms: every interface (associate pages, the room tablet, tasks, admin)
calls these. Each owns its transaction, bumps the live versions after commit (see
`versions`) and enqueues its tasks after commit.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from clienteling.catalog.models import Product
from clienteling.core.errors import ApplicationError
from clienteling.stores.models import StaffMember
from customers.models import Customer, Source
from customers.services import (
    ConsentAnswer,
    ConsentChange,
    consent_wording,
    consents_record,
    customer_duplicates,
)

from .. import versions
from ..models import Page, Reservation, Room, StagedItem, Visit
from . import notices

# Pages per round of the escalation sweep; rounds repeat until a short one.
ESCALATION_SWEEP_BATCH = 500


def escalate_after() -> datetime.timedelta:
    """How long a page waits for its associate before it goes to everyone (a setting)."""
    return datetime.timedelta(seconds=settings.ROOMS_PAGE_ESCALATE_AFTER_SECONDS)


def _bump(*, store_id: int, room_id: int | None = None) -> None:
    """The board and the room's tablet redraw; no associate's pager changes."""
    versions.bump_on_commit(store_id=store_id, room_ids=[room_id] if room_id else [])


def _bump_pages(
    *, store_id: int, room_id: int, pages: list[tuple[int | None, int | None, bool]], staff=()
) -> None:
    """The board, the room, and every pager that shows (or showed) these pages redraw.

    `pages` are (target id, acknowledged by id, escalated): the associates named see the
    page, and everyone does once it is escalated. `staff` adds anyone else it concerns.
    """
    versions.bump_on_commit(
        store_id=store_id,
        room_ids=[room_id],
        staff_ids=[*staff, *(who for target, taker, _ in pages for who in (target, taker))],
        everyone=any(escalated for _, _, escalated in pages),
    )


def _open_page_audience(visit_id: int) -> list[tuple[int | None, int | None, bool]]:
    return [
        (target, taker, escalated_at is not None)
        for target, taker, escalated_at in Page.objects.open()
        .filter(visit_id=visit_id)
        .values_list("target_id", "acknowledged_by_id", "escalated_at")
    ]


def _lock_room(room: Room) -> Room:
    """The room's row, locked until the transaction ends: its visits and bookings queue up."""
    return Room.objects.select_for_update().select_related("store").get(pk=room.pk)


def _open_visit(room: Room) -> Visit | None:
    return room.visits.open().select_related("associate__user").first()


def _visit_get_or_open(room: Room, now: datetime.datetime) -> tuple[Visit, bool]:
    """The room's open visit, or a new one (call with the room locked).

    A new visit takes its client and associate from a reservation holding the room now.
    """
    visit = _open_visit(room)
    if visit is not None:
        return visit, False
    reservation = (
        Reservation.objects.current(now)
        .filter(room=room)
        .select_related("associate__user")
        .order_by("starts_at")
        .first()
    )
    visit = Visit(
        room=room,
        started_at=now,
        reservation=reservation,
        customer_id=reservation.customer_id if reservation else None,
        associate=reservation.associate if reservation else None,
    )
    visit.full_clean()
    visit.save()
    room.status = Room.Status.OCCUPIED
    room.status_changed_at = now
    room.save(update_fields=["status", "status_changed_at"])
    return visit, True


# --- Rooms and visits -------------------------------------------------------------


@transaction.atomic
def visit_start(
    *,
    room: Room,
    associate: StaffMember,
    take_over: bool = False,
    now: datetime.datetime | None = None,
) -> Visit:
    """An associate brings a client to the room: the visit's next pages go to them first.

    If the room already has an open visit without an associate (the client checked in
    alone), the associate joins it. A colleague's visit is refused unless `take_over`
    (a hand-over at a break). Pages already sent keep the audience they had.
    """
    now = now or timezone.now()
    room = _lock_room(room)
    visit, created = _visit_get_or_open(room, now)
    taken = visit.associate_id and visit.associate_id != associate.pk and not created
    if taken and not take_over:
        raise ApplicationError(f"{visit.associate.display_name} is already with a client here.")
    if visit.associate_id != associate.pk:
        visit.associate = associate
        visit.save(update_fields=["associate"])
    _bump(store_id=room.store_id, room_id=room.pk)
    return visit


@transaction.atomic
def visit_check_in(
    *,
    room: Room,
    phone: PhoneNumber | str | None = None,
    consents: list[ConsentAnswer] = (),
    now: datetime.datetime | None = None,
) -> Visit:
    """The client checks in on the room tablet, optionally with their mobile number.

    A number that belongs to a client links the visit to them (the associate sees who
    it is; the tablet never does, whether or not it matched). Each consent the client
    gave (a ticked box) is recorded as theirs, with the store's wording, unless already
    in force. An unticked box is no answer: it must not withdraw a consent given elsewhere.
    """
    now = now or timezone.now()
    room = _lock_room(room)
    visit, _ = _visit_get_or_open(room, now)
    fields = []
    if visit.checked_in_at is None:
        visit.checked_in_at = now
        fields.append("checked_in_at")
    if phone:
        customer = customer_duplicates(phone=phone).order_by("pk").first()
        if customer is not None:
            if visit.customer_id is None:
                visit.customer = customer
                fields.append("customer")
            consents_record(
                changes=[
                    ConsentChange(
                        customer_id=customer.pk,
                        channel=answer.channel,
                        granted=answer.granted,
                        source=Source.CLIENT,
                        wording=consent_wording(answer.channel, room.store),
                    )
                    for answer in consents
                ]
            )
    if fields:
        visit.save(update_fields=fields)
    # The client's name now shows on the phones paged for this visit.
    _bump_pages(store_id=room.store_id, room_id=room.pk, pages=_open_page_audience(visit.pk))
    return visit


@transaction.atomic
def visit_end(
    *, visit: Visit, now: datetime.datetime | None = None, room_status: str | None = None
) -> bool:
    """The client left: the visit ends, its open pages are cancelled, the room needs cleaning.

    Returns False when the visit had already ended (a second tap changes nothing).
    """
    now = now or timezone.now()
    ended = Visit.objects.filter(pk=visit.pk, ended_at__isnull=True).update(ended_at=now)
    if not ended:
        return False
    cancelled = _open_page_audience(visit.pk)
    cancelled_ids = notices.open_page_ids(visit_id=visit.pk)  # no query when push is off
    Page.objects.open().filter(visit_id=visit.pk).update(cancelled_at=now)
    for page_id in cancelled_ids:
        notices.page_quiet(page_id=page_id)  # the phones it rang go quiet
    Room.objects.filter(pk=visit.room_id).update(
        status=room_status or Room.Status.BEING_CLEANED, status_changed_at=now
    )
    store_id = Room.objects.values_list("store_id", flat=True).get(pk=visit.room_id)
    _bump_pages(store_id=store_id, room_id=visit.room_id, pages=cancelled)
    return True


# What an associate may set by hand; "occupied" comes from visits, "reserved" from bookings.
MANUAL_STATUSES = (
    Room.Status.AVAILABLE,
    Room.Status.NEEDS_ATTENTION,
    Room.Status.BEING_CLEANED,
)


@transaction.atomic
def room_set_status(*, room: Room, status: str, now: datetime.datetime | None = None) -> Room:
    """Set a room's status by hand. Freeing or cleaning a room ends the visit in it."""
    if status not in MANUAL_STATUSES:
        raise ApplicationError(
            "Choose available, needs attention or being cleaned.", field="status"
        )
    now = now or timezone.now()
    room = _lock_room(room)
    visit = _open_visit(room)
    if visit is not None and status != Room.Status.NEEDS_ATTENTION:
        visit_end(visit=visit, now=now, room_status=status)
    room.status = status
    room.status_changed_at = now
    room.save(update_fields=["status", "status_changed_at"])
    _bump(store_id=room.store_id, room_id=room.pk)
    return room


# --- Pages ------------------------------------------------------------------------


@dataclass(frozen=True)
class PageSendResult:
    page: Page
    created: bool


@transaction.atomic
def page_send(
    *,
    room: Room,
    kind: str,
    staged_item: StagedItem | None = None,
    product: Product | None = None,
    sku: str = "",
    size: str = "",
    colour: str = "",
    now: datetime.datetime | None = None,
) -> PageSendResult:
    """Page from the room: to the associate of the visit first, to everyone if none.

    The same request still waiting (same kind and item, not yet acknowledged) is not
    sent twice: a double tap or an impatient client does not page the floor again.
    Escalation is enqueued after commit with a countdown; the beat sweep catches any
    page whose task was lost.
    """
    now = now or timezone.now()
    room = _lock_room(room)
    visit, _ = _visit_get_or_open(room, now)
    sku = sku.strip()
    if staged_item is not None and product is None:
        product = staged_item.product
    if product is not None:
        item_name = product.name
    elif staged_item is not None:
        item_name = staged_item.description
    else:
        item_name = ""
    waiting = (
        visit.pages.open()
        .filter(
            kind=kind,
            acknowledged_at__isnull=True,
            staged_item=staged_item,
            product=product,
            sku=sku,
            size=size.strip(),
            colour=colour.strip(),
        )
        .first()
    )
    if waiting is not None:
        return PageSendResult(page=waiting, created=False)
    target = visit.associate if visit.associate_id and visit.associate.user.is_active else None
    page = Page(
        store_id=room.store_id,
        room=room,
        visit=visit,
        kind=kind,
        staged_item=staged_item,
        product=product,
        sku=sku,
        item_name=item_name,
        size=size.strip(),
        colour=colour.strip(),
        target=target,
        created_at=now,
        # Nobody brought the client: everyone is paged from the start.
        escalated_at=None if target else now,
    )
    page.full_clean()
    page.save()
    _bump_pages(
        store_id=room.store_id,
        room_id=room.pk,
        pages=[(page.target_id, None, page.escalated_at is not None)],
    )
    notices.page_notify(page_id=page.pk)  # rings the phone in the pocket (Web Push)
    if target is not None:
        from ..tasks import page_escalate as page_escalate_task

        page_escalate_task.apply_async_on_commit(
            (page.pk,), countdown=math.ceil(escalate_after().total_seconds())
        )
    return PageSendResult(page=page, created=True)


@dataclass(frozen=True)
class PageTakeResult:
    page: Page
    won: bool

    @property
    def message(self) -> str:
        """What the associate reads: theirs, or who took it, or why it is gone."""
        page = self.page
        if self.won and page.resolved_at:  # "Done" won: the page is closed, not taken
            return f"Done: {page.room.name}, {page.get_kind_display().lower()}."
        if self.won:
            return f"You're on it: {page.room.name}, {page.get_kind_display().lower()}."
        if page.acknowledged_by_id and page.acknowledged_by is not None and page.is_open:
            return f"{page.acknowledged_by.display_name} is on it."
        if page.cancelled_at:
            return f"The client has left {page.room.name}."
        if page.resolved_at:
            return f"Already done: {page.room.name}, {page.get_kind_display().lower()}."
        return "Someone else is on it."


def _reload(page: Page) -> Page:
    return Page.objects.select_related("room", "acknowledged_by__user").get(pk=page.pk)


def page_acknowledge(
    *, page: Page, staff: StaffMember, now: datetime.datetime | None = None
) -> PageTakeResult:
    """Take a page. Exactly one associate wins, however many tap at once.

    The claim is one conditional UPDATE (`... WHERE acknowledged_by IS NULL`): the
    database serialises concurrent claims on the row and the losers update nothing.
    Tapping again on one's own page is a success that changes nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        won = (
            Page.objects.open()
            .filter(pk=page.pk, acknowledged_by__isnull=True)
            .update(acknowledged_by=staff, acknowledged_at=now)
        )
        page = _reload(page)
        if won:
            # Read after the claim: a page taken can no longer escalate, so this is final.
            _bump_pages(
                store_id=page.store_id,
                room_id=page.room_id,
                pages=[(page.target_id, page.acknowledged_by_id, page.escalated_at is not None)],
            )
            notices.page_quiet(page_id=page.pk)  # quiet on every other phone it rang
    return PageTakeResult(page=page, won=bool(won) or page.acknowledged_by_id == staff.pk)


def page_resolve(
    *, page: Page, staff: StaffMember, now: datetime.datetime | None = None
) -> PageTakeResult:
    """Close a page (the size was brought, the client helped).

    Resolving a page nobody acknowledged acknowledges it too, by the same person.
    Resolving "ready to check out" ends the visit: the room goes to cleaning.
    """
    now = now or timezone.now()
    with transaction.atomic():
        done = (
            Page.objects.open()
            .filter(pk=page.pk)
            .update(
                resolved_at=now,
                resolved_by=staff,
                acknowledged_at=Coalesce(F("acknowledged_at"), Value(now)),
                acknowledged_by=Coalesce(
                    F("acknowledged_by"), Value(staff.pk), output_field=models.BigIntegerField()
                ),
            )
        )
        page = _reload(page)
        if done:
            _bump_pages(
                store_id=page.store_id,
                room_id=page.room_id,
                pages=[(page.target_id, page.acknowledged_by_id, page.escalated_at is not None)],
                staff=[staff.pk],
            )
            notices.page_quiet(page_id=page.pk)
            if page.kind == Page.Kind.CHECKOUT:
                visit_end(visit=page.visit, now=now)
                page = _reload(page)
    return PageTakeResult(page=page, won=bool(done))


@transaction.atomic
def page_escalate(*, page_id: int, now: datetime.datetime | None = None) -> bool:
    """Send one page to every associate of the store, if it is due and nobody took it.

    Claimed by a conditional UPDATE (`... WHERE escalated_at IS NULL AND acknowledged_at
    IS NULL`): the countdown task and the sweep may both try; it escalates once.
    """
    now = now or timezone.now()
    claimed = (
        Page.objects.due_for_escalation(now=now, after=escalate_after())
        .filter(pk=page_id)
        .update(escalated_at=now)
    )
    if claimed:
        store_id, room_id, target_id = Page.objects.filter(pk=page_id).values_list(
            "store_id", "room_id", "target_id"
        )[0]
        _bump_pages(store_id=store_id, room_id=room_id, pages=[(target_id, None, True)])
        notices.page_notify(page_id=page_id)  # now every phone of the floor rings
    return bool(claimed)


def pages_escalate_due(*, now: datetime.datetime | None = None) -> int:
    """Escalate every page that waited too long (the beat sweep); return how many.

    Works in rounds of ESCALATION_SWEEP_BATCH, each its own transaction and claim.
    """
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            due = Page.objects.due_for_escalation(now=now, after=escalate_after())
            rows = list(
                due.values_list("pk", "store_id", "room_id", "target_id")[:ESCALATION_SWEEP_BATCH]
            )
            if not rows:
                break
            total += due.filter(pk__in=[row[0] for row in rows]).update(escalated_at=now)
            for row in rows:
                notices.page_notify(page_id=row[0])
            for store_id in {row[1] for row in rows}:
                mine = [row for row in rows if row[1] == store_id]
                versions.bump_on_commit(
                    store_id=store_id,
                    room_ids=[row[2] for row in mine],
                    staff_ids=[row[3] for row in mine],
                    everyone=True,
                )
        if len(rows) < ESCALATION_SWEEP_BATCH:
            break
    return total


# --- Reservations and staging --------------------------------------------------------


def _local(moment: datetime.datetime, room: Room) -> str:
    return timezone.localtime(moment, room.store.zone).strftime("%H:%M")


@transaction.atomic
def reservation_create(
    *,
    room: Room,
    customer: Customer,
    associate: StaffMember | None,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    note: str = "",
    created_by: StaffMember | None = None,
) -> Reservation:
    """Reserve a room for a client and a period; an overlapping reservation is refused.

    The room's row is locked first, so two bookings of one room cannot both pass the
    check; on PostgreSQL an exclusion constraint guarantees it in the database as well.
    """
    room = _lock_room(room)
    if ends_at <= starts_at:
        raise ApplicationError("The end must come after the start.", field="end")
    conflict = (
        Reservation.objects.active()
        .overlapping(room_id=room.pk, starts_at=starts_at, ends_at=ends_at)
        .order_by("starts_at")
        .first()
    )
    if conflict is not None:
        raise ApplicationError(
            f"{room.name} is already reserved from {_local(conflict.starts_at, room)} "
            f"to {_local(conflict.ends_at, room)}. Choose another time or room.",
            field="start",
        )
    reservation = Reservation(
        room=room,
        customer=customer,
        associate=associate,
        starts_at=starts_at,
        ends_at=ends_at,
        note=note.strip(),
        created_by=created_by,
    )
    try:
        reservation.full_clean()
        with transaction.atomic():
            reservation.save()
    except ValidationError as error:
        raise ApplicationError(" ".join(error.messages), field="start") from error
    except IntegrityError as error:  # the exclusion constraint: a booking slipped past
        raise ApplicationError(
            f"{room.name} is already reserved at that time.", field="start"
        ) from error
    _bump(store_id=room.store_id, room_id=room.pk)
    return reservation


def reservation_cancel(*, reservation: Reservation, now: datetime.datetime | None = None) -> bool:
    """Cancel a reservation (it frees the period); False if it already was."""
    now = now or timezone.now()
    with transaction.atomic():
        cancelled = Reservation.objects.filter(pk=reservation.pk, cancelled_at__isnull=True).update(
            cancelled_at=now
        )
        if cancelled:
            _bump(store_id=reservation.room.store_id, room_id=reservation.room_id)
    return bool(cancelled)


@transaction.atomic
def staged_item_add(
    *,
    reservation: Reservation,
    product: Product | None = None,
    description: str = "",
    size: str = "",
) -> StagedItem:
    """Add an item (and size) to prepare in the room for the reservation."""
    if reservation.is_cancelled:
        raise ApplicationError("This reservation was cancelled.")
    item = StagedItem(
        reservation=reservation,
        product=product,
        description=description.strip(),
        size=size.strip(),
    )
    try:
        item.full_clean()
    except ValidationError as error:
        raise ApplicationError("Give a SKU or describe the item.", field="sku") from error
    item.save()
    _bump(store_id=reservation.room.store_id, room_id=reservation.room_id)
    return item


@transaction.atomic
def staged_item_set_staged(
    *,
    item: StagedItem,
    staged: bool,
    staff: StaffMember,
    now: datetime.datetime | None = None,
) -> StagedItem:
    """Tick (the item is in the room) or untick a staged item."""
    now = now or timezone.now()
    if staged:
        StagedItem.objects.filter(pk=item.pk, staged_at__isnull=True).update(
            staged_at=now, staged_by=staff
        )
    else:
        StagedItem.objects.filter(pk=item.pk).update(staged_at=None, staged_by=None)
    item.refresh_from_db()
    _bump(store_id=item.reservation.room.store_id, room_id=item.reservation.room_id)
    return item
