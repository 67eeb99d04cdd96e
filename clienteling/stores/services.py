"""Writes on staff: leaving the store ends every session of the person, on the server."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from .models import StaffMember

SESSION_BATCH = 2000


def sessions_end_for_user(*, user_id: int) -> int:
    """Delete every live session of this user from the store (database and cache).

    Sessions are not indexed by user, so this reads the live ones in batches: a rare
    action (someone leaves or is locked out), and the auth backend already refuses an
    inactive account on its next request. Returns how many sessions ended.
    """
    engine = import_module(settings.SESSION_ENGINE)
    ended = 0
    live = Session.objects.filter(expire_date__gt=timezone.now()).order_by("pk")
    for session in live.iterator(chunk_size=SESSION_BATCH):
        if str(session.get_decoded().get("_auth_user_id")) == str(user_id):
            # Through the session engine: cached_db sessions live in the cache as well.
            engine.SessionStore(session_key=session.session_key).delete()
            ended += 1
    return ended


@transaction.atomic
def staff_deactivate(*, staff: StaffMember) -> int:
    """A staff member leaves: their account is switched off and signed out everywhere.

    Their clients stay with the store (reassign the book from the admin). Returns how
    many sessions ended.
    """
    get_user_model().objects.filter(pk=staff.user_id).update(is_active=False)
    return sessions_end_for_user(user_id=staff.user_id)
