"""A stylist's appointments as a calendar feed (.ics) their phone subscribes to.

Public (calendar apps don't sign in): the stylist is known by the secret token in the
feed's address, which a manager rotates from the admin, retiring the old address at once.
The feed lives on a personal phone, so it says as little about clients as it can: the
kind and the client's first name and last initial, never an email, a phone or notes.
Each event keeps its UID for good and its SEQUENCE follows the appointment's revision,
so calendar apps update a moved or cancelled appointment in place.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from clienteling.core.http import absolute_url

from ..models import Appointment, AppointmentKind, CalendarFeed
from .booking import store_address

PAST = datetime.timedelta(days=30)
AHEAD = datetime.timedelta(days=180)
PRODID = "-//Clienteling//Stylist appointments//EN"
# Cancelled appointments stay in the feed as CANCELLED: calendar apps then drop the event
# they hold instead of keeping a stale one.
STATUS = {
    Appointment.Status.REQUESTED: "TENTATIVE",
    Appointment.Status.CANCELLED: "CANCELLED",
}


def calendar_feed_url(feed: CalendarFeed, request: HttpRequest | None = None) -> str:
    return absolute_url(reverse("calendar-feed", args=[feed.token]), request)


def _site_host() -> str:
    """The host in every UID: the configured site, not whichever name a request used."""
    return urlsplit(settings.SITE_URL).hostname or "clienteling"


def _staff_url(appointment: Appointment, request: HttpRequest | None) -> str:
    try:
        path = reverse("appointments:appointment", args=[appointment.pk])
    except NoReverseMatch:
        return ""
    return absolute_url(path, request)


def client_label(appointment: Appointment) -> str:
    """“Claire D.”: enough for the stylist to know who, little for anyone else."""
    customer = appointment.customer
    if customer is None:
        return "a client"
    initial = customer.last_name.strip()[:1].upper()
    return f"{customer.first_name} {initial}." if initial else customer.first_name


def location(appointment: Appointment) -> str:
    """The store's address, the client's for an in-home try-on, or the video link."""
    if appointment.kind.place == AppointmentKind.Place.HOME:
        return appointment.address
    if appointment.kind.place == AppointmentKind.Place.VIRTUAL:
        return appointment.video_link or "Video call (link to follow)"
    address = store_address(appointment.store)
    return f"{appointment.store.name}, {address}" if address else appointment.store.name


def appointment_event(
    appointment: Appointment,
    *,
    host: str,
    now: datetime.datetime,
    request: HttpRequest | None = None,
):
    return icalendar.Event.new(
        uid=f"appointment-{appointment.pk}@{host}",
        sequence=appointment.revision,
        stamp=now,
        last_modified=appointment.updated_at.astimezone(datetime.UTC),
        start=appointment.starts_at.astimezone(datetime.UTC),
        end=appointment.ends_at.astimezone(datetime.UTC),
        summary=f"{appointment.kind.name} · {client_label(appointment)}",
        location=location(appointment),
        status=STATUS.get(appointment.status, "CONFIRMED"),
        url=_staff_url(appointment, request) or None,
    )


def feed_calendar(
    feed: CalendarFeed,
    *,
    now: datetime.datetime | None = None,
    request: HttpRequest | None = None,
) -> icalendar.Calendar:
    """The stylist's appointments from 30 days ago to 180 days ahead (one query)."""
    now = (now or timezone.now()).astimezone(datetime.UTC).replace(microsecond=0)
    stylist = feed.stylist
    appointments = (
        Appointment.objects.filter(
            stylist=stylist, starts_at__gte=now - PAST, starts_at__lt=now + AHEAD
        )
        .select_related("kind", "customer", "store")
        .order_by("starts_at", "pk")
    )
    host = _site_host()
    calendar = icalendar.Calendar.new(
        prodid=PRODID,
        method="PUBLISH",
        uid=f"calendar-feed-{feed.pk}@{host}",  # stable: the same calendar at every fetch
        name=f"Appointments · {stylist.store.name}",
        subcomponents=[
            appointment_event(appointment, host=host, now=now, request=request)
            for appointment in appointments
        ],
    )
    return calendar


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = get_object_or_404(
        CalendarFeed.objects.select_related("stylist__store", "stylist__user"),
        token=token,
        stylist__user__is_active=True,
    )
    response = HttpResponse(
        feed_calendar(feed, request=request).to_ical(), content_type="text/calendar; charset=utf-8"
    )
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
