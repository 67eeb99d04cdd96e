"""Public booking pages: a store's page where clients book themselves, and each client's
personal link to see, move or cancel their appointment. No login: the store is known by
its code, the appointment by the secret token in the client's link.

The flow is phone first and asks for as little as it can: a kind the store offers online,
a day (of the next three weeks that still have a free time) and a time, then a name and
one way to reach the client. Times are the real free slots of the store's stylists
(`slots_free(online=True)`, so the kind's notice applies); several stylists free at one
time show as one time, given to the one with fewer appointments that day, unless the
client picks a stylist. Every step is a plain GET or POST page; htmx swaps only the times
when another day is tapped.

Nothing on these pages says whether the person was already a client: an existing client
is matched silently (`customer_self_signup`), and the pages show the appointment, never
the client's record. POSTs are rate-limited: bookings per address, changes per link.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from clienteling.core.errors import ApplicationError
from clienteling.core.http import HtmxHttpRequest, render_page
from clienteling.stores.models import StaffMember, Store
from customers.services import customer_self_signup

from ..forms.booking import (
    NOT_OFFERED,
    BookingForm,
    CancelForm,
    MoveForm,
    TimesQueryForm,
    stylist_name,
)
from ..models import Appointment, AppointmentKind
from ..services import (
    Slot,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    local_label,
    slots_free,
    stylists_of,
)

# Days offered ahead, today included.
BOOKING_DAYS = 21
RATE_GROUP = "appointments.booking"
MANAGE_RATE_GROUP = "appointments.manage"
# What a client may still move or cancel themselves (checked in: they are in the store).
CHANGEABLE = (
    Appointment.Status.REQUESTED,
    Appointment.Status.BOOKED,
    Appointment.Status.CONFIRMED,
)
SLOT_GONE = "Sorry, that time is no longer free. Choose another time: your details are kept."
MOVE_SLOT_GONE = "Sorry, that time is no longer free. Choose another time."
BOOKING_LIMITED = (
    "Several bookings were made from here in the last hour. Please try again later "
    "or call the store: nothing was booked this time."
)
MANAGE_LIMITED = (
    "This appointment was changed several times in the last hour. Please try again later "
    "or call the store: nothing was changed this time."
)
PLACE_FOR_CLIENTS = {
    AppointmentKind.Place.STORE: "In the store",
    AppointmentKind.Place.HOME: "At your home",
    AppointmentKind.Place.VIRTUAL: "On video",
}


# --- Access --------------------------------------------------------------------------------


def _store_for_code(code: str) -> Store:
    return get_object_or_404(Store, code=code, is_active=True)


def _kind_offered(store: Store, kind_id: int) -> AppointmentKind:
    """A kind this store's page offers, or 404 (another store's, retired, or made up)."""
    return get_object_or_404(
        AppointmentKind.objects.filter(online_stores=store, is_active=True), pk=kind_id
    )


def _appointment_for_token(token: str) -> Appointment:
    appointment = (
        Appointment.objects.select_related("store", "kind", "stylist__user")
        .filter(manage_token=token)
        .first()
    )
    if appointment is None:
        # Made up, mistyped or from another site: the same answer, nothing about anyone.
        raise Http404("No such appointment.")
    return appointment


def _booking_rate(group: str, request: HttpRequest) -> str:
    return settings.BOOKING_RATE


def _manage_rate(group: str, request: HttpRequest) -> str:
    return settings.BOOKING_MANAGE_RATE


def _token_key(group: str, request: HttpRequest) -> str:
    """Changes are limited per appointment link, whoever holds it."""
    return request.resolver_match.kwargs["token"]


def _is_limited(request: HttpRequest) -> bool:
    return request.method == "POST" and getattr(request, "limited", False)


def _limited(request: HttpRequest, store: Store, message: str) -> HttpResponse:
    """The friendly answer to too many POSTs: nothing was saved."""
    context = {"store": store, "message": message}
    return render(request, "appointments/book_limited.html", context, status=429)


def _private(response: HttpResponse) -> HttpResponse:
    """A client's own pages (their link is the key): not cached, not indexed."""
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


# --- Words ---------------------------------------------------------------------------------


def day_label(day: datetime.date) -> str:
    """“Tue 8 Dec”."""
    return f"{day:%a} {day.day} {day:%b}"


def store_address(store: Store) -> str:
    town = " ".join(part for part in (store.postal_code, store.city) if part)
    return ", ".join(part for part in (store.address_line, town) if part)


@dataclass(frozen=True)
class Where:
    """Where an appointment happens, as the client reads it (and a link for a video call)."""

    text: str
    url: str = ""


def where(appointment: Appointment) -> Where:
    kind, store = appointment.kind, appointment.store
    if kind.place == AppointmentKind.Place.HOME:
        return Where(f"At your home: {appointment.address}")
    if kind.place == AppointmentKind.Place.VIRTUAL:
        if appointment.video_link:
            return Where("On video: join the call", appointment.video_link)
        return Where("On video: your stylist sends the link before the appointment.")
    address = store_address(store)
    return Where(f"{store.name}, {address}" if address else store.name)


def _appointment_context(request: HttpRequest, appointment: Appointment) -> dict:
    return {
        "appointment": appointment,
        "store": appointment.store,
        "kind": appointment.kind,
        "when": local_label(appointment.starts_at, appointment.store),
        "stylist_name": stylist_name(appointment.stylist),
        "where": where(appointment),
        "link": request.build_absolute_uri(
            reverse("appointment-manage", args=[appointment.manage_token])
        ),
        "waiting": appointment.status == Appointment.Status.REQUESTED,
        "changeable": _changeable(appointment),
        "book_again_url": reverse("book", args=[appointment.store.code]),
    }


# --- Days and times ------------------------------------------------------------------------


@dataclass
class Flow:
    """A pick of day and time: a new booking's, or a move of an existing appointment."""

    store: Store
    kind: AppointmentKind
    stylists: dict[int, StaffMember]
    times_url: str  # the times page itself
    pick_url: str  # where a time leads: the details, or the move's confirmation
    back_url: str
    heading: str
    ignore_appointment_id: int | None = None
    prefer_stylist_id: int | None = None  # a move keeps its stylist where it can

    @property
    def today(self) -> datetime.date:
        return timezone.localtime(timezone.now(), self.store.zone).date()

    @property
    def last_day(self) -> datetime.date:
        return self.today + datetime.timedelta(days=BOOKING_DAYS - 1)

    def local_day(self, moment: datetime.datetime) -> datetime.date:
        return timezone.localtime(moment, self.store.zone).date()

    def offers_day(self, day: datetime.date) -> bool:
        return self.today <= day <= self.last_day

    def times_link(self, *, day: datetime.date | None = None, chosen: int | None = None) -> str:
        query = {}
        if day is not None:
            query["day"] = day.isoformat()
        if chosen is not None:
            query["stylist"] = chosen
        return f"{self.times_url}?{urlencode(query)}" if query else self.times_url


def _stylists(store: Store) -> dict[int, StaffMember]:
    return {stylist.pk: stylist for stylist in stylists_of(store)}


def _booking_flow(store: Store, kind: AppointmentKind) -> Flow:
    return Flow(
        store=store,
        kind=kind,
        stylists=_stylists(store),
        times_url=reverse("book-times", args=[store.code, kind.pk]),
        pick_url=reverse("book-details", args=[store.code, kind.pk]),
        back_url=reverse("book", args=[store.code]),
        heading=kind.name,
    )


def _move_flow(appointment: Appointment) -> Flow:
    token = appointment.manage_token
    return Flow(
        store=appointment.store,
        kind=appointment.kind,
        stylists=_stylists(appointment.store),
        times_url=reverse("appointment-manage-move", args=[token]),
        pick_url=reverse("appointment-manage-move-confirm", args=[token]),
        back_url=reverse("appointment-manage", args=[token]),
        heading=f"Move your {appointment.kind.name.lower()}",
        ignore_appointment_id=appointment.pk,
        prefer_stylist_id=appointment.stylist_id,
    )


def _slots(flow: Flow, day: datetime.date, chosen: int | None) -> list[Slot]:
    """Free slots of the chosen stylist, or of every stylist of the store (three queries)."""
    return slots_free(
        store=flow.store,
        kind=flow.kind,
        day=day,
        stylist_ids=[chosen] if chosen is not None else list(flow.stylists),
        online=True,
        ignore_appointment_id=flow.ignore_appointment_id,
    )


def _appointments_per_stylist(
    flow: Flow, day: datetime.date, stylist_ids: Iterable[int]
) -> dict[int, int]:
    """How many live appointments each stylist has on that local day (one query)."""
    zone = flow.store.zone
    starts = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    ends = datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    held = Appointment.objects.live().filter(
        stylist_id__in=list(stylist_ids), starts_at__gte=starts, starts_at__lt=ends
    )
    if flow.ignore_appointment_id:
        held = held.exclude(pk=flow.ignore_appointment_id)
    return dict(
        held.order_by()
        .values("stylist_id")
        .annotate(count=Count("pk"))
        .values_list("stylist_id", "count")
    )


@dataclass(frozen=True)
class TimeOption:
    slot: Slot
    label: str
    stylist: str
    url: str


def _ranking(flow: Flow, day: datetime.date, slots: list[Slot], chosen: int | None):
    """Which stylist gets a time several are free at: a move keeps its own stylist first,
    then the one with fewer appointments that day (one query; none once a stylist is chosen)."""
    load = (
        {}
        if chosen is not None
        else _appointments_per_stylist(flow, day, {slot.stylist_id for slot in slots})
    )

    def rank(slot: Slot) -> tuple[bool, int, int]:
        return (
            slot.stylist_id != flow.prefer_stylist_id,
            load.get(slot.stylist_id, 0),
            slot.stylist_id,
        )

    return rank


def _one_per_time(
    flow: Flow, day: datetime.date, slots: list[Slot], chosen: int | None
) -> list[Slot]:
    """One slot per start time, given to the stylist `_ranking` puts first."""
    if not slots:
        return []
    rank = _ranking(flow, day, slots, chosen)
    best: dict[datetime.datetime, Slot] = {}
    for slot in slots:
        if slot.starts_at not in best or rank(slot) < rank(best[slot.starts_at]):
            best[slot.starts_at] = slot
    return [best[starts_at] for starts_at in sorted(best)]


def _options(
    flow: Flow, day: datetime.date, chosen: int | None, slots: list[Slot] | None = None
) -> list[TimeOption]:
    if slots is None:
        slots = _slots(flow, day, chosen) if flow.offers_day(day) else []
    options = []
    for slot in _one_per_time(flow, day, slots, chosen):
        query = {"slot": slot.key}
        if chosen is not None:
            query["stylist"] = chosen
        options.append(
            TimeOption(
                slot=slot,
                label=f"{timezone.localtime(slot.starts_at, flow.store.zone):%H:%M}",
                stylist=stylist_name(flow.stylists[slot.stylist_id]),
                url=f"{flow.pick_url}?{urlencode(query)}",
            )
        )
    return options


def _free_days(flow: Flow, chosen: int | None) -> dict[datetime.date, list[Slot]]:
    """The days ahead that still have a free time, with their slots (three queries a day,
    whatever the number of stylists)."""
    days = {}
    for offset in range(BOOKING_DAYS):
        day = flow.today + datetime.timedelta(days=offset)
        slots = _slots(flow, day, chosen)
        if slots:
            days[day] = slots
    return days


def _free_slot(flow: Flow, wanted: tuple[int, datetime.datetime] | None) -> Slot | None:
    """The slot a link or form asks for, if it is still free and within the days offered."""
    if wanted is None:
        return None
    stylist_id, starts_at = wanted
    day = flow.local_day(starts_at)
    if stylist_id not in flow.stylists or not flow.offers_day(day):
        return None
    return next(
        (slot for slot in _slots(flow, day, stylist_id) if slot.starts_at == starts_at), None
    )


def _times_page(
    request: HtmxHttpRequest,
    flow: Flow,
    *,
    again: tuple[datetime.date | None, int | None] | None = None,
    error: str = "",
) -> HttpResponse:
    """Days with a free time and the times of one day; htmx asks for the times alone.
    `again` (day, chosen stylist) shows a day again after a refused time, whatever the URL.

    The times of a day (the htmx request): the store, the kind, the stylists, three
    queries for the free slots and one for the stylists' appointments that day, whatever
    the number of stylists.
    """
    query = TimesQueryForm(
        request.GET,
        first_day=flow.today,
        last_day=flow.last_day,
        stylists=list(flow.stylists.values()),
    )
    if not query.is_valid() and not error:
        error = " ".join(message for field in query.errors.values() for message in field)
    if again is not None:
        day, chosen = again
    else:
        day, chosen = query.cleaned_data.get("day"), query.cleaned_data.get("stylist")
    context = {
        "flow": flow,
        "store": flow.store,
        "kind": flow.kind,
        "error": error,
        "chosen": chosen,
    }
    if request.htmx and not request.htmx.history_restore_request:
        day = day or flow.today
        context.update(day=day, day_label=day_label(day), times=_options(flow, day, chosen))
        return render_page(
            request, "appointments/book_times.html", context, partial="booking-times"
        )
    free_days = _free_days(flow, chosen)
    if day is None:
        day = next(iter(free_days), flow.today)
    context.update(
        day=day,
        day_label=day_label(day),
        times=_options(flow, day, chosen, slots=free_days.get(day, [])),
        days=[
            {
                "date": free_day,
                "weekday": f"{free_day:%a}",
                "number": free_day.day,
                "month": f"{free_day:%b}",
                "label": day_label(free_day),
                "url": flow.times_link(day=free_day, chosen=chosen),
            }
            for free_day in free_days
        ],
        stylist_links=[
            {"label": "Any stylist", "url": flow.times_link(), "current": chosen is None}
        ]
        + [
            {
                "label": stylist_name(stylist),
                "url": flow.times_link(chosen=stylist.pk),
                "current": chosen == stylist.pk,
            }
            for stylist in flow.stylists.values()
        ],
    )
    return render_page(request, "appointments/book_times.html", context, partial="booking-times")


# --- Booking -------------------------------------------------------------------------------


@require_GET
def book(request: HttpRequest, store_code: str) -> HttpResponse:
    """The store's booking page: what a client can come for."""
    store = _store_for_code(store_code)
    kinds = [
        {"kind": kind, "place": PLACE_FOR_CLIENTS[kind.place]}
        for kind in store.online_appointment_kinds.filter(is_active=True)
    ]
    context = {"store": store, "kinds": kinds, "address": store_address(store)}
    return render(request, "appointments/book.html", context)


@require_GET
def book_times(request: HtmxHttpRequest, store_code: str, kind_id: int) -> HttpResponse:
    """Choose a day and a time (and a stylist, if the client wants one)."""
    store = _store_for_code(store_code)
    return _times_page(request, _booking_flow(store, _kind_offered(store, kind_id)))


def _book_with(
    flow: Flow, form: BookingForm, stylist: StaffMember, starts_at: datetime.datetime
) -> Appointment:
    """Match or create the client and book, in one transaction: a refused time leaves no
    client record and no consent behind."""
    data = form.cleaned_data
    with transaction.atomic():
        signup = customer_self_signup(
            store=flow.store,
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            phone=data["phone"] or None,
            consents=form.consent_answers(),
            at_counter=False,
        )
        return appointment_book(
            customer=signup.customer,
            kind=flow.kind,
            stylist=stylist,
            starts_at=starts_at,
            online=True,
            address=data.get("address", ""),
        )


def _book(flow: Flow, form: BookingForm) -> Appointment:
    """Book the slot asked for; if it was taken meanwhile and the client let us pick the
    stylist, another stylist free at that same time will do."""
    stylist_id, starts_at = form.cleaned_data["slot"]
    if not flow.offers_day(flow.local_day(starts_at)):
        raise ApplicationError(SLOT_GONE, field="slot")
    try:
        return _book_with(flow, form, flow.stylists[stylist_id], starts_at)
    except ApplicationError as error:
        if error.field != "slot" or form.cleaned_data["stylist"] is not None:
            raise
        day = flow.local_day(starts_at)
        others = [
            slot
            for slot in _slots(flow, day, None)
            if slot.starts_at == starts_at and slot.stylist_id != stylist_id
        ]
        if others:
            others.sort(key=_ranking(flow, day, others, None))
        for slot in others:
            try:
                return _book_with(flow, form, flow.stylists[slot.stylist_id], starts_at)
            except ApplicationError as again:
                if again.field != "slot":
                    raise
        raise error


def _service_error(form: BookingForm, error: ApplicationError) -> None:
    if error.field in ("slot", "stylist"):
        form.add_error("slot", SLOT_GONE)
    elif error.field in form.fields:
        form.add_error(error.field, error.message)
    else:
        form.add_error(None, error.message)


def _slot_asked(form: BookingForm, value: str) -> tuple[int, datetime.datetime] | None:
    try:
        return form.fields["slot"].clean(value)
    except ValidationError:
        return None


@require_http_methods(["GET", "POST"])
@ratelimit(group=RATE_GROUP, key="ip", rate=_booking_rate, method="POST", block=False)
def book_details(request: HttpRequest, store_code: str, kind_id: int) -> HttpResponse:
    """The client's details for the time they chose, then the booking."""
    store = _store_for_code(store_code)
    kind = _kind_offered(store, kind_id)
    if _is_limited(request):
        return _limited(request, store, BOOKING_LIMITED)
    flow = _booking_flow(store, kind)
    stylist_ids = list(flow.stylists)
    if request.method == "POST":
        form = BookingForm(request.POST, store=store, kind=kind, stylist_ids=stylist_ids)
        if form.is_valid():
            try:
                appointment = _book(flow, form)
            except ApplicationError as error:
                _service_error(form, error)
            else:
                return redirect("appointment-booked", token=appointment.manage_token)
        wanted = _slot_asked(form, request.POST.get("slot", ""))
        chosen = form.fields["stylist"].clean(request.POST.get("stylist"))
    else:
        form = BookingForm(store=store, kind=kind, stylist_ids=stylist_ids)
        wanted = _slot_asked(form, request.GET.get("slot", ""))
        chosen = form.fields["stylist"].clean(request.GET.get("stylist"))

    slot = _free_slot(flow, wanted)
    slot_errors = list(form.errors.get("slot", [])) if form.is_bound else []
    if slot is None and not slot_errors:
        slot_errors = [SLOT_GONE if wanted else NOT_OFFERED]
    day = flow.local_day(wanted[1]) if wanted else None
    context = {
        "flow": flow,
        "store": store,
        "kind": kind,
        "form": form,
        "slot": slot,
        "slot_errors": slot_errors,
        "slot_key": slot.key if slot else "",
        "chosen": chosen,
        "when": local_label(slot.starts_at, store) if slot else "",
        "stylist_name": stylist_name(flow.stylists[slot.stylist_id]) if slot else "",
        "day_label": day_label(day) if day else "",
        "times": _options(flow, day, chosen) if slot_errors and day else [],
        "posted_slot": request.POST.get("slot", ""),
        "other_days_url": flow.times_link(
            day=day if day and flow.offers_day(day) else None, chosen=chosen
        ),
        "place": PLACE_FOR_CLIENTS[kind.place],
    }
    return render(request, "appointments/book_details.html", context)


@require_GET
def appointment_booked(request: HttpRequest, token: str) -> HttpResponse:
    """The confirmation: what, when, where, and the client's own link."""
    appointment = _appointment_for_token(token)
    if appointment.status not in CHANGEABLE:
        # Cancelled or over since: "You're booked" would be wrong, the link says what it is.
        return redirect("appointment-manage", token=appointment.manage_token)
    context = _appointment_context(request, appointment)
    return _private(render(request, "appointments/book_done.html", context))


# --- The client's own link -----------------------------------------------------------------


def _changeable(appointment: Appointment) -> bool:
    return appointment.status in CHANGEABLE and appointment.starts_at > timezone.now()


def _refuse(request: HttpRequest, appointment: Appointment, verb: str) -> HttpResponse:
    """Back to the appointment, saying why it can't be changed any more."""
    if appointment.status in CHANGEABLE:
        why = "Its time has passed"
    else:
        why = f"It is {appointment.get_status_display().lower()}"
    messages.error(request, f"{why}: this appointment can no longer be {verb}.")
    return redirect("appointment-manage", token=appointment.manage_token)


@require_GET
def appointment_manage(request: HttpRequest, token: str) -> HttpResponse:
    """The appointment as the client sees it, with a way to move or cancel it while it is
    still ahead; afterwards, what became of it."""
    appointment = _appointment_for_token(token)
    context = _appointment_context(request, appointment)
    return _private(render(request, "appointments/my_appointment.html", context))


@require_http_methods(["GET", "POST"])
@ratelimit(group=MANAGE_RATE_GROUP, key=_token_key, rate=_manage_rate, method="POST", block=False)
def appointment_cancel_page(request: HttpRequest, token: str) -> HttpResponse:
    """Cancel, after a confirm step (with an optional word for the stylist)."""
    appointment = _appointment_for_token(token)
    if _is_limited(request):
        return _limited(request, appointment.store, MANAGE_LIMITED)
    if not _changeable(appointment):
        return _refuse(request, appointment, "cancelled")
    # Not `request.POST or None`: a cancel with no reason posts nothing but the token.
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if appointment_cancel(
            appointment=appointment, reason=form.cleaned_data["reason"], by_client=True
        ):
            messages.success(request, "Your appointment is cancelled. We hope to see you soon.")
        return redirect("appointment-manage", token=appointment.manage_token)
    context = {**_appointment_context(request, appointment), "form": form}
    return _private(render(request, "appointments/my_appointment_cancel.html", context))


@require_GET
def appointment_move(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """Choose another day and time for the appointment (the same pages as booking)."""
    appointment = _appointment_for_token(token)
    if not _changeable(appointment):
        return _refuse(request, appointment, "moved")
    return _private(_times_page(request, _move_flow(appointment)))


@require_http_methods(["GET", "POST"])
@ratelimit(group=MANAGE_RATE_GROUP, key=_token_key, rate=_manage_rate, method="POST", block=False)
def appointment_move_confirm(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """Confirm the new time (GET), then move the appointment to it (POST)."""
    appointment = _appointment_for_token(token)
    if _is_limited(request):
        return _limited(request, appointment.store, MANAGE_LIMITED)
    if not _changeable(appointment):
        return _refuse(request, appointment, "moved")
    flow = _move_flow(appointment)
    form = MoveForm(
        request.POST if request.method == "POST" else request.GET, stylist_ids=list(flow.stylists)
    )
    if not form.is_valid():
        error = " ".join(form.errors.get("slot", []))
        return _private(_times_page(request, flow, again=(None, None), error=error))
    stylist_id, starts_at = form.cleaned_data["slot"]
    chosen = form.cleaned_data["stylist"]
    day = flow.local_day(starts_at)
    slot = _free_slot(flow, (stylist_id, starts_at))
    if slot is None:
        return _private(
            _times_page(
                request,
                flow,
                again=(day if flow.offers_day(day) else None, chosen),
                error=MOVE_SLOT_GONE,
            )
        )
    if request.method == "POST":
        try:
            moved = appointment_reschedule(
                appointment=appointment,
                starts_at=slot.starts_at,
                stylist=flow.stylists[slot.stylist_id],
                by_client=True,
            )
        except ApplicationError as error:
            if error.field not in ("slot", "stylist"):
                messages.error(request, error.message)
                return redirect("appointment-manage", token=appointment.manage_token)
            return _private(_times_page(request, flow, again=(day, chosen), error=MOVE_SLOT_GONE))
        messages.success(
            request, f"Your appointment is moved to {local_label(moved.starts_at, moved.store)}."
        )
        return redirect("appointment-manage", token=appointment.manage_token)
    context = {
        **_appointment_context(request, appointment),
        "form": form,
        "new_when": local_label(slot.starts_at, flow.store),
        "new_stylist_name": stylist_name(flow.stylists[slot.stylist_id]),
        "slot_key": slot.key,
        "chosen": chosen,
        "other_times_url": flow.times_link(day=day, chosen=chosen),
    }
    return _private(render(request, "appointments/my_appointment_move.html", context))
