"""The phone in the pocket, in chromium: installable, the service worker's scope, offline
reading, notifications (the opt-in, a push through the DevTools protocol, its tap), and
nothing left behind at sign-out."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from clienteling.push.management.commands.generate_vapid_keys import vapid_key_pair
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    CSP_WATCH,
    PHONE,
    ROOT,
    axe_violations,
    login,
    small_touch_targets,
)
from tests.factories import PASSWORD, CustomerFactory, StaffMemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCREENS = ROOT / "test-artifacts" / "screens"
TABLET = {"width": 1024, "height": 1366}


@pytest.fixture
def ava(store):
    return StaffMemberFactory(
        user__username="ava", user__first_name="Ava", user__last_name="Stone", store=store
    )


@pytest.fixture
def push_on(settings):
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = vapid_key_pair()
    return settings


def _wait_for(page, expression: str, timeout: float = 10.0):
    """Poll a JS expression until truthy (wait_for_function evals a string: the page's
    Content-Security-Policy forbids that)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"not true within {timeout} s: {expression}")


def _controlled(page) -> str:
    """Wait until the service worker controls the page; return its scope."""
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    _wait_for(page, "navigator.serviceWorker.controller !== null")
    return scope


def _kept_pages(page) -> list[str]:
    return page.evaluate(
        """caches.open("pages").then((c) => c.keys()).then((keys) =>
             keys.map((r) => new URL(r.url).pathname + new URL(r.url).search))"""
    )


def _screenshot(page, name: str) -> Path:
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / name
    page.screenshot(path=str(path))
    return path


@pytest.fixture
def profile_page(playwright, tmp_path):
    """A page in a browser profile of its own: Playwright's usual contexts are incognito,
    where chromium never offers to install anything ("in-incognito")."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        args=CHROMIUM_FLAGS,
        viewport=PHONE,
        has_touch=True,
        is_mobile=True,
    )
    context.add_init_script(CSP_WATCH)
    yield context.pages[0] if context.pages else context.new_page()
    context.close()


def test_the_app_is_installable_and_its_worker_covers_the_associate_pages(
    profile_page, live_server, ava
):
    page = profile_page
    login(page, live_server, "ava", PASSWORD)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    assert _controlled(page) == f"{live_server.url}/"

    # What Lighthouse checks for "installable" is what chromium itself reports.
    cdp = page.context.new_cdp_session(page)
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == []
    data = json.loads(manifest["data"])
    assert data["display"] == "standalone" and data["start_url"] == "/"
    purposes = {(icon["sizes"], icon["purpose"]) for icon in data["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= purposes
    for icon in data["icons"]:
        response = page.request.get(live_server.url + icon["src"])
        assert response.ok and response.headers["content-type"] == "image/png"
    assert axe_violations(page) == []


def test_public_pages_bypass_the_worker_and_nothing_of_them_is_kept(page, live_server, ava, store):
    login(page, live_server, "ava", PASSWORD)
    _controlled(page)
    page.goto(f"{live_server.url}/book/{store.code}/")
    page.goto(f"{live_server.url}/")
    kept = _kept_pages(page)
    assert "/" in kept
    assert not [path for path in kept if path.startswith("/book/")]

    page.context.set_offline(True)
    # Today was kept: it opens without signal, marked with the time it was fetched.
    page.goto(f"{live_server.url}/")
    expect(page.locator(".offline-banner")).to_contain_text(re.compile(r"as of \d\d:\d\d"))
    # The public booking page is not the worker's: the browser's own network error.
    with pytest.raises(PlaywrightError, match="ERR_INTERNET_DISCONNECTED"):
        page.goto(f"{live_server.url}/book/{store.code}/")
    page.context.set_offline(False)


def test_today_my_book_and_recent_cards_open_without_signal(page, live_server, ava, store):
    claire = CustomerFactory(
        first_name="Claire", last_name="Dubois", home_store=store, assigned_associate=ava
    )
    never_opened = CustomerFactory(first_name="Hugo", home_store=store, assigned_associate=ava)
    login(page, live_server, "ava", PASSWORD)
    _controlled(page)
    page.goto(f"{live_server.url}/clients/{claire.pk}/")
    expect(page.get_by_role("heading", name=re.compile("Claire Dubois"))).to_be_visible()
    page.goto(f"{live_server.url}/clients/")
    page.goto(f"{live_server.url}/")

    page.context.set_offline(True)
    for path, text in [
        ("/", "Today"),
        ("/clients/", "Claire"),
        (f"/clients/{claire.pk}/", "Claire Dubois"),
    ]:
        page.goto(live_server.url + path)
        expect(page.locator("main")).to_contain_text(text)
        expect(page.locator(".offline-banner")).to_contain_text("as of")
    _screenshot(page, "offline-card-390.png")
    page.set_viewport_size(TABLET)
    _screenshot(page, "offline-card-1024.png")
    page.goto(f"{live_server.url}/clients/{never_opened.pk}/")
    expect(page.get_by_role("heading", name="No signal")).to_be_visible()
    page.context.set_offline(False)


def test_sign_out_leaves_nothing_in_cache_storage_or_indexeddb(page, live_server, ava, store):
    claire = CustomerFactory(first_name="Claire", home_store=store, assigned_associate=ava)
    login(page, live_server, "ava", PASSWORD)
    _controlled(page)
    page.goto(f"{live_server.url}/clients/{claire.pk}/")
    page.evaluate(
        """new Promise((resolve) => {
             const open = indexedDB.open("clienteling", 1);
             open.onupgradeneeded = () => open.result.createObjectStore("queue");
             open.onsuccess = () => { open.result.close(); resolve(); };
           })"""
    )
    assert _kept_pages(page) != []

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()
    _wait_for(page, "document.documentElement.dataset.deviceCleared === 'true'")
    assert page.evaluate("caches.keys()") == []
    assert page.evaluate("indexedDB.databases().then((d) => d.map((x) => x.name))") == []
    # Offline, the shared tablet shows nobody's book.
    page.context.set_offline(True)
    page.goto(f"{live_server.url}/clients/{claire.pk}/")
    expect(page.locator("main")).not_to_contain_text("Claire")
    page.context.set_offline(False)


def test_notifications_are_offered_after_a_tap_never_on_load(page, live_server, ava, push_on):
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    page.add_init_script(
        "Object.defineProperty(Notification, 'permission', {get: () => 'default'})"
    )
    login(page, live_server, "ava", PASSWORD)
    _controlled(page)
    prompt = page.locator("#push-prompt")
    expect(prompt).to_be_hidden()
    page.locator("main h1").first.click()  # a first tap anywhere
    expect(prompt).to_be_visible()
    expect(prompt.get_by_role("heading")).to_have_text("Get pages on this phone?")
    assert axe_violations(page) == []
    assert small_touch_targets(page, "#push-prompt button") == []
    _screenshot(page, "push-prompt-390.png")
    page.set_viewport_size(TABLET)
    _screenshot(page, "push-prompt-1024.png")
    prompt.get_by_role("button", name="Not now").click()
    expect(prompt).to_be_hidden()
    page.reload()
    page.locator("main h1").first.click()
    expect(prompt).to_be_hidden()  # asked again only a week later


def test_a_push_shows_its_notification_and_a_tap_opens_its_page(page, live_server, ava, store):
    claire = CustomerFactory(first_name="Claire", home_store=store, assigned_associate=ava)
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    login(page, live_server, "ava", PASSWORD)
    cdp = page.context.new_cdp_session(page)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    _controlled(page)
    page.wait_for_timeout(200)
    registration_id = next(
        r["registrationId"] for r in registrations if r["scopeURL"] == f"{live_server.url}/"
    )

    def deliver(payload: dict) -> None:
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": f"{live_server.url}/",
                "registrationId": registration_id,
                "data": json.dumps(payload),
            },
        )

    url = f"/clients/{claire.pk}/conversation/"
    deliver(
        {
            "type": "show",
            "kind": "client_replied",
            "tag": f"client-{claire.pk}",
            "title": "Claire wrote back",
            "body": "By text: open the conversation.",
            "url": url,
        }
    )
    _wait_for(page, "window.clientelingDevice.pushes.length > 0")
    shown = page.evaluate(
        """navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((list) =>
             list.map((n) => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url})))"""
    )
    assert shown == [
        {
            "title": "Claire wrote back",
            "body": "By text: open the conversation.",
            "tag": f"client-{claire.pk}",
            "url": url,
        }
    ]

    # The tap: the worker's notificationclick path brings this window to the page.
    page.evaluate(
        "(tag) => navigator.serviceWorker.controller.postMessage({type: 'open-notification', tag})",
        f"client-{claire.pk}",
    )
    page.wait_for_url(f"{live_server.url}{url}")

    # Taken on another device: the notification goes quiet (replaced, silent).
    _controlled(page)
    deliver({"type": "show", "kind": "page", "tag": "page-7", "title": "Room 3: another size"})
    _wait_for(page, "window.clientelingDevice.pushes.length > 0")
    deliver({"type": "close", "tag": "page-7", "title": "Ava is on it: Room 3"})
    _wait_for(page, "window.clientelingDevice.pushes.some((p) => p.type === 'push-closed')")
    titles = page.evaluate(
        """navigator.serviceWorker.ready.then((r) => r.getNotifications({tag: "page-7"}))
             .then((list) => list.map((n) => [n.title, n.silent]))"""
    )
    assert titles == [["Ava is on it: Room 3", True]]


def test_notes_written_without_signal_arrive_once_across_many_toggles(
    page, live_server, ava, store
):
    from customers.models import Note

    claire = CustomerFactory(first_name="Claire", home_store=store, assigned_associate=ava)
    login(page, live_server, "ava", PASSWORD)
    _controlled(page)
    card = f"{live_server.url}/clients/{claire.pk}/"
    page.goto(card)
    written = [f"Offline note {n}" for n in range(8)]
    for n, text in enumerate(written):
        page.context.set_offline(True)
        if n == 0:
            page.goto(card)  # the card kept by the worker, without signal
            expect(page.locator(".offline-banner")).to_be_visible()
        page.get_by_label("New note").fill(text)
        page.get_by_role("button", name="Add note").click()
        expect(page.locator("#notes .pending-mark")).to_contain_text("saved on this phone")
        expect(page.locator("#device-status")).to_contain_text("wait")
        # Signal flickers: back for a moment (sending starts), gone again mid-send.
        page.context.set_offline(False)
        page.wait_for_timeout(n * 15)
    page.context.set_offline(True)
    page.wait_for_timeout(100)
    assert _wait_for(page, "window.clientelingOffline.pendingCount >= 0") is not None

    page.context.set_offline(False)
    page.evaluate("window.clientelingOffline.flush()")
    _wait_for(page, "window.clientelingOffline.pendingCount === 0", timeout=20)
    texts = list(Note.objects.filter(customer=claire).values_list("text", flat=True))
    assert sorted(texts) == sorted(written)  # every one, none twice
    expect(page.locator("#device-status")).to_be_hidden()
    page.reload()
    expect(page.locator("#notes")).to_contain_text("Offline note 7")
    assert axe_violations(page) == []


def test_a_deactivated_account_leaves_nothing_on_the_shared_device(page, live_server, ava, store):
    claire = CustomerFactory(first_name="Claire", home_store=store, assigned_associate=ava)
    login(page, live_server, "ava", PASSWORD)
    _controlled(page)
    page.goto(f"{live_server.url}/clients/{claire.pk}/")
    assert f"/clients/{claire.pk}/" in _kept_pages(page)

    type(ava.user).objects.filter(pk=ava.user.pk).update(is_active=False)
    page.goto(f"{live_server.url}/")  # the next page: signed out, to the sign-in page
    expect(page.get_by_label("Username")).to_be_visible()
    _wait_for(page, "document.documentElement.dataset.deviceCleared === 'true'")
    assert page.evaluate("caches.keys()") == []
    page.context.set_offline(True)
    page.goto(f"{live_server.url}/clients/{claire.pk}/")
    expect(page.locator("main")).not_to_contain_text("Claire")
    page.context.set_offline(False)


def test_signing_out_with_writes_waiting_asks_first(page, live_server, ava, store):
    from customers.models import Note

    claire = CustomerFactory(first_name="Claire", home_store=store, assigned_associate=ava)
    login(page, live_server, "ava", PASSWORD)
    _controlled(page)
    page.goto(f"{live_server.url}/clients/{claire.pk}/")
    page.context.set_offline(True)
    page.get_by_label("New note").fill("Written in the stockroom")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes .pending-mark")).to_be_visible()
    expect(page.locator("#device-status")).to_contain_text("1 change waits to be sent.")
    page.locator("#notes").scroll_into_view_if_needed()
    _screenshot(page, "offline-pending-390.png")
    page.set_viewport_size(TABLET)
    page.locator("#notes").scroll_into_view_if_needed()
    _screenshot(page, "offline-pending-1024.png")

    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_timeout(500)
    assert dialogs and "1 change has not been sent yet" in dialogs[0]
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # still signed in
    assert page.evaluate("window.clientelingOffline.pendingCount") == 1

    # With signal back, signing out sends it first, then leaves nothing behind.
    page.context.set_offline(False)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()
    assert list(Note.objects.filter(customer=claire).values_list("text", flat=True)) == [
        "Written in the stockroom"
    ]
    _wait_for(page, "document.documentElement.dataset.deviceCleared === 'true'")
    assert page.evaluate("caches.keys()") == []


def test_a_tablet_handed_to_a_client_shows_no_book_without_signal(page, live_server, ava, store):
    claire = CustomerFactory(first_name="Claire", home_store=store, assigned_associate=ava)
    other = CustomerFactory(first_name="Hugo", last_name="Brandt", home_store=store)
    login(page, live_server, "ava", PASSWORD)
    _controlled(page)
    page.goto(f"{live_server.url}/clients/{other.pk}/")
    page.goto(f"{live_server.url}/")
    assert "/" in _kept_pages(page)

    # Ava hands the tablet to Claire for her questionnaire (a page without the staff's bar).
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    page.request.post(
        f"{live_server.url}/clients/{claire.pk}/handover/",
        headers={"X-CSRFToken": token, "Referer": f"{live_server.url}/"},
        max_redirects=0,
    )
    page.goto(f"{live_server.url}/")  # the lock sends every page to the questionnaire
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    _wait_for(page, "caches.has('pages').then((has) => !has)")

    # Claire turns the signal off and types the staff pages' addresses: nothing of them.
    page.context.set_offline(True)
    for path in ("/", f"/clients/{other.pk}/", "/clients/"):
        page.goto(live_server.url + path)
        expect(page.locator("body")).not_to_contain_text("Brandt")
        expect(page.get_by_role("heading", name="No signal")).to_be_visible()
    page.context.set_offline(False)


# Headless chromium has no push service to subscribe with: the browser's answer is stubbed
# (the endpoint and keys it would give); everything of ours around it runs for real.
FAKE_SUBSCRIBE = """
const fakeSub = () => ({
  endpoint: 'https://push.example.com/send/ava-phone',
  toJSON: () => ({endpoint: 'https://push.example.com/send/ava-phone',
                  keys: {p256dh: 'BPublicKeyOfThePhone', auth: 'AuthSecret'}}),
  unsubscribe: () => { sessionStorage.removeItem('sub'); return Promise.resolve(true); },
});
Object.defineProperty(Notification, 'permission', {get: () => sessionStorage.getItem('perm') || 'default'});
Notification.requestPermission = () => { sessionStorage.setItem('perm', 'granted'); return Promise.resolve('granted'); };
PushManager.prototype.getSubscription = function () {
  return Promise.resolve(sessionStorage.getItem('sub') ? fakeSub() : null);
};
PushManager.prototype.subscribe = function (options) {
  window.__subscribeOptions = options;
  sessionStorage.setItem('sub', '1');
  return Promise.resolve(fakeSub());
};
"""


def test_turning_notifications_on_saves_this_device_for_its_person(page, live_server, ava, push_on):
    from clienteling.push.models import PushSubscription

    page.add_init_script(FAKE_SUBSCRIBE)
    login(page, live_server, "ava", PASSWORD)
    _controlled(page)
    page.locator("main h1").first.click()
    page.get_by_role("button", name="Turn on notifications").click()
    expect(page.locator("#push-prompt [data-push-status]")).to_have_text(
        "Notifications are on for this phone."
    )
    subscription = PushSubscription.objects.get()
    assert (subscription.user, subscription.endpoint) == (
        ava.user,
        "https://push.example.com/send/ava-phone",
    )
    assert page.evaluate("window.__subscribeOptions.userVisibleOnly") is True
    expect(page.locator("#push-prompt")).to_be_hidden()

    # Still on after a reload; signing out forgets this device on the server too.
    page.reload()
    page.wait_for_timeout(300)
    assert PushSubscription.objects.count() == 1
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()
    assert PushSubscription.objects.count() == 0
