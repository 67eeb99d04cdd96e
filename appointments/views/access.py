"""Who may open the staff pages of appointments (rooms, schedule, makeovers).

The public pages (booking, the client's makeover page, the room tablet, the calendar
feed) know their visitor by a secret token instead and do not use this.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest

from clienteling.stores.access import request_staff
from clienteling.stores.models import StaffMember


def staff_or_404(request: HttpRequest, *, message: str) -> StaffMember:
    """The signed-in person's staff record (with their store), or a 404 saying `message`.

    404 rather than 403: to anyone who is not staff of a store, these pages do not exist.
    Each caller then scopes every object to `staff.store_id`.
    """
    staff = request_staff(request)
    if staff is None:
        raise Http404(message)
    return staff
