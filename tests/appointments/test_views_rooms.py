"""The room board and a room: status, who is in, open pages, and the associate's actions."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from appointments import services
from appointments.models import Page, Room, Visit
from tests import factories

pytestmark = pytest.mark.django_db


def _poll_url(response, region: str) -> str:
    body = response.content.decode()
    return (
        body.split(f'id="{region}"', 1)[1]
        .split('hx-get="', 1)[1]
        .split('"', 1)[0]
        .replace("&amp;", "&")
    )


def _busy_room(store, associate, n):
    room = factories.RoomFactory(store=store, name=f"Room {n}")
    customer = factories.CustomerFactory(home_store=store)
    visit = factories.VisitFactory(room=room, associate=associate, customer=customer)
    factories.PageFactory(visit=visit, kind="size")
    acknowledged = factories.PageFactory(visit=visit, kind="help")
    services.page_acknowledge(page=acknowledged, staff=associate)
    factories.ReservationFactory(
        room=room, starts_at=timezone.now() + datetime.timedelta(minutes=30)
    )
    return room


def test_the_board_shows_every_room_with_status_occupant_pages_and_age(
    client, associate, store, room, other_room
):
    claire = factories.CustomerFactory(first_name="Claire", last_name="Dubois", home_store=store)
    services.visit_start(room=room, associate=associate)
    Visit.objects.filter(room=room).update(customer=claire)
    services.page_send(room=room, kind=Page.Kind.SIZE)
    factories.RoomFactory(store=store, name="Room 4", status=Room.Status.BEING_CLEANED)
    client.force_login(associate.user)

    response = client.get("/rooms/")

    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body
    assert "Room 3" in body and "Occupied" in body and "Claire Dubois" in body
    assert "1 waiting" in body and "oldest" in body
    assert "Room 4" in body and "Being cleaned" in body
    assert "Salon 1" not in body  # another store's room
    # The bottom bar marks Rooms as the current tab (an icon, then its label).
    assert re.search(r'aria-current="page"><svg[^>]*>.*?</svg><span class="nav-label">Rooms<', body)


def test_a_room_held_by_a_reservation_shows_reserved(client, associate, room):
    factories.ReservationFactory(
        room=room, starts_at=timezone.now() + datetime.timedelta(minutes=10)
    )
    client.force_login(associate.user)
    assert "Reserved" in client.get("/rooms/", HTTP_HX_REQUEST="true").content.decode()


@pytest.mark.parametrize("rooms", [2, 8])
def test_the_board_costs_five_queries_whatever_the_rooms(
    client, associate, store, rooms, django_assert_num_queries
):
    for n in range(rooms):
        _busy_room(store, associate, n)
    client.force_login(associate.user)
    # user with staff and store, rooms, open visits with associates and clients, open pages
    # with who took them and items, today's reservations with clients and associates
    with django_assert_num_queries(5):
        response = client.get("/rooms/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and body.strip().startswith('<section id="board"')
    assert body.count('class="room-card') == rooms


def test_an_unchanged_board_poll_is_a_204_after_one_query(
    client, associate, store, django_assert_num_queries
):
    _busy_room(store, associate, 1)
    client.force_login(associate.user)
    poll = _poll_url(client.get("/rooms/"), "board")
    with django_assert_num_queries(1):
        assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204


def test_room_detail_shows_the_visit_pages_and_reservations(client, associate, room):
    services.visit_start(room=room, associate=associate)
    services.page_send(room=room, kind=Page.Kind.COLOUR, colour="navy")
    factories.ReservationFactory(room=room, associate=associate)
    client.force_login(associate.user)

    body = client.get(f"/rooms/{room.pk}/").content.decode()

    assert "With " + associate.display_name in body
    assert "Another colour" in body and "navy" in body
    assert "0 of 0 items staged" in body
    assert "The client has left" in body
    partial = client.get(f"/rooms/{room.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.strip().startswith('<div id="room-live"')


def test_an_unchanged_room_poll_is_a_204(client, associate, room, django_assert_num_queries):
    client.force_login(associate.user)
    poll = _poll_url(client.get(f"/rooms/{room.pk}/"), "room-live")
    # user with staff and store, the room
    with django_assert_num_queries(2):
        assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204


def test_acknowledge_from_the_room_page_refreshes_the_room(client, associate, room):
    page = services.page_send(room=room, kind=Page.Kind.HELP).page
    client.force_login(associate.user)
    response = client.post(
        f"/rooms/pages/{page.pk}/acknowledge/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="room-live"
    )
    body = response.content.decode()
    assert body.strip().startswith('<div id="room-live"')
    assert f"{associate.display_name} on it" in body


def test_bring_a_client_then_end_the_visit(client, associate, room):
    client.force_login(associate.user)
    response = client.post(f"/rooms/{room.pk}/visit/", follow=True)
    assert "Room 3 is yours" in response.content.decode()
    assert Visit.objects.open().get().associate == associate

    response = client.post(f"/rooms/{room.pk}/visit/end/", follow=True)
    assert "waiting to be cleaned" in response.content.decode()
    room.refresh_from_db()
    assert room.status == Room.Status.BEING_CLEANED
    response = client.post(f"/rooms/{room.pk}/visit/end/", follow=True)
    assert "Nobody is in Room 3" in response.content.decode()


def test_a_colleagues_visit_is_refused_with_a_message(client, associate, stylist, room):
    services.visit_start(room=room, associate=stylist)
    client.force_login(associate.user)
    response = client.post(f"/rooms/{room.pk}/visit/", follow=True)
    assert f"{stylist.display_name} is already with a client here." in response.content.decode()
    assert Visit.objects.get().associate == stylist


def test_set_the_status_and_bad_input_gets_a_message(client, associate, room):
    client.force_login(associate.user)
    response = client.post(f"/rooms/{room.pk}/status/", {"status": "needs_attention"})
    assert response.status_code == 302
    room.refresh_from_db()
    assert room.status == Room.Status.NEEDS_ATTENTION
    for bad in ({}, {"status": "occupied"}, {"status": "nonsense"}):
        response = client.post(f"/rooms/{room.pk}/status/", bad)
        assert response.status_code == 200
        assert "form-error" in response.content.decode()
    room.refresh_from_db()
    assert room.status == Room.Status.NEEDS_ATTENTION


ROOM_URLS = [
    ("get", "/rooms/{pk}/"),
    ("post", "/rooms/{pk}/status/"),
    ("post", "/rooms/{pk}/visit/"),
    ("post", "/rooms/{pk}/visit/end/"),
]


@pytest.mark.parametrize(("method", "url"), ROOM_URLS)
def test_another_stores_room_is_404_and_untouched(
    client, other_store_associate, room, associate, method, url
):
    services.visit_start(room=room, associate=associate)
    client.force_login(other_store_associate.user)
    response = getattr(client, method)(url.format(pk=room.pk), {"status": "available"})
    assert response.status_code == 404
    room.refresh_from_db()
    assert room.status == Room.Status.OCCUPIED
    assert Visit.objects.open().get().associate == associate


@pytest.mark.parametrize(("method", "url"), [*ROOM_URLS, ("get", "/rooms/")])
def test_room_urls_send_anonymous_users_to_login(client, room, method, url):
    response = getattr(client, method)(url.format(pk=room.pk))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize(("method", "url"), [*ROOM_URLS, ("get", "/rooms/")])
def test_room_urls_refuse_the_wrong_method(client, associate, room, method, url):
    client.force_login(associate.user)
    wrong = "post" if method == "get" else "get"
    assert getattr(client, wrong)(url.format(pk=room.pk)).status_code == 405


def test_an_inactive_room_is_not_on_the_board_nor_reachable(client, associate, room):
    Room.objects.filter(pk=room.pk).update(is_active=False)
    client.force_login(associate.user)
    assert "Room 3" not in client.get("/rooms/").content.decode()
    assert client.get(f"/rooms/{room.pk}/").status_code == 404


def test_take_over_a_colleagues_client_at_a_break(client, associate, stylist, room):
    services.visit_start(room=room, associate=stylist)
    client.force_login(associate.user)
    assert "Take over from Sofia" in client.get(f"/rooms/{room.pk}/").content.decode()
    client.post(f"/rooms/{room.pk}/visit/", {"take_over": "1"})
    assert Visit.objects.open().get().associate == associate
