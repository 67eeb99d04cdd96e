"""The room tablet: public, by secret link; pages for its room only, never shows a client."""

from __future__ import annotations

import pytest
from django.test import Client

from appointments import services
from appointments.models import Page, Visit
from customers.models import ConsentEvent
from tests import factories

pytestmark = pytest.mark.django_db


def _url(room, action: str = "") -> str:
    return f"/fitting-room/{room.tablet_token}/" + (f"{action}/" if action else "")


def test_the_tablet_page_offers_the_four_requests_and_check_in(client, room):
    response = client.get(_url(room))
    body = response.content.decode()
    assert response.status_code == 200
    for label in ("Another size", "Another colour", "Help", "Ready to check out"):
        assert f">{label}</button>" in body
    assert "Check in" in body and "by text message" in body
    assert 'class="bottom-nav"' not in body and "Sign out" not in body  # a kiosk: no way out
    assert response["Cache-Control"] == "no-store"


def test_a_page_from_the_tablet_shows_sent_then_who_is_coming(client, room, store):
    ava = factories.StaffMemberFactory(store=store, user__first_name="Ava")
    services.visit_start(room=room, associate=ava)

    response = client.post(_url(room, "page"), {"kind": "size", "size": "38"})

    assert response.status_code == 302 and response["Location"] == _url(room)
    page = Page.objects.get()
    assert (page.kind, page.size, page.target) == ("size", "38", ava)
    body = client.get(_url(room)).content.decode()
    assert "Another size" in body and "size 38" in body and ">\n              Sent" in body

    services.page_acknowledge(page=page, staff=ava)
    body = client.get(_url(room), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in body and body.strip().startswith('<section id="tablet-status"')
    assert "Ava is coming" in body


def test_a_staged_item_or_a_sku_names_the_item(client, room):
    item = factories.StagedItemFactory(
        reservation__room=room, product__name="Silk wrap dress", size="38"
    )
    services.visit_check_in(room=room)
    Visit.objects.update(reservation=item.reservation)
    factories.ProductFactory(sku="SHOE-39", name="Nude heels")

    body = client.get(_url(room)).content.decode()
    assert "Silk wrap dress · 38" in body

    client.post(_url(room, "page"), {"kind": "size", "staged_item": item.pk, "size": "40"})
    client.post(_url(room, "page"), {"kind": "colour", "sku": "shoe-39", "colour": "black"})
    labels = sorted(page.item_label for page in Page.objects.all())
    assert labels == ["Nude heels · black", "Silk wrap dress · size 40"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "size", "sku": "UNKNOWN"}, "We can't find this code"),
        ({"kind": "dance"}, "Select a valid choice"),
        ({"kind": "size", "staged_item": "999"}, "Select a valid choice"),
        ({"kind": "size", "size": "x" * 21}, "at most 20 characters"),
    ],
)
def test_bad_input_gets_a_field_message_and_sends_nothing(client, room, data, message):
    response = client.post(_url(room, "page"), data)
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Page.objects.exists()


def test_check_in_with_a_phone_links_the_visit_and_shows_nothing_about_the_client(
    client, room, store
):
    claire = factories.CustomerFactory(
        first_name="Claire", last_name="Dubois", phone="+12125550142", home_store=store
    )
    factories.OrderFactory(customer=claire)

    response = client.post(
        _url(room, "check-in"), {"phone": "212 555 0142", "consent_sms": "on"}, follow=True
    )

    body = response.content.decode()
    assert Visit.objects.get().customer == claire
    assert ConsentEvent.objects.get(customer=claire).source == "client"
    assert "You are checked in" in body
    for secret in ("Claire", "Dubois", "0142", "ORD-", claire.email):
        assert secret not in body
    services.page_send(room=room, kind=Page.Kind.HELP)
    body = client.get(_url(room)).content.decode()
    assert "Claire" not in body and "Dubois" not in body


def test_check_in_bad_input_gets_a_field_message(client, room):
    response = client.post(_url(room, "check-in"), {"phone": "123"})
    assert "Enter a valid phone number" in response.content.decode()
    response = client.post(_url(room, "check-in"), {"consent_sms": "on"})
    assert "Give your mobile number to receive text messages." in response.content.decode()
    assert not Visit.objects.exists()


def test_a_rotated_link_refuses_the_old_token(client, room):
    old = _url(room)
    old_page, old_check_in = _url(room, "page"), _url(room, "check-in")
    room.rotate_tablet_token()

    assert client.get(old).status_code == 404
    assert client.post(old_page, {"kind": "help"}).status_code == 404
    assert client.post(old_check_in, {}).status_code == 404
    assert not Page.objects.exists() and not Visit.objects.exists()
    assert client.get(_url(room)).status_code == 200
    assert client.post(_url(room, "page"), {"kind": "help"}).status_code == 302


def test_an_unknown_token_or_inactive_room_is_404(client, room):
    assert client.get("/fitting-room/nope/").status_code == 404
    room.is_active = False
    room.save()
    assert client.get(_url(room)).status_code == 404


def test_the_tablet_is_rate_limited_per_room(client, room, store, settings):
    settings.ROOMS_TABLET_RATE = "3/m"
    for kind in ("size", "colour", "help"):
        assert client.post(_url(room, "page"), {"kind": kind}).status_code == 302

    response = client.post(_url(room, "page"), {"kind": "checkout"})

    assert response.status_code == 429
    assert "please wait a moment" in response.content.decode()
    assert Page.objects.count() == 3
    assert client.post(_url(room, "check-in"), {}).status_code == 429
    other = factories.RoomFactory(store=store)
    assert client.post(_url(other, "page"), {"kind": "help"}).status_code == 302
    # Another device on the same room counts against the same room.
    assert Client().post(_url(room, "page"), {"kind": "checkout"}).status_code == 429


def test_the_tablet_forms_need_the_csrf_token(room):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(_url(room, "page"), {"kind": "help"}).status_code == 403
    assert strict.post(_url(room, "check-in"), {}).status_code == 403
    assert not Page.objects.exists()


def test_an_unchanged_tablet_poll_is_a_204_after_one_query(
    client, room, django_assert_num_queries, django_capture_on_commit_callbacks
):
    body = client.get(_url(room)).content.decode()
    poll = body.split('id="tablet-status"', 1)[1].split('hx-get="', 1)[1].split('"', 1)[0]
    poll = poll.replace("&amp;", "&")
    # the room by its token
    with django_assert_num_queries(1):
        assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204
    with django_capture_on_commit_callbacks(execute=True):
        services.page_send(room=room, kind=Page.Kind.HELP)
    # the room, its open visit, the visit's pages with who took them
    with django_assert_num_queries(3):
        response = client.get(poll, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Help" in response.content.decode()


def test_a_change_in_another_room_does_not_wake_this_tablet(
    client, room, store, django_capture_on_commit_callbacks
):
    body = client.get(_url(room)).content.decode()
    poll = body.split('hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    with django_capture_on_commit_callbacks(execute=True):
        services.page_send(room=factories.RoomFactory(store=store), kind=Page.Kind.HELP)
    assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204


def test_the_tablet_refuses_other_methods(client, room):
    assert client.post(_url(room)).status_code == 405
    assert client.get(_url(room, "page")).status_code == 405
    assert client.get(_url(room, "check-in")).status_code == 405
