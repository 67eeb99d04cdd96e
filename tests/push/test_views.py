"""The service worker at /sw.js, and a device's notification switch (/push/subscriptions/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clienteling.push.models import PushSubscription
from tests.fake_push import BrowserKeys

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

SAVE = "/push/subscriptions/"
REMOVE = "/push/subscriptions/remove/"


def _body(endpoint="https://push.example.com/abc", keys: BrowserKeys | None = None) -> str:
    keys = keys or BrowserKeys()
    return json.dumps({"endpoint": endpoint, "keys": {"p256dh": keys.p256dh, "auth": keys.auth}})


def test_the_worker_is_served_from_the_root_never_cached_with_its_assets(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Cache-Control"] == "no-cache"
    assert response["Service-Worker-Allowed"] == "/"
    first_line = response.content.decode().splitlines()[0]
    config = json.loads(first_line.removeprefix("self.CONFIG = ").removesuffix(";"))
    assert "/static/css/app.css" in config["assets"] and len(config["version"]) == 12
    assert client.post("/sw.js").status_code == 405


def test_the_worker_leaves_every_public_page_alone():
    """Its allow-list names only associate areas; no public prefix falls under one."""
    from django.urls import reverse

    code = (ROOT / "static" / "js" / "sw.js").read_text(encoding="utf-8")
    allowed = json.loads(code.split("const ASSOCIATE = ", 1)[1].split(";", 1)[0])
    public = [
        reverse("room-tablet", args=["t"]),
        reverse("book", args=["nyc-soho"]),
        reverse("appointment-manage", args=["t"]),
        reverse("calendar-feed", args=["t"]),
        reverse("signup", args=["t"]),
        reverse("selection", args=["t"]),
        reverse("makeover-page", args=["t"]),
        reverse("unsubscribe", args=["t"]),
        reverse("login"),
        "/api/v1/",
        "/admin/",
        "/hooks/sms/",
    ]
    assert [path for path in public if any(path.startswith(a) for a in allowed)] == []


def test_the_prompt_shows_only_when_the_store_has_keys(client, associate, push_on):
    client.force_login(associate.user)
    page = client.get("/").content.decode()
    assert f'<meta name="push-key" content="{push_on.VAPID_PUBLIC_KEY}">' in page
    assert 'id="push-prompt"' in page


def test_without_keys_there_is_no_key_and_saving_is_refused(client, associate):
    client.force_login(associate.user)
    assert 'name="push-key"' not in client.get("/").content.decode()
    response = client.post(SAVE, _body(), content_type="application/json")
    assert response.status_code == 404
    assert PushSubscription.objects.count() == 0


def test_a_device_says_yes(client, associate, push_on):
    client.force_login(associate.user)
    keys = BrowserKeys()
    response = client.post(
        SAVE, _body(keys=keys), content_type="application/json", HTTP_USER_AGENT="Pixel 8"
    )
    assert response.status_code == 201
    subscription = PushSubscription.objects.get()
    assert (subscription.user, subscription.p256dh, subscription.auth, subscription.label) == (
        associate.user,
        keys.p256dh,
        keys.auth,
        "Pixel 8",
    )


def test_the_same_browser_signed_in_as_someone_else_rings_for_them_only(
    client, associate, stylist, push_on
):
    client.force_login(associate.user)
    client.post(SAVE, _body(), content_type="application/json")
    client.force_login(stylist.user)
    client.post(SAVE, _body(), content_type="application/json")
    assert list(PushSubscription.objects.values_list("user", flat=True)) == [stylist.user.pk]


@pytest.mark.parametrize(
    "body",
    [
        "{}",
        "not json",
        json.dumps({"endpoint": "http://10.0.0.1/internal", "keys": {"p256dh": "a", "auth": "b"}}),
        json.dumps({"endpoint": "https://push.example.com/x", "keys": "no"}),
    ],
)
def test_a_bad_subscription_is_refused(client, associate, push_on, body):
    client.force_login(associate.user)
    assert client.post(SAVE, body, content_type="application/json").status_code == 400
    assert PushSubscription.objects.count() == 0


def test_anonymous_is_sent_to_sign_in_and_get_is_not_allowed(client, associate, push_on):
    assert client.post(SAVE, _body(), content_type="application/json").status_code == 302
    client.force_login(associate.user)
    assert client.get(SAVE).status_code == 405
    assert PushSubscription.objects.count() == 0


def test_a_device_turns_off_only_its_own_person_s_subscription(client, associate, stylist, push_on):
    client.force_login(associate.user)
    client.post(SAVE, _body("https://push.example.com/mine"), content_type="application/json")
    PushSubscription.objects.create(
        user=stylist.user, endpoint="https://push.example.com/hers", p256dh="k", auth="a"
    )
    for endpoint in ("https://push.example.com/hers", "https://push.example.com/mine"):
        client.post(REMOVE, json.dumps({"endpoint": endpoint}), content_type="application/json")
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [
        "https://push.example.com/hers"
    ]
