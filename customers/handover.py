"""Hand-over mode: the tablet goes to the client for the questionnaire, locked.

A staff member hands the tablet over from the questionnaire. From then on the session
carries a flag (`SESSION_KEY`: the client, the store, who handed over); while it is set,
`HandoverLockMiddleware` lets through only the client's own questionnaire, its thank-you
screen and the staff sign-in that ends the mode, and sends every other page back to the
questionnaire. A client cannot reach staff pages by typing an address, going back or
following a link left in the page.

The mode ends only with a staff sign-in: the password of who handed over, or of any
active staff member of that store (who is then the one signed in).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django_htmx.http import HttpResponseClientRedirect

SESSION_KEY = "handover"
# The pages a client may see while holding the tablet (URL names in `customers`).
ALLOWED_URL_NAMES = frozenset({"questionnaire", "handover-thanks", "handover-exit"})


@dataclass(frozen=True)
class Handover:
    customer_id: int
    store_id: int
    staff_user_id: int


def handover_start(request: HttpRequest, *, customer_id: int, store_id: int) -> None:
    """Lock this session to the client's questionnaire until a staff member signs in."""
    request.session[SESSION_KEY] = {
        "customer": customer_id,
        "store": store_id,
        "staff_user": request.user.pk,
    }


def handover_active(request: HttpRequest) -> Handover | None:
    data = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if not isinstance(data, dict):
        return None
    try:
        return Handover(int(data["customer"]), int(data["store"]), int(data["staff_user"]))
    except (KeyError, TypeError, ValueError):
        return None


def handover_end(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


def handover_home(handover: Handover) -> str:
    """Where a client who strays is sent: the first question (the answers so far are kept)."""
    return reverse("customers:questionnaire", args=[handover.customer_id, "sizes"])


class HandoverLockMiddleware:
    """While a session is handed over, only the client's own pages answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        handover = handover_active(request)
        if handover is not None and not self._allowed(request, handover):
            url = handover_home(handover)
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(url)
            return redirect(url)
        return self.get_response(request)

    @staticmethod
    def _allowed(request: HttpRequest, handover: Handover) -> bool:
        if request.path.startswith(settings.STATIC_URL):
            return True
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        if match.namespace != "customers" or match.url_name not in ALLOWED_URL_NAMES:
            return False
        # Only this client's pages: another id in the address is another client's record.
        return match.kwargs.get("pk") == handover.customer_id
