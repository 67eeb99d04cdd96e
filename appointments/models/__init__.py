"""Time and place: fitting rooms and their pages (rooms), appointments and stylists'
availability (bookings), makeover sessions (makeovers). Imports stay `appointments.models`."""

from .base import PostgresExclusionConstraint, TsTzRange, is_postgresql
from .rooms import (
    RESERVATION_LEAD,
    Page,
    PageQuerySet,
    Reservation,
    ReservationQuerySet,
    Room,
    RoomQuerySet,
    StagedItem,
    Visit,
    VisitQuerySet,
    new_tablet_token,
)

__all__ = [
    "RESERVATION_LEAD",
    "Page",
    "PageQuerySet",
    "PostgresExclusionConstraint",
    "Reservation",
    "ReservationQuerySet",
    "Room",
    "RoomQuerySet",
    "StagedItem",
    "TsTzRange",
    "Visit",
    "VisitQuerySet",
    "is_postgresql",
    "new_tablet_token",
]
