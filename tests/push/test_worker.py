"""A push sent by the real worker after commit reaches a push service on loopback, VAPID
signed and encrypted for the browser (RFC 8291, aes128gcm): decrypted here with the
subscription's own keys. A browser that left (410) is forgotten."""

from __future__ import annotations

import pytest

from appointments import services as appointment_services
from appointments.models import Page
from clienteling.push.models import Notice, PushSubscription
from tests.conftest import wait_for
from tests.factories import CustomerFactory, RoomFactory, VisitFactory
from tests.fake_push import BrowserKeys, FakePushService
from tests.push.conftest import subscribe

pytestmark = [pytest.mark.worker]


@pytest.fixture
def push_service():
    with FakePushService() as service:
        yield service


def test_a_fitting_room_page_reaches_the_phone_encrypted_for_it_alone(
    celery_worker, push_on, push_service, store, associate
):
    keys = BrowserKeys()
    phone = subscribe(associate.user, push_service.endpoint("alice-phone"), keys)
    room = RoomFactory(store=store, name="Room 3")
    claire = CustomerFactory(first_name="Claire", last_name="Dubois", home_store=store)
    VisitFactory(room=room, associate=associate, customer=claire)

    page = appointment_services.page_send(room=room, kind=Page.Kind.COLOUR, colour="navy").page

    wait_for(lambda: push_service.received)
    push = push_service.received[0]
    assert push["path"] == "/push/alice-phone"
    assert push["headers"]["content-encoding"] == "aes128gcm"
    assert push["headers"]["authorization"].startswith("vapid t=")
    assert int(push["headers"]["ttl"]) > 0
    assert b"Claire" not in push["body"]  # encrypted on the wire
    assert keys.decrypt(push["body"]) == {
        "type": "show",
        "kind": "page",
        "tag": f"page-{page.pk}",
        "title": "Claire in Room 3: another colour",
        "body": "Asks for another colour (navy).",
        "url": "/rooms/pages/",
    }
    # Another browser's keys cannot read it.
    with pytest.raises(Exception):  # noqa: B017 (any decryption failure)
        BrowserKeys().decrypt(push["body"])
    wait_for(lambda: PushSubscription.objects.get(pk=phone.pk).last_success_at)
    assert Notice.objects.count() == 0  # the outbox row went with the push


def test_a_browser_that_left_is_forgotten(celery_worker, push_on, push_service, store, associate):
    left = subscribe(associate.user, push_service.endpoint("old-phone"))
    kept = subscribe(associate.user, push_service.endpoint("new-phone"))
    push_service.statuses["/push/old-phone"] = 410
    push_service.statuses["/push/new-phone"] = 201
    room = RoomFactory(store=store, name="Room 3")
    VisitFactory(room=room, associate=associate)

    appointment_services.page_send(room=room, kind=Page.Kind.HELP)

    wait_for(lambda: not PushSubscription.objects.filter(pk=left.pk).exists())
    wait_for(lambda: PushSubscription.objects.get(pk=kept.pk).last_success_at)
    assert sorted(p["path"] for p in push_service.received) == [
        "/push/new-phone",
        "/push/old-phone",
    ]


def test_a_push_service_error_keeps_the_subscription(
    celery_worker, push_on, push_service, store, associate
):
    phone = subscribe(associate.user, push_service.endpoint("flaky"))
    push_service.statuses["/push/flaky"] = 503
    room = RoomFactory(store=store)
    VisitFactory(room=room, associate=associate)
    appointment_services.page_send(room=room, kind=Page.Kind.HELP)
    wait_for(lambda: push_service.received)
    wait_for(lambda: Notice.objects.count() == 0)
    phone.refresh_from_db()
    assert phone.last_success_at is None
