"""Two people book the same stylist at the same moment: one booking, one clear refusal."""

from __future__ import annotations

import datetime
import threading
import zoneinfo

import pytest
import time_machine
from django.db import connections

from appointments.models import Appointment
from appointments.services import bookings
from clienteling.core.errors import ApplicationError
from tests.factories import AppointmentKindFactory, CustomerFactory, working_week

pytestmark = pytest.mark.django_db(transaction=True)

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
NOW = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=NEW_YORK)
SLOT = datetime.datetime(2026, 12, 8, 14, 0, tzinfo=NEW_YORK)


def _book_together(store, stylist, kind, starts_at: list[datetime.datetime]) -> list:
    """Book one client per start time, one thread each, released at the same instant."""
    clients = [CustomerFactory(home_store=store) for _ in starts_at]
    barrier = threading.Barrier(len(starts_at))
    outcomes: list = [None] * len(starts_at)

    def attempt(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = bookings.appointment_book(
                customer=clients[index],
                kind=kind,
                stylist=stylist,
                starts_at=starts_at[index],
                now=NOW,
            )
        except ApplicationError as error:
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(starts_at))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.fixture
def kind(db):
    return AppointmentKindFactory(name="Makeover", default_minutes=60, is_makeover=True)


def test_two_bookings_of_one_slot_at_once_make_one_appointment(store, stylist, kind):
    working_week(stylist)

    with time_machine.travel(NOW, tick=True):
        outcomes = _book_together(store, stylist, kind, [SLOT, SLOT])

    booked = [o for o in outcomes if isinstance(o, Appointment)]
    refused = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert len(booked) == 1 and len(refused) == 1
    assert refused[0].field == "slot"
    assert Appointment.objects.count() == 1


def test_the_database_refuses_an_overlap_that_slipped_past_the_checks(
    store, stylist, kind, monkeypatch
):
    """Without the row lock, both bookings pass the check; PostgreSQL's exclusion
    constraint on the held period still lets only one in, and the other is told clearly."""
    working_week(stylist)
    monkeypatch.setattr(bookings, "_lock_stylist", lambda stylist: None)
    both_checked = threading.Barrier(2)
    save = Appointment.save

    def save_together(self, *args, **kwargs):
        if self._state.adding:
            both_checked.wait(timeout=10)
        return save(self, *args, **kwargs)

    monkeypatch.setattr(Appointment, "save", save_together)

    with time_machine.travel(NOW, tick=True):
        # Overlapping, not equal: 14:00-15:00 and 14:30-15:30.
        outcomes = _book_together(
            store, stylist, kind, [SLOT, SLOT + datetime.timedelta(minutes=30)]
        )

    assert sorted(type(o).__name__ for o in outcomes) == ["ApplicationError", "Appointment"]
    refusal = next(o for o in outcomes if isinstance(o, ApplicationError))
    assert refusal.message == bookings.TAKEN
    assert Appointment.objects.count() == 1


def test_a_deadlock_between_overlapping_inserts_is_a_lost_booking_not_a_500():
    """PostgreSQL may abort one of two overlapping inserts with a deadlock while checking the
    exclusion constraint (seen in this file's test above): that one lost the slot. Any
    other operational error is not a refusal and goes up."""
    import psycopg
    from django.db import IntegrityError, OperationalError

    deadlock = OperationalError("deadlock detected")
    deadlock.__cause__ = psycopg.errors.DeadlockDetected("deadlock detected")
    outage = OperationalError("server closed the connection")
    outage.__cause__ = psycopg.OperationalError("server closed the connection")

    assert bookings._lost_to_overlap(deadlock)
    assert bookings._lost_to_overlap(IntegrityError("conflicting key value"))
    assert not bookings._lost_to_overlap(outage)
