"""Links shown on a page follow the host and port serving it, unless SITE_URL is set.

`PORT=8080 make demo` (or a phone scanning a QR code printed from the shop's Wi-Fi
address) must get links that work there, not on the default port.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import reverse

from clienteling.core.http import absolute_url, site_root
from tests import factories

pytestmark = pytest.mark.django_db

DEMO = {"HTTP_HOST": "127.0.0.1:8080"}


@pytest.fixture
def root(client):
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def room(store):
    return factories.RoomFactory(store=store, name="Room 3")


def _tablet(room) -> str:
    return f"/fitting-room/{room.tablet_token}/"


def test_admin_links_follow_the_host_and_port_serving_the_page(root, store, room, settings):
    settings.SITE_URL = ""
    feed = factories.CalendarFeedFactory(stylist__store=store)
    pages = {
        reverse("admin:stores_store_change", args=[store.pk]): f"/join/{store.signup_token}/",
        reverse("admin:appointments_room_change", args=[room.pk]): _tablet(room),
        reverse("admin:appointments_room_changelist"): _tablet(room),
        reverse("admin:appointments_calendarfeed_change", args=[feed.pk]): (
            f"/calendar/{feed.token}.ics"
        ),
        reverse("admin:appointments_calendarfeed_changelist"): f"/calendar/{feed.token}.ics",
    }
    for page, path in pages.items():
        body = root.get(page, **DEMO).content.decode()
        assert f'href="http://127.0.0.1:8080{path}"' in body, page
        assert "127.0.0.1:8000" not in body, page


def test_printed_tablet_codes_follow_the_host_and_port(root, room, settings):
    settings.SITE_URL = ""
    response = root.post(
        reverse("admin:appointments_room_changelist"),
        {"action": "print_tablet_codes", "_selected_action": [room.pk]},
        **DEMO,
    )
    assert f"http://127.0.0.1:8080{_tablet(room)}" in response.content.decode()


def test_a_site_url_that_is_set_wins_over_the_request(root, store, room, settings):
    settings.SITE_URL = "https://clienteling.example.com/"
    body = root.get(reverse("admin:appointments_room_change", args=[room.pk]), **DEMO)
    body = body.content.decode()
    assert f'href="https://clienteling.example.com{_tablet(room)}"' in body
    assert "127.0.0.1:8080" not in body
    body = root.get(reverse("admin:stores_store_change", args=[store.pk]), **DEMO)
    assert f"https://clienteling.example.com/join/{store.signup_token}/" in body.content.decode()


def test_the_associate_sign_up_code_follows_the_host_and_port(client, associate, settings):
    settings.SITE_URL = ""
    client.force_login(associate.user)
    body = client.get("/sign-up-code/", SERVER_NAME="127.0.0.1", SERVER_PORT="8080")
    assert f"http://127.0.0.1:8080/join/{associate.store.signup_token}/" in body.content.decode()
    settings.SITE_URL = "https://clienteling.example.com"
    body = client.get("/sign-up-code/", **DEMO).content.decode()
    assert f"https://clienteling.example.com/join/{associate.store.signup_token}/" in body


def test_the_calendar_feed_links_back_on_the_host_it_was_fetched_from(client, stylist, settings):
    settings.SITE_URL = ""
    feed = factories.CalendarFeedFactory(stylist=stylist)
    appointment = factories.AppointmentFactory(stylist=stylist, store=stylist.store)
    body = client.get(f"/calendar/{feed.token}.ics", **DEMO).content.decode()
    assert f"http://127.0.0.1:8080/appointments/{appointment.pk}/" in body.replace("\r\n ", "")


def test_a_host_outside_allowed_hosts_is_still_refused(root, room, settings):
    settings.SITE_URL = ""
    page = reverse("admin:appointments_room_change", args=[room.pk])
    assert root.get(page, HTTP_HOST="evil.example.com").status_code == 400


def test_without_a_request_only_development_has_a_fallback(settings):
    settings.SITE_URL = ""
    settings.DEBUG = True
    assert absolute_url("/m/x/") == "http://127.0.0.1:8000/m/x/"
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="SITE_URL must be set"):
        site_root()
    request = RequestFactory().get("/", HTTP_HOST="localhost:8080")
    assert absolute_url("/m/x/", request) == "http://localhost:8080/m/x/"
    settings.SITE_URL = "https://clienteling.example.com/"
    assert absolute_url("/m/x/", request) == "https://clienteling.example.com/m/x/"
