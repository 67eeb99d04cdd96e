"""The room tablet: a public page (no login) that pages staff for its own room.

It knows its room by the secret token in its link (rotatable from the admin, which
retires the old link at once). It shows the room's own pages of the current visit and
who is coming, and never anything about a client: no name, no history, not even
whether a phone number matched. Every POST is rate-limited per room (keyed on the
token), so a stuck button cannot flood the floor; repeated identical requests still
waiting are not sent twice either (see `services.page_send`).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from clienteling.core.http import HtmxHttpRequest, render_page

from .. import selectors, services, versions
from ..forms.rooms import TabletCheckInForm, TabletPageForm
from ..models import Room
from .rooms import POLL_INTERVAL, poll_is_current, unchanged

RATE_GROUP = "appointments.tablet"
LIMITED_MESSAGE = (
    "You have sent several requests just now. An associate is on the way: "
    "please wait a moment before asking again."
)


def _room_for_token(token: str) -> Room:
    return get_object_or_404(
        Room.objects.select_related("store"),
        tablet_token=token,
        is_active=True,
        store__is_active=True,
    )


def _token_key(group: str, request: HttpRequest) -> str:
    """Rate-limit per room: the token in the URL, whoever's hand taps."""
    return request.resolver_match.kwargs["token"]


def _rate(group: str, request: HttpRequest) -> str:
    return settings.ROOMS_TABLET_RATE


def _status_context(room: Room) -> dict:
    visit = room.visits.open().first()
    return {
        "room": room,
        "visit": visit,
        "pages": selectors.tablet_pages(room) if visit else [],
        "poll": {
            "version": versions.read(versions.room_key(room.pk)),
            "rendered_at": int(timezone.now().timestamp()),
            "interval": POLL_INTERVAL,
        },
    }


def _render_tablet(
    request: HttpRequest,
    room: Room,
    *,
    page_form: TabletPageForm | None = None,
    check_in_form: TabletCheckInForm | None = None,
    limited: bool = False,
    status: int = 200,
) -> HttpResponse:
    # The version is read before the rows, as every poll does.
    context = _status_context(room)
    staged = selectors.tablet_staged_items(room, timezone.now())
    context.update(
        page_form=page_form or TabletPageForm(staged_items=staged),
        check_in_form=check_in_form or TabletCheckInForm(store=room.store),
        limited=limited,
        kinds=TabletPageForm.base_fields["kind"].choices,
    )
    response = render(request, "appointments/tablet.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def tablet(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The tablet's page; its status region polls this same URL.

    A poll costs one query (the room by its token) when nothing changed in the room.
    """
    room = _room_for_token(token)
    if poll_is_current(request, versions.read(versions.room_key(room.pk))):
        return unchanged()
    if request.htmx and not request.htmx.history_restore_request:
        response = render_page(
            request, "appointments/tablet.html", _status_context(room), partial="tablet-status"
        )
        response["Cache-Control"] = "no-store"
        return response
    return _render_tablet(request, room)


@require_POST
@ratelimit(group=RATE_GROUP, key=_token_key, rate=_rate, method="POST", block=False)
def tablet_page(request: HttpRequest, token: str) -> HttpResponse:
    """Send a page: another size, another colour, help, or ready to check out."""
    room = _room_for_token(token)
    staged = selectors.tablet_staged_items(room, timezone.now())
    form = TabletPageForm(request.POST, staged_items=staged)
    if getattr(request, "limited", False):
        return _render_tablet(request, room, page_form=form, limited=True, status=429)
    if not form.is_valid():
        return _render_tablet(request, room, page_form=form)
    data = form.cleaned_data
    services.page_send(
        room=room,
        kind=data["kind"],
        staged_item=data["staged_item"],
        product=data.get("product"),
        sku=data["sku"],
        size=data["size"],
        colour=data["colour"],
    )
    return redirect("room-tablet", token=room.tablet_token)


@require_POST
@ratelimit(group=RATE_GROUP, key=_token_key, rate=_rate, method="POST", block=False)
def tablet_check_in(request: HttpRequest, token: str) -> HttpResponse:
    """Check in, optionally with a mobile number (and consent to the channels it reaches)."""
    room = _room_for_token(token)
    form = TabletCheckInForm(request.POST, store=room.store)
    if getattr(request, "limited", False):
        return _render_tablet(request, room, check_in_form=form, limited=True, status=429)
    if not form.is_valid():
        return _render_tablet(request, room, check_in_form=form)
    services.visit_check_in(
        room=room,
        phone=form.cleaned_data["phone"] or None,
        consents=form.consent_answers(),
    )
    return redirect("room-tablet", token=room.tablet_token)
