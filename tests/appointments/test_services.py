"""Fitting-room services: visits, pages and their claims, reservations and staging."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments import services, versions
from appointments.models import Page, Reservation, Room, Visit
from clienteling.core.errors import ApplicationError
from customers.models import ConsentEvent
from customers.services import ConsentAnswer
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_page_goes_first_to_the_associate_who_brought_the_client(
    room, associate, enqueued, django_capture_on_commit_callbacks, settings
):
    settings.ROOMS_PAGE_ESCALATE_AFTER_SECONDS = 60
    services.visit_start(room=room, associate=associate)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.page_send(room=room, kind=Page.Kind.SIZE, size="M")

    page = result.page
    assert result.created
    assert (page.target, page.escalated_at, page.store_id) == (associate, None, room.store_id)
    assert enqueued == [(page.pk, 60)]  # the escalation countdown, after commit
    room.refresh_from_db()
    assert room.status == Room.Status.OCCUPIED


def test_without_an_associate_the_page_goes_to_everyone_at_once(room, enqueued):
    page = services.page_send(room=room, kind=Page.Kind.HELP).page
    assert page.target is None
    assert page.escalated_at == page.created_at
    assert Visit.objects.get().room == room  # the page opened a visit
    assert enqueued == []


def test_the_same_waiting_request_is_not_sent_twice(room):
    first = services.page_send(room=room, kind=Page.Kind.SIZE, size="M")
    again = services.page_send(room=room, kind=Page.Kind.SIZE, size="M")
    other = services.page_send(room=room, kind=Page.Kind.SIZE, size="L")
    assert (again.created, again.page) == (False, first.page)
    assert other.created
    assert Page.objects.count() == 2


def test_acknowledge_once_then_colleagues_learn_who_took_it(room, associate, stylist):
    page = services.page_send(room=room, kind=Page.Kind.HELP).page

    first = services.page_acknowledge(page=page, staff=associate)
    second = services.page_acknowledge(page=page, staff=stylist)
    again = services.page_acknowledge(page=page, staff=associate)

    assert first.won and again.won
    assert not second.won
    assert second.message == f"{associate.display_name} is on it."
    page.refresh_from_db()
    assert page.acknowledged_by == associate


def test_resolve_acknowledges_too_and_checkout_ends_the_visit(room, associate):
    size = services.page_send(room=room, kind=Page.Kind.SIZE).page
    checkout = services.page_send(room=room, kind=Page.Kind.CHECKOUT).page

    result = services.page_resolve(page=checkout, staff=associate)

    assert result.won
    checkout.refresh_from_db()
    assert checkout.acknowledged_by == associate
    assert checkout.acknowledged_at == checkout.resolved_at
    size.refresh_from_db()
    assert size.cancelled_at is not None  # the visit ended with it
    room.refresh_from_db()
    assert room.status == Room.Status.BEING_CLEANED
    assert not Visit.objects.open().exists()
    assert not services.page_resolve(page=checkout, staff=associate).won


def test_check_in_with_a_phone_links_the_client_and_records_sms_consent(room, store):
    claire = factories.CustomerFactory(first_name="Claire", phone="+12125550142")
    visit = services.visit_check_in(
        room=room, phone="+12125550142", consents=[ConsentAnswer("sms", True)]
    )

    assert visit.customer == claire
    assert visit.checked_in_at is not None
    event = ConsentEvent.objects.get()
    assert (event.customer, event.channel, event.granted, event.source) == (
        claire,
        "sms",
        True,
        "client",
    )
    assert "SoHo may contact me by text message" in event.wording


def test_an_unticked_sms_box_does_not_withdraw_a_consent_given_elsewhere(room):
    claire = factories.CustomerFactory(phone="+12125550142")
    factories.ConsentEventFactory(customer=claire, channel="sms", granted=True)
    services.visit_check_in(room=room, phone="+12125550142", consents=[])
    assert claire.has_consent("sms") is True
    assert ConsentEvent.objects.count() == 1


def test_an_unknown_phone_checks_in_without_a_client(room):
    visit = services.visit_check_in(
        room=room, phone="+12125550199", consents=[ConsentAnswer("sms", True)]
    )
    assert visit.customer is None
    assert not ConsentEvent.objects.exists()


def test_a_visit_during_a_reservation_takes_its_client_and_associate(room, associate):
    reservation = factories.ReservationFactory(
        room=room,
        associate=associate,
        starts_at=timezone.now() - datetime.timedelta(minutes=5),
    )
    page = services.page_send(room=room, kind=Page.Kind.SIZE).page
    assert (page.visit.customer, page.visit.reservation, page.target) == (
        reservation.customer,
        reservation,
        associate,
    )


def test_another_associates_visit_is_refused(room, associate, stylist):
    services.visit_start(room=room, associate=associate)
    with pytest.raises(ApplicationError, match="already with a client"):
        services.visit_start(room=room, associate=stylist)
    assert Visit.objects.get().associate == associate


def test_an_associate_joins_a_visit_the_client_started_alone(room, associate):
    services.visit_check_in(room=room)
    visit = services.visit_start(room=room, associate=associate)
    assert Visit.objects.get() == visit
    assert visit.associate == associate


def test_freeing_a_room_ends_its_visit_but_needing_attention_does_not(room, associate):
    services.visit_start(room=room, associate=associate)
    page = services.page_send(room=room, kind=Page.Kind.HELP).page
    services.room_set_status(room=room, status=Room.Status.NEEDS_ATTENTION)
    assert Visit.objects.open().exists()
    services.room_set_status(room=room, status=Room.Status.AVAILABLE)
    room.refresh_from_db()
    page.refresh_from_db()
    assert room.status == Room.Status.AVAILABLE
    assert not Visit.objects.open().exists()
    assert page.cancelled_at is not None
    with pytest.raises(ApplicationError):
        services.room_set_status(room=room, status=Room.Status.OCCUPIED)


def test_every_change_bumps_the_versions_after_commit(
    room, associate, django_capture_on_commit_callbacks
):
    store_key, room_key = versions.store_key(room.store_id), versions.room_key(room.pk)
    before = (versions.read(store_key), versions.read(room_key))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.visit_start(room=room, associate=associate)
    assert (versions.read(store_key), versions.read(room_key)) == before  # not yet committed
    for callback in callbacks:
        callback()
    assert versions.read(store_key) > before[0] and versions.read(room_key) > before[1]


def test_a_lost_counter_restarts_above_any_version_a_phone_holds(room):
    key = versions.store_key(room.store_id)
    held = versions.read(key)
    versions.bump([key])
    cache.clear()
    assert versions.read(key) > held + 1


# --- Reservations ----------------------------------------------------------------------


def _reserve(room, start_hour, end_hour, **extra):
    day = timezone.localdate(timezone=room.store.zone) + datetime.timedelta(days=1)
    zone = room.store.zone
    return services.reservation_create(
        room=room,
        customer=extra.pop("customer", None) or factories.CustomerFactory(home_store=room.store),
        associate=None,
        starts_at=datetime.datetime.combine(day, datetime.time(start_hour), tzinfo=zone),
        ends_at=datetime.datetime.combine(day, datetime.time(end_hour), tzinfo=zone),
        **extra,
    )


def test_overlapping_reservations_are_refused_with_the_times(room):
    _reserve(room, 14, 15)
    with pytest.raises(ApplicationError) as error:
        _reserve(room, 14, 16)
    assert error.value.message.startswith("Room 3 is already reserved from 14:00 to 15:00")
    assert Reservation.objects.count() == 1


def test_back_to_back_and_other_rooms_and_cancelled_slots_are_fine(room, store):
    first = _reserve(room, 14, 15)
    _reserve(room, 15, 16)
    _reserve(factories.RoomFactory(store=store), 14, 15)
    services.reservation_cancel(reservation=first)
    _reserve(room, 14, 15)
    assert Reservation.objects.active().count() == 3


def test_the_database_refuses_an_overlap_that_skips_the_service(room):
    existing = _reserve(room, 14, 15)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reservation.objects.create(
            room=room,
            starts_at=existing.starts_at + datetime.timedelta(minutes=30),
            ends_at=existing.ends_at + datetime.timedelta(minutes=30),
        )


def test_staged_items_are_added_and_ticked(room, associate):
    reservation = _reserve(room, 14, 15)
    product = factories.ProductFactory(name="Silk wrap dress")
    item = services.staged_item_add(reservation=reservation, product=product, size="38")
    services.staged_item_add(reservation=reservation, description="Nude heels", size="39")
    assert item.label == "Silk wrap dress · 38"

    item = services.staged_item_set_staged(item=item, staged=True, staff=associate)
    assert item.staged_at and item.staged_by == associate
    item = services.staged_item_set_staged(item=item, staged=False, staff=associate)
    assert item.staged_at is None
    with pytest.raises(ApplicationError):
        services.staged_item_add(reservation=reservation)
