"""Public booking pages: a store's page where clients book themselves, and each client's
personal link to see, move or cancel their appointment. No login: the store is known by
its code, the appointment by the secret token in the client's link."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def appointment_manage(request: HttpRequest, token: str) -> HttpResponse:
    raise Http404("Not built yet.")
