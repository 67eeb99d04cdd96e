"""Who is asking: the staff record behind a request, loaded once per request."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest
from django.utils.functional import SimpleLazyObject

from .models import StaffMember


def request_staff(request: HttpRequest) -> StaffMember | None:
    """The signed-in person's staff record with their store: read with the user by the
    session's backend (`clienteling.stores.auth`), else one query; then kept."""
    if not hasattr(request, "_staff_member"):
        staff = None
        user = request.user
        if user.is_authenticated:
            while isinstance(user, SimpleLazyObject):  # loaded by is_authenticated
                user = user._wrapped
            model = get_user_model()
            if isinstance(user, model) and model.staff.is_cached(user):
                staff = getattr(user, "staff", None)
            else:
                staff = StaffMember.objects.select_related("store").filter(user_id=user.pk).first()
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
