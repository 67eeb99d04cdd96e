"""What rings a phone about time and place: fitting-room pages (and their escalation) and
online bookings waiting for a yes. Who hears it and what it says; Web Push itself (the
outbox, the worker) is `clienteling.push`.

A notification says what and where, and the client's first name only to someone who may
open the client's card (`client_visible_to`); a colleague paged for a client of another
store reads "a client". Called inside the services' transactions: nothing is sent unless
they commit.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from clienteling.push import services as push
from clienteling.push.models import Notice
from clienteling.stores.models import StaffMember

from ..models import Appointment, Page
from ..selectors import client_visible_to


def _page_tag(page_id: int) -> str:
    return f"page-{page_id}"


def _floor(store_id: int) -> list[StaffMember]:
    """Everyone on the floor of the store (escalated pages go to them all)."""
    return list(
        StaffMember.objects.filter(store_id=store_id).active().associates().select_related("user")
    )


def _page_what(page: Page) -> str:
    details = ", ".join(part for part in (page.item_name, page.size, page.colour) if part)
    what = page.get_kind_display().lower()
    return f"{what} ({details})" if details else what


def _ring_by_visibility(staff: list[StaffMember], customer, *, kind, tag, title, body, url) -> int:
    """One notice per person, with the client's first name only for those who may see them.

    `title(who)` words it with the first name, or "A client" for the others.
    """
    named = [member.user_id for member in staff if client_visible_to(member, customer)]
    unnamed = [member.user_id for member in staff if member.user_id not in named]
    count = 0
    for user_ids, who in ((named, customer.first_name if customer else ""), (unnamed, "A client")):
        if user_ids:
            count += push.notify(
                user_ids=user_ids, kind=kind, tag=tag, title=title(who), body=body, url=url
            )
    return count


def page_notify(*, page_id: int) -> int:
    """Ring for a new or escalated page: its associate, or the whole floor once escalated."""
    if not push.push_enabled():
        return 0
    page = (
        Page.objects.select_related("room", "visit__customer", "target__user")
        .filter(pk=page_id)
        .first()
    )
    if page is None or not page.is_open or page.acknowledged_at:
        return 0
    if page.escalated_at is not None:
        staff = _floor(page.store_id)
        kind = Notice.Kind.PAGE_ESCALATED
    elif page.target is not None and page.target.user.is_active:
        staff = [page.target]
        kind = Notice.Kind.PAGE
    else:
        return 0
    customer = page.visit.customer
    where = f"{page.room.name}: {page.get_kind_display().lower()}"

    def title(who: str) -> str:
        return f"{who} in {where}" if customer is not None else where

    body = f"Asks for {_page_what(page)}."
    if kind == Notice.Kind.PAGE_ESCALATED:
        body += " Nobody has taken it yet."
    return _ring_by_visibility(
        staff,
        customer,
        kind=kind,
        tag=_page_tag(page.pk),
        title=title,
        body=body,
        url=reverse("appointments:pages"),
    )


def open_page_ids(*, visit_id: int) -> list[int]:
    """The visit's open pages, to quiet once they are cancelled (none when push is off)."""
    if not push.push_enabled():
        return []
    return list(Page.objects.open().filter(visit_id=visit_id).values_list("pk", flat=True))


def page_quiet(*, page_id: int) -> int:
    """The page was taken, done or the client left: it goes quiet on every phone it rang."""
    if not push.push_enabled():
        return 0
    page = (
        Page.objects.select_related("room", "acknowledged_by__user", "target")
        .filter(pk=page_id)
        .first()
    )
    if page is None:
        return 0
    if page.escalated_at is not None:
        user_ids = [member.user_id for member in _floor(page.store_id)]
    else:
        user_ids = [page.target.user_id] if page.target else []
    if page.acknowledged_by is not None and page.resolved_at is None:
        title = f"{page.acknowledged_by.display_name} is on it: {page.room.name}"
    elif page.cancelled_at:
        title = f"The client has left {page.room.name}"
    else:
        title = f"Done: {page.room.name}"
    return push.quiet(user_ids=user_ids, tag=_page_tag(page.pk), title=title)


def booking_request_notify(*, appointment: Appointment) -> int:
    """An online booking waits for a yes: its stylist's phone rings."""
    if not push.push_enabled() or appointment.status != Appointment.Status.REQUESTED:
        return 0
    stylist = appointment.stylist
    when = timezone.localtime(appointment.starts_at, appointment.store.zone)
    return _ring_by_visibility(
        [stylist],
        appointment.customer,
        kind=Notice.Kind.BOOKING_REQUEST,
        tag=f"appointment-{appointment.pk}",
        title=lambda who: f"{who} booked online: {appointment.kind.name}",
        body=f"{when:%a %-d %b, %H:%M}, waiting for your yes.",
        url=reverse("appointments:appointment", args=[appointment.pk]),
    )


def booking_request_quiet(*, appointment: Appointment) -> int:
    """Accepted (on any device): the request goes quiet on the stylist's phones."""
    if not push.push_enabled():
        return 0
    return push.quiet(
        user_ids=[appointment.stylist.user_id],
        tag=f"appointment-{appointment.pk}",
        title=f"Accepted: {appointment.kind.name}",
    )
