"""Celery tasks for fitting rooms: thin wrappers that take ids and call services."""

from __future__ import annotations

import logging
import math

from celery import shared_task
from django.utils import timezone

from . import services
from .models import Page

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=30, time_limit=45)
def page_escalate(page_id: int) -> bool:
    """Escalate one page to every associate of the store if nobody took it in time.

    Enqueued after the page commits with a countdown of ROOMS_PAGE_ESCALATE_AFTER_SECONDS
    (far below Redis's visibility timeout, so the broker does not deliver it twice).
    At-least-once: the claim is a conditional UPDATE, so a repeat (or the beat sweep
    getting there first) changes nothing. A worker whose clock runs ahead of the web
    server's could run it a moment early: it then re-enqueues itself for the remainder.
    """
    page = Page.objects.filter(pk=page_id).first()
    if page is None:
        logger.info("page %s is gone; nothing to escalate", page_id)
        return False
    if page.acknowledged_at or page.escalated_at or not page.is_open:
        return False
    remaining = (page.created_at + services.escalate_after() - timezone.now()).total_seconds()
    if remaining > 0:
        page_escalate.apply_async((page_id,), countdown=math.ceil(remaining))
        return False
    return services.page_escalate(page_id=page_id)


@shared_task(soft_time_limit=50, time_limit=60)
def pages_escalate_due() -> int:
    """Every minute (beat): escalate pages whose countdown task never ran.

    At-least-once and idempotent: each page is claimed by a conditional UPDATE.
    """
    return services.pages_escalate_due()
