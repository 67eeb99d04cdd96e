"""Stylists' and associates' appointment pages: the agenda (day and week), booking a
client at a free time, an appointment with its steps, moving or cancelling it, a client's
appointments (a section of the client card) and the stylist's personal styling clients.

Every page is a normal full page; htmx refreshes the list of free times when the kind,
day or stylist changes, and swaps the agenda when stepping through days.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from clienteling.core.errors import ApplicationError
from clienteling.core.http import HtmxHttpRequest, absolute_url, render_page
from clienteling.core.qr import qr_svg
from clienteling.stores.access import staff_or_404
from clienteling.stores.models import StaffMember, Store
from clienteling.stores.refusals import get_visible_or_404
from customers.models import Customer
from customers.selectors import (
    customer_visible_or_404,
    messages_for_cause,
)
from customers.services import audit_record

from .. import services
from ..forms.schedule import (
    AppointmentBookForm,
    CancelForm,
    RescheduleForm,
    SlotQueryForm,
    StylingEnrollForm,
)
from ..models import Appointment, AppointmentKind, StylingEnrollment

# Steps offered on an appointment page, by status, in the order shown.
STEPS = {
    Appointment.Status.REQUESTED: ["approve"],
    Appointment.Status.BOOKED: ["confirm", "check_in", "complete", "no_show"],
    Appointment.Status.CONFIRMED: ["check_in", "complete", "no_show"],
    Appointment.Status.CHECKED_IN: ["complete"],
}
STEP_LABELS = {
    "approve": "Accept the request",
    "confirm": "Client confirmed",
    "check_in": "Client is here",
    "complete": "Completed",
    "no_show": "Didn't come",
}
CLIENT_HISTORY = 10
MESSAGE_LABELS = {
    "appointment_confirmation": "Confirmation",
    "appointment_request": "Request received",
    "appointment_moved": "New time",
    "appointment_reminder": "Reminder",
    "appointment_cancelled": "Cancellation",
    "appointment_thank_you": "Thank-you",
}
# The 404 for anyone who is not staff of a store (see `access.staff_or_404`).
NOT_STAFF = "Only staff of a store see its appointments."


# --- Access --------------------------------------------------------------------------------


def _get_appointment_for_staff(request: HtmxHttpRequest, pk: int) -> Appointment:
    """An appointment of the signed-in person's store, or 404 (never another store's)."""
    staff = staff_or_404(request, message=NOT_STAFF)
    return get_visible_or_404(
        request,
        Appointment.objects.filter(store_id=staff.store_id).select_related(
            "kind", "stylist__user", "store", "customer", "room", "reservation"
        ),
        target="appointment",
        pk=pk,
    )


def _get_customer_for_staff(request: HtmxHttpRequest, pk) -> Customer:
    staff_or_404(request, message=NOT_STAFF)
    if not str(pk).isdigit():
        raise Http404("Choose a client first.")
    return customer_visible_or_404(request, pk=int(pk), select_related=("home_store",))


def _local_today(store: Store) -> datetime.date:
    return timezone.localtime(timezone.now(), store.zone).date()


def _day_param(value: str | None, default: datetime.date) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _redirect(request: HtmxHttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _optional_url(name: str, *args) -> str:
    """A link to a page another part of the app provides, or "" where it is not there."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


# --- The agenda ------------------------------------------------------------------------------


@require_GET
@login_required
def agenda(request: HtmxHttpRequest) -> HttpResponse:
    """A stylist's day or week (their own by default; anyone's of the store on request).

    One query for the appointments whatever their number, one for the stylists.
    """
    staff = staff_or_404(request, message=NOT_STAFF)
    store = staff.store
    today = _local_today(store)
    day = _day_param(request.GET.get("day"), today)
    week = request.GET.get("view") == "week"
    stylists = list(services.stylists_of(store))
    chosen = request.GET.get("stylist", "")
    if chosen == "" and staff.role == StaffMember.Role.STYLIST:
        chosen = str(staff.pk)
    stylist = next((s for s in stylists if str(s.pk) == chosen), None)

    first = day - datetime.timedelta(days=day.weekday()) if week else day
    days = [first + datetime.timedelta(days=n) for n in range(7 if week else 1)]
    starts_at = services.wall_clock(first, datetime.time.min, store.zone) or timezone.now()
    ends_at = services.wall_clock(
        days[-1] + datetime.timedelta(days=1), datetime.time.min, store.zone
    ) or starts_at + datetime.timedelta(days=len(days))
    appointments = (
        Appointment.objects.for_store(store)
        .between(starts_at, ends_at)
        .exclude(status=Appointment.Status.CANCELLED)
        .for_agenda()
    )
    # Bookings clients made online that wait for a stylist's yes, whatever their day.
    requests = Appointment.objects.for_store(store).filter(
        status=Appointment.Status.REQUESTED, ends_at__gt=timezone.now()
    )
    if stylist is not None:
        appointments = appointments.filter(stylist=stylist)
        requests = requests.filter(stylist=stylist)
    by_day: dict[datetime.date, list[Appointment]] = defaultdict(list)
    for appointment in appointments:
        by_day[timezone.localtime(appointment.starts_at, store.zone).date()].append(appointment)
    step = datetime.timedelta(days=7 if week else 1)
    feed_url = ""
    if staff.role == StaffMember.Role.STYLIST and (stylist is None or stylist.pk == staff.pk):
        token = services.calendar_feed_for(staff).token
        feed_url = _optional_url("calendar-feed", token)
        if feed_url:
            feed_url = request.build_absolute_uri(feed_url)
    # The store's public booking page, its link and QR code, for staff to show a client.
    # Drawn on full pages only: htmx swaps only the agenda region.
    booking_path = _optional_url("book", store.code)
    # The link follows the host and port serving this page (the demo on any port).
    booking_url = absolute_url(booking_path, request) if booking_path else ""
    if booking_url and (not request.htmx or request.htmx.history_restore_request):
        booking_qr = qr_svg(booking_url, label="QR code of the booking page")
    else:
        booking_qr = ""
    context = {
        "staff": staff,
        "store": store,
        "booking_path": booking_path,
        "booking_url": booking_url,
        "booking_qr": booking_qr,
        "day": day,
        "today": today,
        "week": week,
        "days": [(d, by_day.get(d, [])) for d in days],
        "stylists": stylists,
        "stylist": stylist,
        "chosen": chosen,
        "previous_day": day - step,
        "next_day": day + step,
        "feed_url": feed_url,
        "view": "week" if week else "day",
        "requests": list(requests.for_agenda()[:20]),
    }
    return render_page(request, "appointments/agenda.html", context, partial="agenda")


# --- Booking -------------------------------------------------------------------------------


def _slot_context(form: SlotQueryForm, store: Store, *, ignore: int | None = None) -> dict:
    """The free times for what the form asks (or for its defaults), in the store's time."""
    data = form.cleaned_data if form.is_valid() else {}
    kind = data.get("kind") or form.fields["kind"].queryset.first()
    day = data.get("day") or _local_today(store)
    stylist = data.get("stylist")
    slots = []
    if kind is not None:
        slots = services.slots_free(
            store=store,
            kind=kind,
            day=day,
            stylist_ids=[stylist.pk] if stylist else None,
            ignore_appointment_id=ignore,
        )
    names = {s.pk: s.display_name for s in services.stylists_of(store)}
    return {
        "kind": kind,
        "day": day,
        "slots": [
            {
                "key": slot.key,
                "time": timezone.localtime(slot.starts_at, store.zone),
                "stylist": names.get(slot.stylist_id, ""),
            }
            for slot in slots
        ],
    }


def _book_initial(request: HtmxHttpRequest, staff: StaffMember) -> dict:
    kinds = AppointmentKind.objects.filter(is_active=True)
    initial = {
        "kind": request.GET.get("kind") or getattr(kinds.first(), "pk", None),
        "day": request.GET.get("day") or _local_today(staff.store).isoformat(),
        "stylist": request.GET.get("stylist", ""),
    }
    if "stylist" not in request.GET and staff.role == StaffMember.Role.STYLIST:
        initial["stylist"] = staff.pk
    return initial


@require_http_methods(["GET", "POST"])
@login_required
def appointment_new(request: HtmxHttpRequest) -> HttpResponse:
    """Book a client (`?customer=`): choose what and when, then one of the free times."""
    staff = staff_or_404(request, message=NOT_STAFF)
    store = staff.store
    customer = _get_customer_for_staff(
        request, request.POST.get("customer") or request.GET.get("customer", "")
    )
    if request.method == "POST":
        form = AppointmentBookForm(request.POST, store=store)
        if form.is_valid():
            data = form.cleaned_data
            try:
                appointment = services.appointment_book(
                    customer=customer,
                    kind=data["kind"],
                    stylist=data["slot_stylist"],
                    starts_at=data["starts_at"],
                    booked_by=staff,
                    room=data["room"],
                    staged=data["items"],
                    notes=data["notes"],
                    address=data["address"],
                    video_link=data["video_link"],
                    allow_overlap_for_client=data["book_anyway"],
                )
            except ApplicationError as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, error.message)
                # The client is expected elsewhere then: staff may confirm both on purpose.
                form.client_busy = error.field == "starts_at"
            else:
                local = services.local_label(appointment.starts_at, store)
                messages.success(
                    request,
                    f"Booked: {appointment.kind.name} for {customer.first_name}, {local} "
                    f"with {appointment.stylist.display_name}.",
                )
                return _redirect(
                    request, reverse("appointments:appointment", args=[appointment.pk])
                )
        query = SlotQueryForm(request.POST, store=store)
    else:
        initial = _book_initial(request, staff)
        query = SlotQueryForm(initial, store=store)
        form = AppointmentBookForm(initial=initial, store=store)
        query.is_valid()
    context = {
        "customer": customer,
        "form": form,
        "query": query,
        "chosen_slot": form["slot"].value() if form.is_bound else "",
        **_slot_context(query, store),
    }
    # The kind, day and stylist fields refresh the times alone (hx-target="#slots").
    partial = "slots" if request.method == "GET" and request.htmx else None
    return render_page(request, "appointments/appointment_form.html", context, partial=partial)


# --- An appointment ----------------------------------------------------------------------------


def _detail_context(appointment: Appointment, staff: StaffMember) -> dict:
    staged = []
    if appointment.reservation_id and appointment.reservation.cancelled_at is None:
        staged = list(appointment.reservation.staged_items.select_related("product"))
    steps = [(step, STEP_LABELS[step]) for step in STEPS.get(appointment.status, [])]
    return {
        "appointment": appointment,
        "staff": staff,
        "steps": steps,
        "staged": staged,
        "sent": [
            (MESSAGE_LABELS.get(message.purpose, message.purpose), message)
            for message in messages_for_cause(f"appointment:{appointment.pk}:")
        ],
        "can_move": appointment.status
        in (Appointment.Status.REQUESTED, Appointment.Status.BOOKED, Appointment.Status.CONFIRMED),
        "makeover_url": _optional_url("appointments:makeover", appointment.pk)
        if appointment.kind.is_makeover
        else "",
        "local_starts": appointment.local_starts_at,
        "local_ends": appointment.local_ends_at,
    }


@require_GET
@login_required
def appointment_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """An appointment: who, what, when and where, its steps and the messages it sent."""
    staff = staff_or_404(request, message=NOT_STAFF)
    appointment = _get_appointment_for_staff(request, pk)
    if appointment.customer is not None:
        audit_record(
            request=request,
            action="view",
            customer=appointment.customer,
            detail={"page": "appointment", "appointment": appointment.pk},
        )
    return render_page(
        request, "appointments/appointment_detail.html", _detail_context(appointment, staff)
    )


@require_POST
@login_required
def appointment_step(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Approve, confirm, check in, complete or mark a no-show (`action`)."""
    staff = staff_or_404(request, message=NOT_STAFF)
    appointment = _get_appointment_for_staff(request, pk)
    action = request.POST.get("action", "")
    try:
        services.appointment_advance(appointment=appointment, action=action, by=staff)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{STEP_LABELS.get(action, 'Done')}.")
    return _redirect(request, reverse("appointments:appointment", args=[appointment.pk]))


@require_http_methods(["GET", "POST"])
@login_required
def appointment_cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    staff = staff_or_404(request, message=NOT_STAFF)
    appointment = _get_appointment_for_staff(request, pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cancelled = services.appointment_cancel(
                appointment=appointment, reason=form.cleaned_data["reason"], by=staff
            )
        except ApplicationError as error:
            form.add_error("reason", error.message)
        else:
            if cancelled:
                messages.success(request, "Cancelled. The time is free again.")
            else:
                messages.error(request, "This appointment can no longer be cancelled.")
            return _redirect(request, reverse("appointments:appointment", args=[appointment.pk]))
    return render_page(
        request,
        "appointments/appointment_cancel.html",
        {"appointment": appointment, "form": form},
    )


@require_http_methods(["GET", "POST"])
@login_required
def appointment_reschedule(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Move an appointment to another free time of the store's stylists."""
    staff = staff_or_404(request, message=NOT_STAFF)
    appointment = _get_appointment_for_staff(request, pk)
    store = appointment.store
    if request.method == "POST":
        form = RescheduleForm(request.POST, store=store)
        if form.is_valid():
            try:
                services.appointment_reschedule(
                    appointment=appointment,
                    starts_at=form.cleaned_data["starts_at"],
                    stylist=form.cleaned_data["slot_stylist"],
                    by=staff,
                )
            except ApplicationError as error:
                form.add_error("slot" if error.field == "slot" else None, error.message)
            else:
                messages.success(
                    request,
                    f"Moved to {services.local_label(appointment.starts_at, store)}. "
                    "The client hears the new time.",
                )
                return _redirect(
                    request, reverse("appointments:appointment", args=[appointment.pk])
                )
        day = _day_param(request.POST.get("day"), appointment.local_starts_at.date())
    else:
        form = RescheduleForm(store=store)
        day = _day_param(request.GET.get("day"), appointment.local_starts_at.date())
    query = SlotQueryForm({"kind": appointment.kind_id, "day": day.isoformat()}, store=store)
    query.is_valid()
    context = {
        "appointment": appointment,
        "form": form,
        "query": query,
        "chosen_slot": form["slot"].value() if form.is_bound else "",
        **_slot_context(query, store, ignore=appointment.pk),
    }
    partial = "slots" if request.method == "GET" and request.htmx else None
    return render_page(
        request, "appointments/appointment_reschedule.html", context, partial=partial
    )


# --- A client's appointments and personal styling ----------------------------------------------


@require_GET
@login_required
def client_appointments(request: HtmxHttpRequest, customer_pk: int) -> HttpResponse:
    """A client's upcoming and recent appointments, and their personal stylist. The client
    card loads it as a section (htmx, on load); it is a page of its own too."""
    staff = staff_or_404(request, message=NOT_STAFF)
    customer = _get_customer_for_staff(request, customer_pk)
    now = timezone.now()
    rows = list(
        Appointment.objects.filter(customer=customer)
        .select_related("kind", "stylist__user", "store")
        .order_by("-starts_at")[: CLIENT_HISTORY * 2]
    )
    upcoming = sorted(
        (a for a in rows if a.ends_at > now and a.is_expected), key=lambda a: a.starts_at
    )
    past = [a for a in rows if a not in upcoming][:CLIENT_HISTORY]
    enrollment = (
        StylingEnrollment.objects.filter(customer=customer, ended_at__isnull=True)
        .select_related("stylist__user")
        .first()
    )
    context = {
        "customer": customer,
        "upcoming": upcoming,
        "past": past,
        "enrollment": enrollment,
        "enroll_form": StylingEnrollForm(
            store=staff.store,
            initial={"stylist": staff.pk if staff.role == StaffMember.Role.STYLIST else None},
        ),
        "staff": staff,
    }
    return render_page(
        request,
        "appointments/client_appointments.html",
        context,
        partial="client-appointments",
    )


@require_POST
@login_required
def styling_enroll(request: HtmxHttpRequest, customer_pk: int) -> HttpResponse:
    staff = staff_or_404(request, message=NOT_STAFF)
    customer = _get_customer_for_staff(request, customer_pk)
    form = StylingEnrollForm(request.POST, store=staff.store)
    url = reverse("appointments:client-appointments", args=[customer.pk])
    if form.is_valid():
        enrollment = services.styling_enroll(
            customer=customer,
            stylist=form.cleaned_data["stylist"],
            goals=form.cleaned_data["goals"],
            by=staff,
        )
        messages.success(
            request,
            f"{customer.first_name} is in personal styling with {enrollment.stylist.display_name}.",
        )
    else:
        messages.error(request, "Choose one of the store's stylists.")
    return _redirect(request, url)


@require_GET
@login_required
def styling(request: HtmxHttpRequest) -> HttpResponse:
    """A stylist's personal styling clients, each with their next session (two queries)."""
    staff = staff_or_404(request, message=NOT_STAFF)
    stylists = list(services.stylists_of(staff.store))
    chosen = request.GET.get("stylist") or str(staff.pk)
    stylist = next((s for s in stylists if str(s.pk) == chosen), None)
    now = timezone.now()
    next_session = (
        Appointment.objects.filter(customer=OuterRef("customer"), stylist=OuterRef("stylist"))
        .upcoming(now)
        .order_by("starts_at")
    )
    enrollments = []
    if stylist is not None:
        enrollments = list(
            StylingEnrollment.objects.filter(stylist=stylist, ended_at__isnull=True)
            .select_related("customer")
            .annotate(
                next_starts_at=Subquery(next_session.values("starts_at")[:1]),
                next_id=Subquery(next_session.values("pk")[:1]),
                sessions=Count(
                    "customer__appointments",
                    filter=Q(
                        customer__appointments__stylist=stylist,
                        customer__appointments__status=Appointment.Status.COMPLETED,
                    ),
                ),
            )
            .order_by("next_starts_at", "customer__last_name")
        )
    context = {
        "staff": staff,
        "stylists": stylists,
        "stylist": stylist,
        "enrollments": enrollments,
        "store": staff.store,
    }
    return render_page(request, "appointments/styling.html", context)
