"""The associates' fitting-room pages: my pages, the room board, a room, reservations,
and the manager's response-time metrics.

Live updates are htmx polling (`hx-trigger="every 1500ms"`), not server-sent events:
- it works through any proxy and load balancer, with nothing to configure for buffering
  or idle timeouts, and survives shop-floor Wi-Fi dropping out (the next poll just works);
- it holds no long-lived connection, which matters on sync gunicorn workers: one SSE
  stream per phone would pin a worker per associate (50 associates, 50 workers), where a
  poll holds one for a couple of milliseconds;
- it is htmx-native: the answer is the same partial the page renders, no extension.
The price is a request per phone per interval. It is made cheap: each poll carries the
version it shows (`?v=`), and when the version has not moved (counters in the shared
cache, see `appointments.versions`: the store's shared pages plus the associate's own)
the answer is a bodiless 204, which htmx does not swap, after one query (the session's
user with their staff record). A page for one associate wakes that one phone. 1.5 s rather
than 2 s keeps "a new page shows within 2 s" true with a slow round trip on top.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from clienteling.core.errors import ApplicationError
from clienteling.core.http import HtmxHttpRequest, render_page
from clienteling.stores.access import request_staff, staff_or_404
from clienteling.stores.models import StaffMember, Store
from clienteling.stores.refusals import get_visible_or_404
from customers.selectors import customers_visible_to

from .. import selectors, services, versions
from ..forms.rooms import MetricsPeriodForm, ReservationForm, RoomStatusForm, StagedItemForm
from ..models import RESERVATION_LEAD, Page, Reservation, Room, StagedItem

# How often phones ask for news (see the module docstring), as htmx reads it.
POLL_INTERVAL = "1500ms"
# A phone's view is re-rendered at least this often even if no version moved: ages stay
# roughly right and a lost bump (a cache outage) heals by itself.
POLL_MAX_AGE_SECONDS = 30
# The 404 for anyone who is not staff of a store (see `access.staff_or_404`).
NOT_STAFF = "Only staff of a store see its fitting rooms."


# --- Access and polling helpers ----------------------------------------------------------


def _get_room_for_staff(request: HtmxHttpRequest, pk: int) -> Room:
    """A room of the signed-in person's store; 404 for any other (not even confirmed)."""
    staff = staff_or_404(request, message=NOT_STAFF)
    return get_object_or_404(
        Room.objects.for_store(staff.store_id).active().select_related("store"), pk=pk
    )


def _get_page_for_staff(request: HtmxHttpRequest, pk: int) -> Page:
    staff = staff_or_404(request, message=NOT_STAFF)
    return get_object_or_404(Page.objects.for_store(staff.store_id).select_related("room"), pk=pk)


def _get_reservation_for_staff(request: HtmxHttpRequest, pk: int) -> Reservation:
    staff = staff_or_404(request, message=NOT_STAFF)
    return get_visible_or_404(
        request,
        Reservation.objects.filter(room__store_id=staff.store_id).select_related(
            "room__store", "customer", "associate__user"
        ),
        target="room reservation",
        pk=pk,
    )


def poll_is_current(request: HtmxHttpRequest, version: int | str) -> bool:
    """True when this htmx poll already shows `version` and is recent enough."""
    if not request.htmx or request.htmx.history_restore_request:
        return False
    try:
        rendered_at = int(request.GET["t"])
    except (KeyError, ValueError):
        return False
    age = timezone.now().timestamp() - rendered_at
    return request.GET.get("v") == str(version) and 0 <= age < POLL_MAX_AGE_SECONDS


def unchanged() -> HttpResponse:
    """Nothing new: 204 (htmx swaps nothing), never cached by the browser or a proxy."""
    response = HttpResponse(status=204)
    add_never_cache_headers(response)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _live(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    return response


def poll_state(version: int | str) -> dict:
    """What a polling region needs: the version it shows, when it was drawn, how often."""
    return {
        "version": version,
        "rendered_at": int(timezone.now().timestamp()),
        "interval": POLL_INTERVAL,
    }


def _next_url(request: HtmxHttpRequest, default: str) -> str:
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default


# --- My pages ---------------------------------------------------------------------------


@require_GET
@login_required
def pages(request: HtmxHttpRequest) -> HttpResponse:
    """The fitting-room pages waiting for me or taken by me; the endpoint phones poll.

    Queries: the user with their staff record (every page), then nothing when the version is current
    (204), or one more for the pages (joined with their rooms and clients).
    """
    staff = staff_or_404(request, message=NOT_STAFF)
    version = versions.pager_version(store_id=staff.store_id, staff_id=staff.pk)
    if poll_is_current(request, version):
        return unchanged()
    pager = selectors.pager_for(staff, version=version)
    context = {"pager": pager, "poll": poll_state(version)}
    return _live(render_page(request, "appointments/pages.html", context, partial="pager"))


def _after_page_action(
    request: HtmxHttpRequest, staff: StaffMember, result: services.PageTakeResult
) -> HttpResponse:
    """After acknowledge or resolve: the region the button lives in, with what happened."""
    target = request.htmx.target if request.htmx else None
    if target == "room-live":
        room = result.page.room
        context = _room_context(staff, room)
        context.update(notice=result.message, notice_won=result.won)
        return _live(render_page(request, "appointments/room_detail.html#room-live", context))
    if target == "pager":
        pager = selectors.pager_for(staff)
        context = {
            "pager": pager,
            "poll": poll_state(pager.version),
            "notice": result.message,
            "notice_won": result.won,
        }
        return _live(render_page(request, "appointments/pages.html#pager", context))
    (messages.success if result.won else messages.info)(request, result.message)
    url = _next_url(request, reverse("appointments:pages"))
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@login_required
def page_acknowledge(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Take the page ("I'm on it"). If a colleague was faster, say who: not an error."""
    staff = staff_or_404(request, message=NOT_STAFF)
    page = _get_page_for_staff(request, pk)
    result = services.page_acknowledge(page=page, staff=staff)
    return _after_page_action(request, staff, result)


@require_POST
@login_required
def page_resolve(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Close the page ("Done"): the client has what they asked for."""
    staff = staff_or_404(request, message=NOT_STAFF)
    page = _get_page_for_staff(request, pk)
    result = services.page_resolve(page=page, staff=staff)
    return _after_page_action(request, staff, result)


# --- The room board and a room -------------------------------------------------------------


@require_GET
@login_required
def board(request: HtmxHttpRequest) -> HttpResponse:
    """Every room of the store at a glance: status, who is in, open pages and their age.

    Polled like the pager; a changed board costs four queries whatever the rooms.
    """
    staff = staff_or_404(request, message=NOT_STAFF)
    version = versions.read(versions.store_key(staff.store_id))
    if poll_is_current(request, version):
        return unchanged()
    now = timezone.now()
    context = {
        "staff": staff,
        "store": staff.store,
        "board": selectors.rooms_board(store=staff.store, staff=staff, now=now),
        "poll": poll_state(version),
    }
    if not request.htmx:
        context["pager"] = selectors.pager_for(staff)
    return _live(render_page(request, "appointments/board.html", context, partial="board"))


def _room_context(staff: StaffMember, room: Room, *, version: int | None = None, **extra) -> dict:
    """Everything the room page shows; the version is read before the rows."""
    now = timezone.now()
    if version is None:
        version = versions.read(versions.room_key(room.pk))
    visit = room.visits.open().select_related("associate__user", "customer").first()
    if visit is not None:
        visit.client_visible = selectors.client_visible_to(staff, visit.customer)
    reservations = selectors.room_upcoming_reservations(room, now)
    current = next((r for r in reservations if r.starts_at <= now + RESERVATION_LEAD), None)
    status = room.board_status(current)
    context = {
        "staff": staff,
        "room": room,
        "visit": visit,
        "status": status,
        "status_label": Room.Status(status).label,
        "pages": selectors.room_open_pages(room),
        "reservations": reservations,
        "status_form": RoomStatusForm(initial={"status": room.status}),
        "poll": poll_state(version),
    }
    context.update(extra)
    return context


@require_GET
@login_required
def room_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One room: its status, the visit in it, its open pages and its reservations."""
    staff = staff_or_404(request, message=NOT_STAFF)
    room = _get_room_for_staff(request, pk)
    version = versions.read(versions.room_key(room.pk))
    if poll_is_current(request, version):
        return unchanged()
    context = _room_context(staff, room, version=version)
    return _live(
        render_page(request, "appointments/room_detail.html", context, partial="room-live")
    )


@require_POST
@login_required
def room_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Set a room available, needing attention or being cleaned (ends the visit in it)."""
    staff = staff_or_404(request, message=NOT_STAFF)
    room = _get_room_for_staff(request, pk)
    form = RoomStatusForm(request.POST)
    if form.is_valid():
        try:
            room = services.room_set_status(room=room, status=form.cleaned_data["status"])
        except ApplicationError as error:
            form.add_error(error.field, error.message)
    if not form.is_valid():
        # A plain form (outside the polled region): the whole page, with the message.
        context = _room_context(staff, room, status_form=form)
        return render_page(request, "appointments/room_detail.html", context)
    messages.success(request, f"{room.name} is now {room.get_status_display().lower()}.")
    url = reverse("appointments:room", args=[room.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@login_required
def visit_start(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Bring a client to the room ("I'm bringing a client here"): its pages come to me first."""
    staff = staff_or_404(request, message=NOT_STAFF)
    room = _get_room_for_staff(request, pk)
    try:
        services.visit_start(
            room=room, associate=staff, take_over=request.POST.get("take_over") == "1"
        )
    except ApplicationError as error:
        messages.info(request, error.message)
    else:
        messages.success(request, f"{room.name} is yours: its pages come to you first.")
    url = reverse("appointments:room", args=[room.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@login_required
def visit_end(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The client has left: end the visit; the room goes to cleaning."""
    staff_or_404(request, message=NOT_STAFF)
    room = _get_room_for_staff(request, pk)
    visit = room.visits.open().first()
    if visit is not None and services.visit_end(visit=visit):
        messages.success(request, f"Visit ended. {room.name} is waiting to be cleaned.")
    else:
        messages.info(request, f"Nobody is in {room.name}.")
    url = reverse("appointments:room", args=[room.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- Reservations and staging ----------------------------------------------------------------


def _next_half_hour(now: datetime.datetime, zone) -> datetime.datetime:
    local = timezone.localtime(now, zone).replace(second=0, microsecond=0)
    return local + datetime.timedelta(minutes=30 - local.minute % 30)


@require_http_methods(["GET", "POST"])
@login_required
def reservation_create(request: HtmxHttpRequest) -> HttpResponse:
    """Reserve a room for a client and a period. `?room=` and `?customer=` pre-fill it."""
    staff = staff_or_404(request, message=NOT_STAFF)
    store: Store = staff.store
    visible = customers_visible_to(user=request.user, staff=staff)
    start = _next_half_hour(timezone.now(), store.zone)
    initial = {
        "date": start.date(),
        "start": start.time(),
        "end": (start + datetime.timedelta(hours=1)).time(),
        "associate": None if staff.is_manager else staff.pk,
    }
    for name in ("room", "customer"):
        if request.GET.get(name, "").isdigit():
            initial[name] = int(request.GET[name])
    form = ReservationForm(
        request.POST or None, initial=initial, store=store, visible_customers=visible
    )
    preset = None
    if request.method == "GET" and "customer" in initial:
        preset = visible.filter(pk=initial["customer"]).first()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            reservation = services.reservation_create(
                room=data["room"],
                customer=form.chosen,
                associate=data["associate"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                note=data["note"],
                created_by=staff,
            )
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request, f"{reservation.room.name} is reserved. Add the items to stage."
            )
            url = reverse("appointments:reservation", args=[reservation.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = {"form": form, "chosen": form.chosen if form.is_bound else preset}
    return render_page(
        request, "appointments/reservation_form.html", context, partial="reservation-form"
    )


def _staging_context(reservation: Reservation, **extra) -> dict:
    context = {
        "reservation": reservation,
        "items": list(reservation.staged_items.select_related("product", "staged_by__user")),
        "item_form": StagedItemForm(),
    }
    context.update(extra)
    return context


@require_GET
@login_required
def reservation_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A reservation and its staging list: what to prepare, ticked once in the room."""
    staff = staff_or_404(request, message=NOT_STAFF)
    reservation = _get_reservation_for_staff(request, pk)
    context = _staging_context(reservation)
    context["client_visible"] = selectors.client_visible_to(staff, reservation.customer)
    return render_page(request, "appointments/reservation_detail.html", context)


@require_POST
@login_required
def reservation_cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    staff_or_404(request, message=NOT_STAFF)
    reservation = _get_reservation_for_staff(request, pk)
    if services.reservation_cancel(reservation=reservation):
        messages.success(request, "Reservation cancelled: the room is free at that time.")
    url = reverse("appointments:room", args=[reservation.room_id])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@login_required
def staged_item_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    staff = staff_or_404(request, message=NOT_STAFF)
    reservation = _get_reservation_for_staff(request, pk)
    form = StagedItemForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.staged_item_add(
                reservation=reservation,
                product=data["product"],
                description=data["description"],
                size=data["size"],
            )
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
    url = reverse("appointments:reservation", args=[reservation.pk]) + "#staging"
    if form.is_valid():
        if not request.htmx:
            return redirect(url)
        form = StagedItemForm()
    context = _staging_context(reservation, item_form=form)
    context["client_visible"] = selectors.client_visible_to(staff, reservation.customer)
    return render_page(request, "appointments/reservation_detail.html", context, partial="staging")


@require_POST
@login_required
def staged_item_check(request: HtmxHttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Tick (or untick) an item: it is in the room."""
    staff = staff_or_404(request, message=NOT_STAFF)
    reservation = _get_reservation_for_staff(request, pk)
    item = get_object_or_404(StagedItem, pk=item_pk, reservation=reservation)
    services.staged_item_set_staged(
        item=item, staged=request.POST.get("staged") == "true", staff=staff
    )
    if not request.htmx:
        return redirect(reverse("appointments:reservation", args=[reservation.pk]) + "#staging")
    return render_page(
        request,
        "appointments/reservation_detail.html",
        _staging_context(reservation),
        partial="staging",
    )


# --- Metrics for managers -------------------------------------------------------------------


@require_GET
@login_required
def metrics(request: HtmxHttpRequest) -> HttpResponse:
    """Median time to acknowledge and to resolve pages, per store and per associate.

    Managers see their store; superusers every store (and their own store's associates,
    if they have one). Others are refused.
    """
    staff = request_staff(request)
    if not (request.user.is_superuser or (staff is not None and staff.is_manager)):
        raise PermissionDenied("Response times are for store managers.")
    zone = staff.store.zone if staff else timezone.get_current_timezone()
    today = timezone.localdate(timezone=zone)
    defaults = {"start": today - datetime.timedelta(days=29), "end": today}
    form = MetricsPeriodForm(request.GET if "start" in request.GET else defaults)
    context: dict = {"form": form, "staff": staff}
    if form.is_valid():
        start = datetime.datetime.combine(form.cleaned_data["start"], datetime.time(), tzinfo=zone)
        end = datetime.datetime.combine(
            form.cleaned_data["end"] + datetime.timedelta(days=1), datetime.time(), tzinfo=zone
        )
        stores = (
            Store.objects.all()
            if request.user.is_superuser
            else Store.objects.filter(pk=staff.store_id)
        )
        context["by_store"] = selectors.response_times_by_store(stores=stores, start=start, end=end)
        if staff is not None:
            context["by_associate"] = selectors.response_times_by_associate(
                store=staff.store, start=start, end=end
            )
    return render_page(request, "appointments/metrics.html", context)
