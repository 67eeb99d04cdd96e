"""Celery tasks for clients: thin wrappers that take ids and call services."""

from __future__ import annotations

import datetime
import logging
from collections import Counter

from celery import group, shared_task
from django.utils import timezone

from .services import outreach
from .services.offers import offers_sweep
from .services.reasons import reasons_refresh
from .services.recommendations import (
    recommendations_refresh,
    recommendations_refresh_plan,
    recommendations_refresh_range,
    recommendations_refresh_recent,
)

logger = logging.getLogger(__name__)

# Batch refreshes walk every client: give them room, but not forever.
BATCH_LIMITS = {"soft_time_limit": 600, "time_limit": 900}


@shared_task(**BATCH_LIMITS)
def reasons_refresh_all() -> dict:
    """Hourly: open and close reasons for every client, then queue what automations send.

    At-least-once: both steps are idempotent (one reason per cause, one message per
    reason), so a repeat after a lost worker changes nothing.
    """
    stats = reasons_refresh()
    stats["automations"] = outreach.automations_run()
    return stats


@shared_task(soft_time_limit=60, time_limit=90)
def reasons_refresh_for_customers(customer_ids: list[int]) -> dict:
    """After new orders, events or status changes: refresh the reasons of these clients only.

    At-least-once and idempotent, like the full refresh.
    """
    return reasons_refresh(customer_ids=customer_ids)


@shared_task(soft_time_limit=30, time_limit=45, acks_late=True, reject_on_worker_lost=True)
def message_deliver(message_id: int) -> str:
    """Deliver one message.

    At-least-once: acknowledged late and re-delivered if the worker is lost. A repeat is
    harmless: the conditional claim lets one attempt through, and a second attempt is
    reconciled with the provider first (see `services.outreach`).
    """
    return outreach.message_deliver(message_id=message_id)


@shared_task(soft_time_limit=240, time_limit=300, acks_late=True, reject_on_worker_lost=True)
def messages_deliver(message_ids: list[int]) -> dict[str, int]:
    """Deliver a batch of messages (the sweep hands due ones out so): claimed together,
    checked against the policy in a few queries, sent, recorded (`services.outreach`).

    At-least-once, as `message_deliver`: a repeat, or another worker handed the same ids,
    takes only what is still queued. Returns how many messages had each outcome.
    """
    outcomes = outreach.messages_deliver(message_ids=message_ids)
    return dict(Counter(outcomes.values()))


@shared_task(soft_time_limit=120, time_limit=180)
def messages_sweep() -> dict:
    """Every minute: due messages whose task never ran, and claims of dead workers.

    At-least-once and idempotent. When a full batch was found it runs again at once, so a
    backlog (the broker was down an hour) drains in bounded steps.
    """
    result = outreach.messages_sweep()
    if result["enqueued"] >= outreach.SWEEP_BATCH:
        messages_sweep.delay()
    return result


@shared_task(soft_time_limit=120, time_limit=180)
def inbound_messages_prune() -> int:
    """Nightly: forget the ids of inbound messages past INBOUND_MESSAGE_RETENTION_DAYS.

    At-least-once and idempotent. One capped batch per run: a full batch runs again at
    once, so a long-unpruned table empties in bounded steps without one long DELETE.
    """
    deleted = outreach.inbound_messages_prune()
    if deleted >= outreach.INBOUND_PRUNE_BATCH:
        inbound_messages_prune.delay()
    return deleted


@shared_task(**BATCH_LIMITS)
def recommendations_refresh_all() -> dict:
    """Nightly: rebuild the co-purchase neighbours (cached for every worker), then hand
    every client's recommendations to the workers as a group of id ranges, which any
    number of worker processes share (services/recommendations/chunks.py).

    At-least-once and idempotent: a repeated range rewrites only what still differs.
    """
    plan = recommendations_refresh_plan()
    group(
        recommendations_refresh_range_task.si(low, high) for low, high in plan["ranges"]
    ).apply_async()
    return {"ranges": len(plan["ranges"]), "model_seconds": plan["model_seconds"]}


@shared_task(soft_time_limit=300, time_limit=400)
def recommendations_refresh_range_task(low: int, high: int) -> dict:
    """One range of the nightly refresh: the clients with ids from `low` to `high`.
    At-least-once and idempotent (unchanged rows are not rewritten)."""
    return recommendations_refresh_range(low=low, high=high)


@shared_task(soft_time_limit=300, time_limit=400)
def recommendations_refresh_recent_task() -> dict:
    """Hourly: the clients whose orders, events, preferences or sizes changed in the last
    65 minutes (an overlap, so a late run misses nobody). At-least-once and idempotent."""
    return recommendations_refresh_recent(since=timezone.now() - datetime.timedelta(minutes=65))


@shared_task(soft_time_limit=60, time_limit=90)
def recommendations_refresh_for_customers(customer_ids: list[int]) -> dict:
    """After new orders or events: these clients' recommendations. At-least-once, idempotent."""
    return recommendations_refresh(customer_ids=customer_ids)


@shared_task(**BATCH_LIMITS)
def offers_sweep_task() -> dict:
    """Daily: close the client offers past their last day, then open the offers whose
    trigger is a date (a lapse against the client's rhythm, a birthday month) or may have
    happened without an order here. At-least-once: a repeat opens nothing twice."""
    return offers_sweep()


@shared_task(**BATCH_LIMITS)
def holdout_verdicts_refresh_task() -> dict:
    """Nightly: each active offer's and automation's effect against its holdout; one whose
    whole 95% interval stays below zero for its `pause_after_days` is paused, with why.
    At-least-once and idempotent: a second run the same day changes nothing."""
    from .services.holdout_results import holdout_verdicts_refresh

    return holdout_verdicts_refresh()
