"""Who is asking: the staff record behind a request, loaded once per request."""

from __future__ import annotations

from django.http import Http404, HttpRequest

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


def staff_or_404(request: HttpRequest, *, message: str) -> StaffMember:
    """The signed-in person's staff record (with their store), or a 404 saying `message`.

    404 rather than 403: to anyone who is not staff of a store, staff pages do not exist.
    Each caller then scopes every object to `staff.store_id`. Public pages (booking, the
    room tablet, a client's links) know their visitor by a secret token instead.
    """
    staff = request_staff(request)
    if staff is None:
        raise Http404(message)
    return staff
