"""Celery tasks for Web Push: thin, they take ids."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(soft_time_limit=30, time_limit=45)
def notices_deliver(notice_ids: list[int]) -> int:
    """Send these notices (enqueued after the commit that wrote them).

    At-most-once per notice (each is claimed by deleting it): see `notice_deliver`.
    """
    return sum(services.notice_deliver(notice_id=notice_id) for notice_id in notice_ids)


@shared_task(soft_time_limit=50, time_limit=60)
def notices_sweep() -> int:
    """Every minute (beat): notices whose task never ran go now, stale ones are dropped.

    At-most-once per notice, like `notices_deliver` (each is claimed by deleting it).
    """
    return services.notices_sweep()
