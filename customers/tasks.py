"""Celery tasks for clients: thin wrappers that take ids and call services."""

from __future__ import annotations

import logging

from celery import shared_task

from .services.reasons import reasons_refresh

logger = logging.getLogger(__name__)

# Batch refreshes walk every client: give them room, but not forever.
BATCH_LIMITS = {"soft_time_limit": 600, "time_limit": 900}


@shared_task(**BATCH_LIMITS)
def reasons_refresh_all() -> dict:
    """Hourly: open and close reasons for every client.

    At-least-once: a refresh is idempotent, so a repeat after a lost worker changes nothing.
    """
    return reasons_refresh()


@shared_task(soft_time_limit=60, time_limit=90)
def reasons_refresh_for_customers(customer_ids: list[int]) -> dict:
    """After new orders, events or status changes: refresh the reasons of these clients only.

    At-least-once and idempotent, like the full refresh.
    """
    return reasons_refresh(customer_ids=customer_ids)
