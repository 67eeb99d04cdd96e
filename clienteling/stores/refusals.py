"""Refused access: a signed-in person asked for a record that is not theirs to see.

They get the same 404 as for a record that does not exist (another store's client must
not even be confirmed to exist); here it is recorded (who, what, which id, where, when),
bounded so that a scan cannot flood the table, and one person touching many such ids
within a few minutes opens a `SecurityAlert` that their store's manager sees on Today
and in the admin. It is also logged on the `clienteling.security` logger for a SIEM.

Every access helper that scopes a record to the signed-in person (the card and its
partials, appointments, makeovers, the export API, the admin's change pages) calls
`get_visible_or_404` or `access_refused`.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.http import Http404, HttpRequest
from django.utils import timezone

from .access import request_staff
from .models import RefusedAccess, SecurityAlert

logger = logging.getLogger("clienteling.security")

M = TypeVar("M", bound=models.Model)


def _where(request: HttpRequest) -> str:
    if request.path.startswith("/api/"):
        return RefusedAccess.Where.API
    if request.path.startswith("/admin/"):
        return RefusedAccess.Where.ADMIN
    if getattr(request, "htmx", False):
        return RefusedAccess.Where.PARTIAL
    return RefusedAccess.Where.PAGE


def access_refused(
    request: HttpRequest, *, target: str, ref: Any, where: str | None = None
) -> RefusedAccess | None:
    """Record that the person behind `request` was refused `target` #`ref`.

    Returns the row written, or None when the refusal was folded into the person's last
    row (they passed SECURITY_REFUSALS_KEPT_PER_WINDOW in the window) or nobody is signed
    in (anonymous visitors are turned away before any record is looked up)."""
    user = request.user
    if not user.is_authenticated:
        return None
    now = timezone.now()
    window_start = now - datetime.timedelta(seconds=settings.SECURITY_REFUSALS_WINDOW_SECONDS)
    staff = request_staff(request)
    store_id = staff.store_id if staff else None
    where = where or _where(request)
    recent = RefusedAccess.objects.filter(actor_id=user.pk, at__gte=window_start)
    logger.warning(
        "access refused: user=%s store=%s target=%s ref=%s where=%s path=%s",
        user.pk,
        store_id,
        target,
        str(ref)[:40],
        where,
        request.path[:300],
    )
    row = None
    last = recent.order_by("-at").values_list("pk", flat=True)
    if recent.count() >= settings.SECURITY_REFUSALS_KEPT_PER_WINDOW:
        RefusedAccess.objects.filter(pk__in=last[:1]).update(repeats=F("repeats") + 1)
    else:
        row = RefusedAccess.objects.create(
            at=now,
            actor_id=user.pk,
            store_id=store_id,
            target=target[:60],
            target_ref=str(ref)[:40],
            where=where,
            path=request.get_full_path()[:300],
            ip_address=request.META.get("REMOTE_ADDR") or None,
        )
    _alert_if_scanning(user_id=user.pk, store_id=store_id, recent=recent, now=now)
    return row


def _alert_if_scanning(*, user_id: int, store_id: int | None, recent, now) -> None:
    """Open (or add to) the person's alert once they were refused many different ids."""
    window = datetime.timedelta(seconds=settings.SECURITY_REFUSALS_WINDOW_SECONDS)
    opened = SecurityAlert.objects.open().filter(actor_id=user_id)
    opened_at = opened.values_list("opened_at", flat=True).first()
    if opened_at is not None:
        # Add to it: the different ids refused since it opened (and in the window before).
        seen = RefusedAccess.objects.filter(actor_id=user_id, at__gte=opened_at - window)
        opened.update(
            last_at=now,
            refusals=F("refusals") + 1,
            distinct_targets=seen.values("target", "target_ref").distinct().count(),
        )
        return
    distinct = recent.values("target", "target_ref").distinct().count()
    if distinct < settings.SECURITY_REFUSALS_ALERT_AFTER:
        return
    try:
        with transaction.atomic():
            SecurityAlert.objects.create(
                actor_id=user_id,
                store_id=store_id,
                opened_at=now,
                last_at=now,
                distinct_targets=distinct,
                refusals=distinct,
            )
    except IntegrityError:
        # Another request opened it a moment ago (one open alert per person): add to it.
        SecurityAlert.objects.open().filter(actor_id=user_id).update(
            last_at=now, refusals=F("refusals") + 1
        )
        return
    logger.error(
        "security alert: user=%s store=%s was refused %s different records within %s s",
        user_id,
        store_id,
        distinct,
        settings.SECURITY_REFUSALS_WINDOW_SECONDS,
    )


def get_visible_or_404(
    request: HttpRequest,
    visible: models.QuerySet[M],
    *,
    target: str,
    everyone: models.QuerySet[M] | None = None,
    where: str | None = None,
    message: str = "Not found.",
    **lookup: Any,
) -> M:
    """The record matching `lookup` among those `visible` to the signed-in person, or 404.

    When it is not visible but exists among `everyone` (by default every row of the
    model), the refusal is recorded. The extra query runs only on the way to a 404."""
    try:
        return visible.get(**lookup)
    except visible.model.DoesNotExist:
        pass
    except (ValueError, TypeError) as wrong:  # an id that is not a number
        raise Http404(message) from wrong
    others = everyone if everyone is not None else visible.model._default_manager.all()
    if others.filter(**lookup).exists():
        ref = lookup.get("pk", lookup.get("id", next(iter(lookup.values()), "")))
        access_refused(request, target=target, ref=ref, where=where)
    raise Http404(message)


def security_alerts_for_store(store_id: int) -> models.QuerySet[SecurityAlert]:
    """The open alerts a store's manager answers for, newest first (one query)."""
    return SecurityAlert.objects.open().filter(store_id=store_id).select_related("actor")
