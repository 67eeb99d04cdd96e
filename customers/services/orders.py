from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from clienteling.core.errors import ApplicationError

from ..models import Order
from .reasons import reasons_refresh_after_commit


@transaction.atomic
def order_update_shipment(
    *,
    order: Order,
    status: str,
    tracking_number: str | None = None,
    at: datetime.datetime | None = None,
) -> Order:
    """Record where an order's parcel is. Repeating the same update changes nothing.

    `at` is when the carrier reported the change (defaults to now); it fills shipped_at
    or delivered_at the first time the order reaches that status.
    """
    # Lock the row: a carrier webhook and a POS push may update the same order at once.
    order = Order.objects.select_for_update().get(pk=order.pk)
    at = at or timezone.now()
    order.shipment_status = status
    if tracking_number is not None:
        order.tracking_number = tracking_number
    if status == Order.ShipmentStatus.SHIPPED and order.shipped_at is None:
        order.shipped_at = at
    if (
        status in (Order.ShipmentStatus.DELIVERED, Order.ShipmentStatus.COLLECTED)
        and order.delivered_at is None
    ):
        order.delivered_at = at
    order.save(
        update_fields=[
            "shipment_status",
            "tracking_number",
            "shipped_at",
            "delivered_at",
            "updated_at",
        ]
    )
    reasons_refresh_after_commit({order.customer_id})
    return order


@transaction.atomic
def order_update_alteration(
    *, order: Order, status: str, ready_on: datetime.date | None = None
) -> Order:
    """Record the state of an order's alteration; "ready" needs the day it is ready."""
    if status == Order.AlterationStatus.READY and ready_on is None:
        raise ApplicationError(
            "An alteration that is ready needs its ready date.", field="ready_on"
        )
    order = Order.objects.select_for_update().get(pk=order.pk)
    order.alteration_status = status
    if ready_on is not None:
        order.alteration_ready_on = ready_on
    order.save(update_fields=["alteration_status", "alteration_ready_on", "updated_at"])
    reasons_refresh_after_commit({order.customer_id})
    return order
