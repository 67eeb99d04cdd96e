"""Who is asking: the staff record behind a request, loaded once per request."""

from __future__ import annotations

from django.http import HttpRequest

from .models import StaffMember


def request_staff(request: HttpRequest) -> StaffMember | None:
    """The signed-in person's staff record with their store (one query, then cached)."""
    if not hasattr(request, "_staff_member"):
        staff = None
        if request.user.is_authenticated:
            staff = (
                StaffMember.objects.select_related("store").filter(user_id=request.user.pk).first()
            )
        request._staff_member = staff
    return request._staff_member
