"""My pages: the associate's pager, the endpoint phones poll, acknowledge and resolve."""

from __future__ import annotations

import html

import pytest

from appointments import services
from appointments.models import Page
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/rooms/pages/"


def _poll_url(response) -> str:
    body = response.content.decode()
    return (
        body.split('id="pager"', 1)[1]
        .split('hx-get="', 1)[1]
        .split('"', 1)[0]
        .replace("&amp;", "&")
    )


def _page_for(staff, room, customer=None, **extra):
    visit = factories.VisitFactory(room=room, associate=staff, customer=customer)
    return factories.PageFactory(visit=visit, **extra)


def test_the_page_lists_my_pages_and_everyones_but_not_a_colleagues_first(
    client, associate, stylist, room
):
    mine = _page_for(associate, room, kind="size", size="M")
    hers = _page_for(stylist, factories.RoomFactory(store=room.store, name="Room 4"))
    everyone = factories.PageFactory(
        visit=factories.VisitFactory(room=factories.RoomFactory(store=room.store, name="Room 5")),
        kind="help",
    )
    client.force_login(associate.user)

    response = client.get(URL)

    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body
    assert f'id="page-{mine.pk}"' in body and "For you first" in body and "size M" in body
    assert f'id="page-{everyone.pk}"' in body and "For everyone" in body
    assert f'id="page-{hers.pk}"' not in body
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_htmx_answer_is_the_pager_alone(client, associate, room):
    _page_for(associate, room)
    client.force_login(associate.user)
    response = client.get(URL, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body
    assert body.strip().startswith('<section id="pager"')
    assert response["Vary"] == "HX-Request, Cookie"


def test_a_poll_with_nothing_new_is_a_204_after_one_query(
    client, associate, room, django_assert_num_queries
):
    for _ in range(3):
        _page_for(associate, factories.RoomFactory(store=room.store))
    client.force_login(associate.user)
    poll = _poll_url(client.get(URL, HTTP_HX_REQUEST="true"))

    # user with staff and store (the session and the version come from the cache)
    with django_assert_num_queries(1):
        response = client.get(poll, HTTP_HX_REQUEST="true")

    assert response.status_code == 204
    assert response.content == b""
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("pages", [2, 12])
def test_a_changed_poll_costs_two_queries_whatever_the_pages(
    client, associate, room, pages, django_assert_num_queries, django_capture_on_commit_callbacks
):
    client.force_login(associate.user)
    poll = _poll_url(client.get(URL, HTTP_HX_REQUEST="true"))
    for _ in range(pages):
        customer = factories.CustomerFactory(home_store=room.store)
        visit = factories.VisitFactory(
            room=factories.RoomFactory(store=room.store), associate=associate, customer=customer
        )
        factories.PageFactory(visit=visit, product=factories.ProductFactory())
    other_room = factories.RoomFactory(store=room.store)
    with django_capture_on_commit_callbacks(execute=True):
        services.page_send(room=other_room, kind=Page.Kind.HELP)  # bumps the version

    # user with staff and store, pages with rooms, items, who took them and their clients
    with django_assert_num_queries(2):
        response = client.get(poll, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response.content.decode().count('class="list-row page-row') == pages + 1


def test_a_stale_or_odd_version_gets_the_pager(client, associate):
    client.force_login(associate.user)
    for query in ("?v=1&t=1", "?v=x&t=y", "?v=1"):
        assert client.get(URL + query, HTTP_HX_REQUEST="true").status_code == 200


def test_the_client_of_a_page_is_one_tap_away_when_visible(client, associate, room, other_store):
    claire = factories.CustomerFactory(
        first_name="Claire", last_name="Dubois", home_store=room.store
    )
    stranger = factories.CustomerFactory(first_name="Zoe", last_name="Far", home_store=other_store)
    _page_for(associate, room, customer=claire)
    factories.PageFactory(
        visit=factories.VisitFactory(
            room=factories.RoomFactory(store=room.store), customer=stranger
        )
    )
    client.force_login(associate.user)
    body = client.get(URL).content.decode()
    assert f'href="/clients/{claire.pk}/"' in body and "Claire Dubois" in body
    assert "Zoe Far" not in body


def test_acknowledge_with_htmx_returns_the_pager_saying_so(client, associate, room):
    page = _page_for(associate, room)
    client.force_login(associate.user)
    response = client.post(
        f"/rooms/pages/{page.pk}/acknowledge/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="pager"
    )
    body = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "You're on it: Room 3, another size." in body
    assert ">Done<" in body
    page.refresh_from_db()
    assert page.acknowledged_by == associate


def test_acknowledge_without_htmx_redirects_back_with_a_message(client, associate, room):
    page = _page_for(associate, room)
    client.force_login(associate.user)
    response = client.post(f"/rooms/pages/{page.pk}/acknowledge/", {"next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    response = client.post(
        f"/rooms/pages/{page.pk}/acknowledge/", {"next": "https://evil.example.com/"}
    )
    assert response["Location"] == URL


def test_a_late_colleague_is_told_who_took_it(client, associate, stylist, room):
    page = factories.PageFactory(visit=factories.VisitFactory(room=room))
    services.page_acknowledge(page=page, staff=stylist)
    client.force_login(associate.user)

    response = client.post(
        f"/rooms/pages/{page.pk}/acknowledge/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="pager"
    )
    assert response.status_code == 200
    assert f"{stylist.display_name} is on it." in response.content.decode()
    plain = client.post(f"/rooms/pages/{page.pk}/acknowledge/", follow=True)
    assert f"{stylist.display_name} is on it." in plain.content.decode()
    page.refresh_from_db()
    assert page.acknowledged_by == stylist


def test_resolve_closes_the_page(client, associate, room):
    page = _page_for(associate, room)
    services.page_acknowledge(page=page, staff=associate)
    client.force_login(associate.user)
    response = client.post(
        f"/rooms/pages/{page.pk}/resolve/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="pager"
    )
    assert response.status_code == 200
    assert "No client is waiting for you" in response.content.decode()
    page.refresh_from_db()
    assert (page.resolved_by, page.is_open) == (associate, False)


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_another_stores_page_is_404_and_untouched(client, other_store_associate, room, action):
    page = factories.PageFactory(visit=factories.VisitFactory(room=room))
    client.force_login(other_store_associate.user)
    assert client.post(f"/rooms/pages/{page.pk}/{action}/").status_code == 404
    page.refresh_from_db()
    assert (page.acknowledged_at, page.resolved_at) == (None, None)


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_page_actions_refuse_get_and_anonymous_users(client, associate, room, action):
    page = factories.PageFactory(visit=factories.VisitFactory(room=room))
    url = f"/rooms/pages/{page.pk}/{action}/"
    anonymous = client.post(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    client.force_login(associate.user)
    assert client.get(url).status_code == 405
    page.refresh_from_db()
    assert page.acknowledged_at is None


def test_my_pages_refuses_post_anonymous_and_people_without_a_store(client):
    assert client.get(URL)["Location"].startswith("/login/")
    client.force_login(factories.UserFactory(username="newbie"))
    assert client.get(URL).status_code == 404
    assert client.post(URL).status_code == 405


def test_today_shows_my_pages_and_polls_them(client, associate, room, django_assert_num_queries):
    claire = factories.CustomerFactory(first_name="Claire", home_store=room.store)
    _page_for(associate, room, customer=claire)
    client.force_login(associate.user)
    body = client.get("/").content.decode()
    assert 'id="pager"' in body and "Room 3" in body
    assert f'href="/clients/{claire.pk}/"' in body
    assert 'hx-get="/rooms/pages/?v=' in body and "js/rooms.js" in body


def test_a_page_for_one_associate_wakes_only_their_phone(
    client, associate, stylist, room, django_capture_on_commit_callbacks
):
    phones = {}
    for staff in (associate, stylist):
        client.force_login(staff.user)
        phones[staff.pk] = _poll_url(client.get(URL, HTTP_HX_REQUEST="true"))
    services.visit_start(room=room, associate=stylist)

    with django_capture_on_commit_callbacks(execute=True):
        services.page_send(room=room, kind=Page.Kind.SIZE)

    client.force_login(associate.user)
    assert client.get(phones[associate.pk], HTTP_HX_REQUEST="true").status_code == 204
    client.force_login(stylist.user)
    assert client.get(phones[stylist.pk], HTTP_HX_REQUEST="true").status_code == 200


def test_a_page_for_everyone_and_its_taking_wake_every_phone(
    client, associate, stylist, room, django_capture_on_commit_callbacks
):
    def polls():
        urls = {}
        for staff in (associate, stylist):
            client.force_login(staff.user)
            urls[staff.pk] = _poll_url(client.get(URL, HTTP_HX_REQUEST="true"))
        return urls

    def statuses(urls):
        result = []
        for staff in (associate, stylist):
            client.force_login(staff.user)
            result.append(client.get(urls[staff.pk], HTTP_HX_REQUEST="true").status_code)
        return result

    before = polls()
    with django_capture_on_commit_callbacks(execute=True):
        page = services.page_send(room=room, kind=Page.Kind.HELP).page
    assert statuses(before) == [200, 200]

    before = polls()
    with django_capture_on_commit_callbacks(execute=True):
        services.page_acknowledge(page=page, staff=stylist)
    assert statuses(before) == [200, 200]  # gone from Alice's phone, "Done" on Sofia's


def test_done_says_done_not_on_it(client, associate, room):
    page = _page_for(associate, room)
    client.force_login(associate.user)
    client.post(f"/rooms/pages/{page.pk}/acknowledge/", HTTP_HX_REQUEST="true")
    response = client.post(
        f"/rooms/pages/{page.pk}/resolve/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="pager"
    )
    body = html.unescape(response.content.decode())
    assert "Done: Room 3, another size." in body
    assert "You're on it" not in body
