"""Booking services: free slots (hours, travel, buffers, time off, notice, daylight-saving
changes), booking with a room, the life of an appointment, and its messages sent once."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from appointments import services
from appointments.models import Appointment, Reservation, TimeOff
from clienteling.core.errors import ApplicationError
from customers.models import Message, Reason
from customers.services import message_deliver
from tests.factories import (
    AppointmentKindFactory,
    ConsentEventFactory,
    CustomerFactory,
    ProductFactory,
    RoomFactory,
    working_week,
)

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
UTC = datetime.UTC
# A Monday in December, 09:00 in New York.
MONDAY_MORNING = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=NEW_YORK)
TUESDAY = datetime.date(2026, 12, 8)


def ny(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=NEW_YORK)


@pytest.fixture
def at_monday_morning():
    with time_machine.travel(MONDAY_MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def try_on(db):
    return AppointmentKindFactory(name="In-store try-on", default_minutes=60)


@pytest.fixture
def working_stylist(stylist):
    working_week(stylist)  # 10:00-18:00 every day
    return stylist


@pytest.fixture
def claire(store):
    customer = CustomerFactory(
        first_name="Claire", home_store=store, email="claire@example.com", phone="+12125550142"
    )
    ConsentEventFactory(customer=customer, channel="email", granted=True)
    return customer


def starts(slots) -> list[str]:
    return [f"{timezone.localtime(slot.starts_at, NEW_YORK):%H:%M}" for slot in slots]


def book(customer, kind, stylist, when, **extra):
    return services.appointment_book(
        customer=customer, kind=kind, stylist=stylist, starts_at=when, **extra
    )


# --- Slots ---------------------------------------------------------------------------------


def test_slots_fill_working_hours_every_quarter_hour(store, try_on, working_stylist):
    slots = services.slots_free(store=store, kind=try_on, day=TUESDAY, now=MONDAY_MORNING)

    assert starts(slots)[:3] == ["10:00", "10:15", "10:30"]
    assert starts(slots)[-1] == "17:00"  # a 60-minute try-on ends at closing, 18:00
    assert all(slot.ends_at - slot.starts_at == datetime.timedelta(hours=1) for slot in slots)


def test_an_appointment_and_time_off_take_their_time_out_of_the_slots(
    store, try_on, working_stylist, claire, at_monday_morning
):
    book(claire, try_on, working_stylist, ny(TUESDAY, 12))
    TimeOff.objects.create(
        stylist=working_stylist, starts_at=ny(TUESDAY, 15), ends_at=ny(TUESDAY, 16)
    )

    offered = starts(services.slots_free(store=store, kind=try_on, day=TUESDAY))

    assert "11:00" in offered and "13:00" in offered  # back to back is fine
    assert not {"11:15", "12:00", "12:45"} & set(offered)
    assert not {"14:15", "15:00", "15:45"} & set(offered)
    assert "16:00" in offered


def test_travel_is_held_before_and_after_an_in_home_try_on(
    store, working_stylist, claire, at_monday_morning
):
    at_home = AppointmentKindFactory(
        name="In-home try-on", place="home", default_minutes=60, travel_minutes=30
    )

    offered = starts(services.slots_free(store=store, kind=at_home, day=TUESDAY))
    appointment = book(claire, at_home, working_stylist, ny(TUESDAY, 12), address="12 Main St")

    assert offered[0] == "10:30" and offered[-1] == "16:30"  # the trips are in working hours
    assert appointment.blocked_from == ny(TUESDAY, 11, 30)
    assert appointment.blocked_until == ny(TUESDAY, 13, 30)
    # A try-on in the store right after must leave the trip back free.
    try_on = AppointmentKindFactory(name="In-store try-on", default_minutes=60)
    after = starts(services.slots_free(store=store, kind=try_on, day=TUESDAY))
    assert "13:15" not in after and "13:30" in after


def test_online_bookings_respect_the_kinds_notice(store, try_on, working_stylist):
    try_on.online_min_notice_hours = 30
    try_on.save()

    by_staff = services.slots_free(store=store, kind=try_on, day=TUESDAY, now=MONDAY_MORNING)
    online = services.slots_free(
        store=store, kind=try_on, day=TUESDAY, now=MONDAY_MORNING, online=True
    )

    assert starts(by_staff)[0] == "10:00"
    assert starts(online)[0] == "15:00"  # Monday 09:00 + 30 h


def test_slots_keep_the_wall_clock_across_the_spring_change(store, try_on, working_stylist):
    # 8 March 2026: New York moves from UTC-5 to UTC-4 at 02:00.
    before, change = datetime.date(2026, 3, 7), datetime.date(2026, 3, 8)
    now = datetime.datetime(2026, 3, 1, tzinfo=UTC)

    first_before = services.slots_free(store=store, kind=try_on, day=before, now=now)[0]
    first_on = services.slots_free(store=store, kind=try_on, day=change, now=now)[0]

    assert first_before.starts_at == datetime.datetime(2026, 3, 7, 15, 0, tzinfo=UTC)
    assert first_on.starts_at == datetime.datetime(2026, 3, 8, 14, 0, tzinfo=UTC)
    assert timezone.localtime(first_on.starts_at, NEW_YORK).hour == 10


def test_skipped_wall_clock_times_are_never_offered_and_lengths_are_real(store, try_on, stylist):
    working_week(stylist, starts=datetime.time(1, 0), ends=datetime.time(5, 0))
    now = datetime.datetime(2026, 3, 1, tzinfo=UTC)

    slots = services.slots_free(store=store, kind=try_on, day=datetime.date(2026, 3, 8), now=now)

    offered = starts(slots)
    assert not any(label.startswith("02:") for label in offered)  # 02:00-02:59 do not exist
    one_thirty = next(slot for slot in slots if starts([slot]) == ["01:30"])
    # 60 real minutes: 01:30 EST is 06:30 UTC; it ends at 07:30 UTC, 03:30 EDT.
    assert one_thirty.ends_at == datetime.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


# --- Booking -------------------------------------------------------------------------------


def test_booking_queues_a_confirmation_now_and_reminders_that_wait(
    store, try_on, working_stylist, claire, at_monday_morning
):
    appointment = book(claire, try_on, working_stylist, ny(TUESDAY, 14))

    messages = {m.purpose: m for m in Message.objects.filter(customer=claire)}
    assert appointment.status == Appointment.Status.BOOKED
    assert set(messages) == {"appointment_confirmation", "appointment_reminder"}
    reminders = Message.objects.filter(purpose="appointment_reminder").order_by("scheduled_for")
    assert [m.scheduled_for for m in reminders] == [
        ny(TUESDAY, 14) - datetime.timedelta(hours=h) for h in (24, 2)
    ]
    confirmation = messages["appointment_confirmation"]
    assert confirmation.channel == "email"  # the channel she agreed to
    assert "Tue 8 Dec at 14:00" in confirmation.body
    assert f"/my-appointment/{appointment.manage_token}/" in confirmation.body
    assert not confirmation.is_marketing


def test_a_booking_across_the_autumn_change_reminds_24_real_hours_before(
    store, try_on, working_stylist, claire
):
    # 1 November 2026: New York goes back from UTC-4 to UTC-5 at 02:00.
    with time_machine.travel(datetime.datetime(2026, 10, 30, 12, tzinfo=UTC), tick=False):
        appointment = book(claire, try_on, working_stylist, ny(datetime.date(2026, 11, 1), 10))

    assert appointment.starts_at == datetime.datetime(2026, 11, 1, 15, 0, tzinfo=UTC)
    reminder = Message.objects.get(dedupe_key__endswith=":reminder-24h")
    assert reminder.scheduled_for == datetime.datetime(2026, 10, 31, 15, 0, tzinfo=UTC)
    assert timezone.localtime(reminder.scheduled_for, NEW_YORK).hour == 11  # still EDT


def test_a_time_that_is_not_offered_is_refused_with_a_clear_message(
    store, try_on, working_stylist, claire, at_monday_morning
):
    book(claire, try_on, working_stylist, ny(TUESDAY, 14))

    with pytest.raises(ApplicationError, match="not free") as taken:
        book(CustomerFactory(home_store=store), try_on, working_stylist, ny(TUESDAY, 14, 30))
    with pytest.raises(ApplicationError, match="not free"):
        book(claire, try_on, working_stylist, ny(TUESDAY, 19))  # after hours

    assert taken.value.field == "slot"
    assert Appointment.objects.count() == 1


def test_an_in_home_try_on_needs_an_address(store, working_stylist, claire, at_monday_morning):
    at_home = AppointmentKindFactory(name="In-home try-on", place="home", travel_minutes=30)

    with pytest.raises(ApplicationError, match="address"):
        book(claire, at_home, working_stylist, ny(TUESDAY, 12))

    assert not Appointment.objects.exists()


def test_booking_with_a_room_reserves_it_and_stages_the_items(
    store, try_on, working_stylist, claire, at_monday_morning
):
    room = RoomFactory(store=store, name="Room 2")
    dress = ProductFactory(name="Silk wrap dress")

    appointment = book(
        claire,
        try_on,
        working_stylist,
        ny(TUESDAY, 14),
        room=room,
        staged=[services.StagedRequest(product=dress, size="M")],
    )

    reservation = appointment.reservation
    assert (reservation.room, reservation.starts_at, reservation.ends_at) == (
        room,
        appointment.starts_at,
        appointment.ends_at,
    )
    assert [item.label for item in reservation.staged_items.all()] == ["Silk wrap dress · M"]


def test_a_room_already_reserved_refuses_the_booking_and_leaves_nothing(
    store, try_on, working_stylist, claire, at_monday_morning
):
    room = RoomFactory(store=store, name="Room 2")
    services.reservation_create(
        room=room,
        customer=claire,
        associate=None,
        starts_at=ny(TUESDAY, 14, 30),
        ends_at=ny(TUESDAY, 15, 30),
    )

    with pytest.raises(ApplicationError, match="Room 2 is already reserved"):
        book(claire, try_on, working_stylist, ny(TUESDAY, 14), room=room)

    assert not Appointment.objects.exists()
    assert not Message.objects.exists()
    assert Reservation.objects.count() == 1


def test_online_bookings_of_a_kind_that_needs_approval_wait_for_the_stylist(
    store, try_on, working_stylist, claire, at_monday_morning
):
    try_on.online_needs_approval = True
    try_on.online_min_notice_hours = 0
    try_on.save()
    try_on.online_stores.add(store)

    appointment = book(claire, try_on, working_stylist, ny(TUESDAY, 14), online=True)

    assert appointment.status == Appointment.Status.REQUESTED
    assert list(Message.objects.values_list("purpose", flat=True)) == ["appointment_request"]
    services.appointment_advance(appointment=appointment, action="approve", by=working_stylist)
    assert appointment.status == Appointment.Status.BOOKED
    assert set(Message.objects.values_list("purpose", flat=True)) == {
        "appointment_request",
        "appointment_confirmation",
        "appointment_reminder",
    }


def test_a_store_that_does_not_offer_a_kind_online_refuses_it(
    store, try_on, working_stylist, claire, at_monday_morning
):
    with pytest.raises(ApplicationError, match="online"):
        book(claire, try_on, working_stylist, ny(TUESDAY, 14), online=True)


# --- Rescheduling, cancelling, the steps ---------------------------------------------------


def test_rescheduling_withdraws_old_reminders_moves_the_room_and_sends_the_new_time(
    store, try_on, working_stylist, claire, at_monday_morning
):
    room = RoomFactory(store=store, name="Room 2")
    appointment = book(claire, try_on, working_stylist, ny(TUESDAY, 14), room=room)
    old_reservation = appointment.reservation

    services.appointment_reschedule(
        appointment=appointment, starts_at=ny(TUESDAY, 16), by=working_stylist
    )

    appointment.refresh_from_db()
    assert appointment.starts_at == ny(TUESDAY, 16) and appointment.revision == 2
    old_reservation.refresh_from_db()
    assert old_reservation.is_cancelled
    assert appointment.reservation.starts_at == ny(TUESDAY, 16)
    old = Message.objects.filter(dedupe_key__contains=":r1:reminder")
    assert {m.status for m in old} == {"suppressed"}
    assert {m.suppressed_reason for m in old} == {"The appointment was moved to another time."}
    new = Message.objects.filter(dedupe_key__contains=":r2:", status="queued")
    assert {m.purpose for m in new} == {"appointment_moved", "appointment_reminder"}
    # The old time is free again.
    assert "14:00" in starts(services.slots_free(store=store, kind=try_on, day=TUESDAY))


def test_cancelling_frees_the_time_withdraws_reminders_and_tells_the_client(
    store, try_on, working_stylist, claire, at_monday_morning
):
    appointment = book(claire, try_on, working_stylist, ny(TUESDAY, 14))

    with pytest.raises(ApplicationError, match="Say why"):
        services.appointment_cancel(appointment=appointment, by=working_stylist)
    assert services.appointment_cancel(
        appointment=appointment, reason="Stylist unwell", by=working_stylist
    )
    assert not services.appointment_cancel(
        appointment=appointment, reason="again", by=working_stylist
    )

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.cancel_reason == "Stylist unwell"
    assert set(
        Message.objects.filter(purpose="appointment_reminder").values_list("status", flat=True)
    ) == {"suppressed"}
    assert Message.objects.filter(purpose="appointment_cancelled", status="queued").count() == 1
    assert "14:00" in starts(services.slots_free(store=store, kind=try_on, day=TUESDAY))


def test_steps_follow_the_allowed_order(store, try_on, working_stylist, claire, at_monday_morning):
    appointment = book(claire, try_on, working_stylist, ny(TUESDAY, 14))

    with pytest.raises(ApplicationError, match="on the day"):
        services.appointment_advance(appointment=appointment, action="check_in")
    services.appointment_advance(appointment=appointment, action="confirm")
    with pytest.raises(ApplicationError, match="is confirmed: it can't be confirmed"):
        services.appointment_advance(appointment=appointment, action="confirm")
    with pytest.raises(ApplicationError, match="Unknown step"):
        services.appointment_advance(appointment=appointment, action="teleport")

    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CONFIRMED


def test_completing_schedules_the_thank_you_and_a_follow_up_reason(
    store, try_on, working_stylist, claire, at_monday_morning
):
    appointment = book(claire, try_on, working_stylist, ny(TUESDAY, 14))

    with time_machine.travel(ny(TUESDAY, 15, 5), tick=False):
        services.appointment_advance(appointment=appointment, action="check_in")
        services.appointment_advance(appointment=appointment, action="complete")

    thank_you = Message.objects.get(purpose="appointment_thank_you")
    assert thank_you.scheduled_for == ny(TUESDAY, 18, 5)  # three hours after
    assert set(
        Message.objects.filter(purpose="appointment_reminder").values_list("status", flat=True)
    ) == {"suppressed"}  # the 2 h reminder had not gone: nothing more about a past visit
    reason = Reason.objects.get(kind=Reason.Kind.APPOINTMENT_FOLLOW_UP, customer=claire)
    assert reason.source_key == f"appointment:{appointment.pk}"
    assert "in-store try-on with Sofia" in reason.why


def test_a_retried_reminder_is_sent_once(
    store, try_on, working_stylist, claire, at_monday_morning, mailoutbox
):
    book(claire, try_on, working_stylist, ny(TUESDAY, 14))
    reminder = Message.objects.get(dedupe_key__endswith=":reminder-24h")

    with time_machine.travel(reminder.scheduled_for + datetime.timedelta(minutes=1), tick=False):
        outcomes = [message_deliver(message_id=reminder.pk) for _ in range(3)]

    assert outcomes == ["sent", "skipped", "skipped"]
    assert [email.to for email in mailoutbox] == [["claire@example.com"]]
    assert "a reminder" in mailoutbox[0].body


def test_without_consent_the_confirmation_is_recorded_as_not_sent_with_why(
    store, try_on, working_stylist, at_monday_morning
):
    silent = CustomerFactory(home_store=store, first_name="Ines")

    book(silent, try_on, working_stylist, ny(TUESDAY, 14))

    confirmation = Message.objects.get(purpose="appointment_confirmation")
    assert confirmation.status == "suppressed"
    assert confirmation.suppressed_reason


def test_personal_styling_has_one_dedicated_stylist_at_a_time(store, stylist, claire):
    other = type(stylist).objects.create(
        user=type(stylist.user).objects.create(username="maya", first_name="Maya"),
        store=store,
        role="stylist",
    )

    first = services.styling_enroll(customer=claire, stylist=stylist, goals="A capsule wardrobe")
    again = services.styling_enroll(customer=claire, stylist=stylist)
    moved = services.styling_enroll(customer=claire, stylist=other)

    assert again.pk == first.pk
    first.refresh_from_db()
    assert first.ended_at is not None and moved.ended_at is None
