"""Reservations and the staging list: book a room for a client, prepare the items."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from appointments.models import Reservation, StagedItem
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/rooms/reservations/new/"


@pytest.fixture
def claire(store, associate):
    return factories.CustomerFactory(
        first_name="Claire",
        last_name="Dubois",
        home_store=store,
        assigned_associate=associate,
        email="claire@example.com",
    )


def _tomorrow(store) -> str:
    return (timezone.localdate(timezone=store.zone) + datetime.timedelta(days=1)).isoformat()


def _data(room, /, **extra):
    return {
        "room": room.pk,
        "client": "Claire Dubois",
        "date": _tomorrow(room.store),
        "start": "14:00",
        "end": "15:00",
        "note": "Wedding guest dress",
        **extra,
    }


def test_the_form_prefills_room_client_and_me(client, associate, room, claire):
    client.force_login(associate.user)
    body = client.get(f"{URL}?room={room.pk}&customer={claire.pk}").content.decode()
    assert "For <strong>Claire Dubois</strong>" in body
    assert f'value="{claire.pk}"' in body
    assert f'<option value="{room.pk}" selected>' in body
    assert f'<option value="{associate.pk}" selected>' in body


def test_reserve_by_searching_the_client_in_the_stores_time(client, associate, room, claire):
    client.force_login(associate.user)

    response = client.post(URL, _data(room, associate=associate.pk))

    reservation = Reservation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/rooms/reservations/{reservation.pk}/"
    local = timezone.localtime(reservation.starts_at, room.store.zone)
    assert (local.hour, local.minute, reservation.ends_at - reservation.starts_at) == (
        14,
        0,
        datetime.timedelta(hours=1),
    )
    assert (reservation.customer, reservation.associate, reservation.created_by) == (
        claire,
        associate,
        associate,
    )


def test_several_matching_clients_are_offered_to_choose(client, associate, room, claire, store):
    other = factories.CustomerFactory(first_name="Claire", last_name="Duval", home_store=store)
    client.force_login(associate.user)
    response = client.post(URL, _data(room, client="claire"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "Several clients match: choose one." in body
    assert f'name="customer" value="{other.pk}"' in body
    assert not Reservation.objects.exists()

    client.post(URL, _data(room, client="claire", customer=other.pk))
    assert Reservation.objects.get().customer == other


def test_an_overlapping_reservation_is_refused_with_a_clear_message(
    client, associate, room, claire
):
    client.force_login(associate.user)
    client.post(URL, _data(room))
    response = client.post(URL, _data(room, start="14:30", end="15:30"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Room 3 is already reserved from 14:00 to 15:00. Choose another time or room." in body
    assert Reservation.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"client": ""}, "Who is the reservation for?"),
        ({"client": "Nobody Known"}, "No client matches"),
        ({"end": "13:00"}, "The end must come after the start."),
        ({"end": "19:00"}, "A reservation lasts at most 4 hours."),
        ({"date": "2020-01-01"}, "This time has already passed."),
        ({"date": "not a date"}, "Enter a valid date."),
        ({"room": "999999"}, "Select a valid choice."),
        ({"customer": "999999"}, "Choose the client again."),
    ],
)
def test_bad_input_gets_a_field_message(client, associate, room, claire, changes, message):
    client.force_login(associate.user)
    response = client.post(URL, _data(room, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Reservation.objects.exists()


def test_another_stores_room_and_client_cannot_be_used(
    client, associate, room, other_room, other_store
):
    stranger = factories.CustomerFactory(first_name="Zoe", last_name="Far", home_store=other_store)
    client.force_login(associate.user)
    assert "Select a valid choice" in client.post(URL, _data(other_room)).content.decode()
    response = client.post(URL, _data(room, customer=stranger.pk))
    assert "Choose the client again." in response.content.decode()
    response = client.post(URL, _data(room, client="Zoe Far"))
    assert "No client matches" in response.content.decode()
    assert not Reservation.objects.exists()


def test_staging_add_tick_and_untick(client, associate, room, claire):
    reservation = factories.ReservationFactory(room=room, customer=claire)
    product = factories.ProductFactory(sku="DRS-38", name="Silk wrap dress")
    client.force_login(associate.user)
    base = f"/rooms/reservations/{reservation.pk}"

    response = client.post(
        f"{base}/items/", {"sku": "drs-38", "size": "38"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.strip().startswith('<section id="staging"')
    assert "Silk wrap dress · 38" in body
    item = StagedItem.objects.get()
    assert (item.product, item.size) == (product, "38")

    response = client.post(
        f"{base}/items/{item.pk}/check/", {"staged": "true"}, HTTP_HX_REQUEST="true"
    )
    assert 'aria-pressed="true"' in response.content.decode()
    item.refresh_from_db()
    assert item.staged_by == associate
    client.post(f"{base}/items/{item.pk}/check/", {"staged": "false"})
    item.refresh_from_db()
    assert item.staged_at is None

    page = client.get(f"{base}/").content.decode()
    assert "Claire Dubois" in page and "Silk wrap dress" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [({"sku": "NOPE"}, "No product has this SKU."), ({}, "Give a SKU or describe the item.")],
)
def test_staging_bad_input_gets_a_field_message(client, associate, room, data, message):
    reservation = factories.ReservationFactory(room=room)
    client.force_login(associate.user)
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.post(f"/rooms/reservations/{reservation.pk}/items/", data, **headers)
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not StagedItem.objects.exists()


def test_cancel_frees_the_slot(client, associate, room, claire):
    reservation = factories.ReservationFactory(room=room, customer=claire)
    client.force_login(associate.user)
    response = client.post(f"/rooms/reservations/{reservation.pk}/cancel/", follow=True)
    assert "Reservation cancelled" in response.content.decode()
    reservation.refresh_from_db()
    assert reservation.is_cancelled


RESERVATION_URLS = [
    ("get", "/rooms/reservations/{pk}/"),
    ("post", "/rooms/reservations/{pk}/cancel/"),
    ("post", "/rooms/reservations/{pk}/items/"),
    ("post", "/rooms/reservations/{pk}/items/{item}/check/"),
]


@pytest.mark.parametrize(("method", "url"), RESERVATION_URLS)
def test_another_stores_reservation_is_404_and_untouched(
    client, other_store_associate, room, method, url
):
    item = factories.StagedItemFactory(reservation__room=room)
    reservation = item.reservation
    client.force_login(other_store_associate.user)
    response = getattr(client, method)(
        url.format(pk=reservation.pk, item=item.pk), {"staged": "true", "description": "x"}
    )
    assert response.status_code == 404
    reservation.refresh_from_db()
    item.refresh_from_db()
    assert reservation.cancelled_at is None and item.staged_at is None
    assert StagedItem.objects.count() == 1


def test_an_item_of_another_reservation_is_404(client, associate, room):
    mine = factories.ReservationFactory(room=room)
    foreign_item = factories.StagedItemFactory()
    client.force_login(associate.user)
    url = f"/rooms/reservations/{mine.pk}/items/{foreign_item.pk}/check/"
    assert client.post(url, {"staged": "true"}).status_code == 404


@pytest.mark.parametrize(("method", "url"), [*RESERVATION_URLS, ("get", URL)])
def test_reservation_urls_need_a_login_and_the_right_method(client, associate, room, method, url):
    item = factories.StagedItemFactory(reservation__room=room)
    url = url.format(pk=item.reservation.pk, item=item.pk)
    assert getattr(client, method)(url)["Location"].startswith("/login/")
    client.force_login(associate.user)
    wrong = "put" if url == URL else ("post" if method == "get" else "get")
    assert getattr(client, wrong)(url).status_code == 405
