"""Hardening: lockout by account, sessions renewed at sign-in and ended on the server,
idle sign-out for shared devices, the second factor for managers, security headers."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from clienteling.stores.services import staff_deactivate
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/login/"


def sign_in(client, username, password=PASSWORD, address="10.1.1.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


# --- Lockout ----------------------------------------------------------------------------------


def test_repeated_failures_lock_the_account_not_the_stores_address(client, associate, store):
    colleague = UserFactory(username="marcus")

    for _ in range(4):
        assert sign_in(client, "alice", "wrong-password").status_code == 200
    fifth = sign_in(client, "alice", "wrong-password")
    locked = sign_in(client, "alice")  # even the right password, for a while
    other = Client().post(
        LOGIN, {"username": "marcus", "password": PASSWORD}, REMOTE_ADDR="10.1.1.1"
    )

    assert fifth.status_code == locked.status_code == 429
    assert "Too many wrong passwords" in locked.content.decode()
    assert "15 min" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert other.status_code == 302  # the colleague on the same Wi-Fi signs in
    assert colleague.is_authenticated


def test_the_lockout_ends_after_the_cool_off(client, associate):
    start = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            sign_in(client, "alice", "wrong-password")
        assert sign_in(client, "alice").status_code == 429
    with time_machine.travel(start + datetime.timedelta(minutes=16), tick=False):
        assert sign_in(client, "alice").status_code == 302


def test_a_success_resets_the_count(client, associate):
    for _ in range(4):
        sign_in(client, "alice", "wrong-password")
    assert sign_in(client, "alice").status_code == 302
    client.post("/logout/")

    for _ in range(4):
        sign_in(client, "alice", "wrong-password")
    assert sign_in(client, "alice").status_code == 302


# --- Sessions -----------------------------------------------------------------------------------


def test_signing_in_renews_the_session_and_signing_out_ends_it_on_the_server(client, associate):
    client.get(LOGIN)
    anonymous_key = client.cookies["csrftoken"].value and client.session.session_key

    sign_in(client, "alice")
    signed_in_key = client.session.session_key
    client.post("/logout/")

    assert signed_in_key and signed_in_key != anonymous_key
    assert not Session.objects.filter(session_key=signed_in_key).exists()
    assert client.get("/").status_code == 302


def test_deactivating_a_staff_member_ends_their_sessions_everywhere(associate):
    phone, tablet = Client(), Client()
    sign_in(phone, "alice")
    sign_in(tablet, "alice", address="10.1.1.2")
    assert phone.get("/").status_code == 200

    ended = staff_deactivate(staff=associate)

    assert ended == 2
    assert phone.get("/").status_code == 302
    assert tablet.get("/").status_code == 302


def test_switching_a_user_off_in_the_admin_signs_them_out(client, associate):
    phone = Client()
    sign_in(phone, "alice")
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    user = associate.user

    response = client.post(
        reverse("admin:auth_user_change", args=[user.pk]),
        {
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "is_active": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
            "initial-date_joined_0": "2026-01-01",
            "initial-date_joined_1": "10:00:00",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert phone.get("/").status_code == 302


def test_a_session_idle_too_long_signs_itself_out(client, associate, settings):
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 30 * 60
    start = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        sign_in(client, "alice")
        assert client.get("/").status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=25), tick=False):
        assert client.get("/clients/").status_code == 200  # use: the clock starts again
    # The pager polls by itself every 1.5 s: that is not use.
    for minutes in (40, 50):
        with time_machine.travel(start + datetime.timedelta(minutes=minutes), tick=False):
            client.get("/rooms/pages/", HTTP_HX_REQUEST="true")
    with time_machine.travel(start + datetime.timedelta(minutes=56), tick=False):
        response = client.get("/clients/")
        poll = client.get("/rooms/pages/", HTTP_HX_REQUEST="true")

    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session
    assert poll.status_code in (200, 302)  # signed out: htmx gets sent to the login page


def test_an_idle_htmx_request_reloads_the_page_to_sign_in(client, associate, settings):
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 60
    start = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        sign_in(client, "alice")
        client.get("/")
    with time_machine.travel(start + datetime.timedelta(minutes=5), tick=False):
        response = client.get("/clients/?q=cla", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(LOGIN)


# --- The second factor --------------------------------------------------------------------------


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def test_a_manager_sets_up_an_authenticator_then_needs_its_code(client, manager, settings):
    settings.TWO_FACTOR_REQUIRED = True
    sign_in(client, "charlie")

    first = client.get("/")
    setup = client.get(first["Location"])
    device = TOTPDevice.objects.get(user=manager.user)
    wrong = client.post(reverse("two-factor-setup"), {"code": "000000", "next": "/"})
    # After a wrong code django-otp makes the next try wait a moment (1 s, then 2, 4...).
    with time_machine.travel(datetime.timedelta(seconds=3)):
        right = client.post(reverse("two-factor-setup"), {"code": _code(device), "next": "/"})

    assert first.status_code == 302 and first["Location"].startswith(reverse("two-factor-setup"))
    assert setup.status_code == 200 and "<svg" in setup.content.decode()
    assert "does not match" in wrong.content.decode()
    assert right.status_code == 302 and right["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.get("/admin/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed

    # The next sign-in asks for a code, not a new set-up.
    other = Client()
    sign_in(other, "charlie", address="10.1.1.9")
    again = other.get("/admin/")
    assert again["Location"].startswith(reverse("two-factor-verify"))
    # A code is good once: the next one comes 30 s later.
    with time_machine.travel(datetime.timedelta(seconds=33)):
        verified = other.post(
            reverse("two-factor-verify"), {"code": _code(device), "next": "/admin/"}
        )
    assert verified.status_code == 302, verified.content.decode()
    assert verified["Location"] == "/admin/"


def test_associates_are_not_asked_for_a_second_factor(client, associate, settings):
    settings.TWO_FACTOR_REQUIRED = True
    sign_in(client, "alice")

    assert client.get("/").status_code == 200


def test_a_bad_code_is_a_field_message(client, manager, settings):
    settings.TWO_FACTOR_REQUIRED = True
    sign_in(client, "charlie")
    client.get(reverse("two-factor-setup"))

    response = client.post(reverse("two-factor-setup"), {"code": "12ab"})

    assert response.status_code == 200
    assert "Enter the 6 digits" in response.content.decode()


# --- Headers -------------------------------------------------------------------------------------


def test_pages_carry_a_strict_content_security_policy_and_security_headers(client):
    response = client.get(LOGIN)

    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "geolocation=()" in response["Permissions-Policy"]


def test_only_the_api_docs_page_allows_inline_styles(client):
    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    assert "style-src 'self' 'unsafe-inline'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "<script>" not in response.content.decode()  # the start-up script is a file
