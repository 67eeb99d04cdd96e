"""Web Push to staff devices: subscribe a device, queue a notification, deliver it.

Every part of the app that wants a phone to ring calls `notify` (or `quiet` once the
thing is taken care of) inside its own transaction; the rows it writes are delivered by
the worker after commit (`tasks.notices_deliver`). With no VAPID keys in the settings,
push is off: `notify` does nothing and the page offers nothing.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clienteling.core.tasks import enqueue_on_commit

from .models import Notice, PushSubscription

logger = logging.getLogger(__name__)

# What the push service keeps for a phone that is off: a page is stale after a few minutes.
NOTICE_TTL_SECONDS = 10 * 60
# Notice text is cut to fit the columns (and a lock screen).
TITLE_MAX, BODY_MAX = 120, 240


def push_enabled() -> bool:
    """Push is on when the store set a VAPID key pair (README, "Notifications")."""
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


def subscription_save(
    *, user, endpoint: str, p256dh: str, auth: str, label: str = ""
) -> PushSubscription:
    """Remember this device for this person. The same browser again (or someone else now
    signed in on it) updates its one row: a shared device rings for whoever uses it."""
    subscription, _ = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={"user": user, "p256dh": p256dh, "auth": auth, "label": label[:200]},
    )
    return subscription


def subscription_remove(*, user, endpoint: str) -> int:
    """Forget this device (notifications turned off, or the person signed out of it)."""
    return PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()[0]


def _queue(notices: list[Notice]) -> None:
    if not notices:
        return
    created = Notice.objects.bulk_create(notices)
    from .tasks import notices_deliver as notices_deliver_task

    enqueue_on_commit(notices_deliver_task, [notice.pk for notice in created])


def _with_devices(user_ids: Iterable[int]) -> list[int]:
    """Of these people, those with at least one device to ring (one query)."""
    return list(
        PushSubscription.objects.for_users(set(user_ids))
        .values_list("user_id", flat=True)
        .distinct()
    )


def notify(
    *, user_ids: Iterable[int], kind: str, tag: str, title: str, body: str = "", url: str = ""
) -> int:
    """Ring these people's devices after the current transaction commits.

    The caller decides who may read what: `title` and `body` say what and where, with at
    most a client's first name, and go only to `user_ids`. Returns how many people.
    """
    if not push_enabled():
        return 0
    now = timezone.now()
    notices = [
        Notice(
            user_id=user_id,
            kind=kind,
            tag=tag[:100],
            title=title[:TITLE_MAX],
            body=body[:BODY_MAX],
            url=url[:300],
            created_at=now,
        )
        for user_id in _with_devices(user_ids)
    ]
    _queue(notices)
    return len(notices)


def quiet(*, user_ids: Iterable[int], tag: str, title: str, body: str = "") -> int:
    """Someone took care of it: the notification with this tag goes quiet on every device
    of these people (replaced by a silent one saying so)."""
    return notify(user_ids=user_ids, kind=Notice.Kind.CLOSE, tag=tag, title=title, body=body)


def _vapid_claims() -> dict:
    return {"sub": settings.VAPID_SUBJECT}


# A notice whose task never ran (broker down) is sent by the sweep after this long...
NOTICE_SWEEP_AFTER_SECONDS = 30


def notices_sweep(*, now=None) -> int:
    """Every minute (beat): send notices whose task never ran; drop those too old to
    matter (a page from NOTICE_TTL_SECONDS ago is no news). Returns how many it sent."""
    now = now or timezone.now()
    Notice.objects.filter(
        created_at__lt=now - datetime.timedelta(seconds=NOTICE_TTL_SECONDS)
    ).delete()
    due = list(
        Notice.objects.filter(
            created_at__lt=now - datetime.timedelta(seconds=NOTICE_SWEEP_AFTER_SECONDS)
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    return sum(notice_deliver(notice_id=notice_id) for notice_id in due)


def notice_deliver(*, notice_id: int) -> int:
    """Send one notice to every device of its person; returns how many devices took it.

    At-most-once: the row is claimed by deleting it, so a repeated task sends nothing
    (a lost page notification is better than a phone ringing twice; the pager still
    shows it). A device the push service says is gone (404, 410) is forgotten; other
    failures are logged and the next notice tries again.
    """
    from pywebpush import WebPushException, webpush

    notice = Notice.objects.filter(pk=notice_id).first()
    if notice is None:
        return 0
    with transaction.atomic():
        claimed = Notice.objects.filter(pk=notice_id).delete()[0]
    if not claimed or not push_enabled():
        return 0
    data = json.dumps(notice.payload())
    sent = 0
    for subscription in PushSubscription.objects.for_users([notice.user_id]):
        try:
            webpush(
                subscription_info=subscription.subscription_info,
                data=data,
                vapid_private_key=settings.VAPID_PRIVATE_KEY,
                vapid_claims=_vapid_claims(),
                ttl=NOTICE_TTL_SECONDS,
                timeout=settings.PUSH_TIMEOUT_SECONDS,
                headers={"Urgency": "high"},
            )
        except WebPushException as error:
            status = getattr(error.response, "status_code", None)
            if status in (404, 410):
                subscription.delete()
                logger.info("push subscription %s is gone (%s): removed", subscription.pk, status)
            else:
                logger.warning("push to subscription %s failed: %s", subscription.pk, status)
            continue
        except Exception as error:  # network: the push service is down or unreachable
            logger.warning(
                "push to subscription %s failed: %s", subscription.pk, type(error).__name__
            )
            continue
        PushSubscription.objects.filter(pk=subscription.pk).update(last_success_at=timezone.now())
        sent += 1
    return sent
