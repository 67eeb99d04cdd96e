from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .access import request_staff


class StoreTimezoneMiddleware:
    """Show every date and time in the signed-in staff member's store time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        staff = request_staff(request)
        if staff is not None:
            with timezone.override(staff.store.zone):
                return self.get_response(request)
        return self.get_response(request)
