"""The outbox: queue once, deliver once, wait for quiet hours, retry, stop on STOP."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from clienteling.channels.sms import FileSmsTransport
from customers.models import Bounce, ConsentEvent, ContactPreferences, Message
from customers.services import outreach
from customers.services.outreach import message_deliver, message_queue, messages_sweep
from tests.factories import ConsentEventFactory, CustomerFactory
from tests.fakes import FakeSmsProvider

pytestmark = pytest.mark.django_db

NOON_NY = datetime.datetime(2026, 11, 20, 17, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def at_noon():
    with time_machine.travel(NOON_NY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def claire(store):
    customer = CustomerFactory(
        first_name="Claire", home_store=store, email="claire@example.com", phone="+12125550142"
    )
    ConsentEventFactory(
        customer=customer,
        channel="sms",
        granted=True,
        recorded_at=NOON_NY - datetime.timedelta(days=30),
    )
    ConsentEventFactory(
        customer=customer,
        channel="email",
        granted=True,
        recorded_at=NOON_NY - datetime.timedelta(days=30),
    )
    return customer


@pytest.fixture
def sms_outbox(settings, tmp_path):
    settings.SMS_TRANSPORT = "clienteling.channels.sms.FileSmsTransport"
    settings.SMS_FILE_PATH = tmp_path
    return FileSmsTransport(tmp_path)


def _queue(customer, key="k1", channel="sms", **extra):
    return message_queue(
        customer=customer, channel=channel, body="Hi Claire!", dedupe_key=key, **extra
    )


def test_queue_twice_with_one_key_is_one_message(claire, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = _queue(claire)
        second = _queue(claire)
    assert first.pk == second.pk
    assert Message.objects.count() == 1
    assert len(callbacks) == 1  # one delivery task


def test_deliver_sends_once_even_when_run_twice(claire, sms_outbox):
    message = _queue(claire)
    assert message_deliver(message_id=message.pk) == "sent"
    assert message_deliver(message_id=message.pk) == "skipped"
    message.refresh_from_db()
    assert (message.status, message.sent_at, message.attempts) == ("sent", NOON_NY, 1)
    assert [sms["to"] for sms in sms_outbox.read()] == ["+12125550142"]
    assert sms_outbox.read()[0]["provider_id"] == message.dedupe_key


def test_a_message_queued_in_quiet_hours_waits_in_the_database(claire, sms_outbox, at_noon):
    ContactPreferences.objects.create(
        customer=claire, quiet_hours_start=datetime.time(21), quiet_hours_end=datetime.time(9)
    )
    at_noon.move_to(
        datetime.datetime(2026, 11, 21, 3, 30, tzinfo=datetime.UTC)
    )  # 22:30 in New York
    message = _queue(claire)
    assert message.scheduled_for == datetime.datetime(2026, 11, 21, 14, 0, tzinfo=datetime.UTC)
    assert messages_sweep()["enqueued"] == 0
    assert message_deliver(message_id=message.pk) == "skipped"  # not due

    at_noon.move_to(datetime.datetime(2026, 11, 21, 14, 1, tzinfo=datetime.UTC))
    assert messages_sweep()["enqueued"] == 1
    assert message_deliver(message_id=message.pk) == "sent"
    assert len(sms_outbox.read()) == 1


def test_the_weekly_cap_suppresses_marketing_with_its_reason(claire, sms_outbox):
    for n in range(2):
        message_deliver(message_id=_queue(claire, key=f"m{n}").pk)
    third = _queue(claire, key="m3")
    service = _queue(claire, key="s1", is_marketing=False)
    assert (third.status, third.suppressed_reason) == (
        "suppressed",
        "Already had 2 messages this week (at most 2).",
    )
    assert service.status == "queued"


def test_consent_revoked_after_queueing_is_checked_again_at_send_time(claire, sms_outbox):
    message = _queue(claire)
    ConsentEventFactory(customer=claire, channel="sms", granted=False, recorded_at=timezone.now())
    assert message_deliver(message_id=message.pk) == "suppressed"
    message.refresh_from_db()
    assert message.suppressed_reason.startswith("Said no to text messages on")
    assert sms_outbox.read() == []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_queues_nothing(claire):
    with pytest.raises(RuntimeError), transaction.atomic():
        _queue(claire)
        raise RuntimeError("the order write failed")
    assert not Message.objects.exists()


def test_a_dead_workers_claim_is_taken_over_and_the_provider_drops_the_repeat(
    claire, settings, at_noon
):
    settings.SMS_TRANSPORT = "clienteling.channels.http.HttpSmsTransport"
    with FakeSmsProvider() as provider:
        settings.SMS_HTTP_URL, settings.SMS_HTTP_TOKEN = provider.url, provider.token
        message = _queue(claire)
        # A worker claimed it and sent it, then died before writing "sent".
        outreach._claim(message.pk, timezone.now())
        from clienteling.channels import OutgoingMessage, get_transport

        get_transport("sms").send(
            OutgoingMessage(to="+12125550142", body="Hi Claire!", dedupe_key=message.dedupe_key)
        )

        at_noon.shift(datetime.timedelta(seconds=settings.MESSAGE_CLAIM_LEASE_SECONDS + 1))
        assert messages_sweep()["requeued"] == 1
        assert message_deliver(message_id=message.pk) == "sent"

    assert len(provider.received) == 2
    assert len(provider.accepted) == 1  # the provider kept one message
    message.refresh_from_db()
    assert message.provider_id == "SM00001"


def test_transient_provider_errors_retry_with_backoff_then_succeed(claire, settings, at_noon):
    settings.SMS_TRANSPORT = "clienteling.channels.http.HttpSmsTransport"
    with FakeSmsProvider() as provider:
        settings.SMS_HTTP_URL, settings.SMS_HTTP_TOKEN = provider.url, provider.token
        provider.fail_next = [503, 429]
        message = _queue(claire)
        assert message_deliver(message_id=message.pk) == "retry"
        message.refresh_from_db()
        assert message.scheduled_for == NOON_NY + datetime.timedelta(minutes=1)
        at_noon.shift(datetime.timedelta(minutes=1))
        assert message_deliver(message_id=message.pk) == "retry"
        at_noon.shift(datetime.timedelta(minutes=2))
        assert message_deliver(message_id=message.pk) == "sent"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 3)


def test_a_refused_number_fails_and_is_not_tried_again(claire, settings):
    settings.SMS_TRANSPORT = "clienteling.channels.http.HttpSmsTransport"
    claire.phone = "+12125550143"
    claire.save()
    with FakeSmsProvider() as provider:
        settings.SMS_HTTP_URL, settings.SMS_HTTP_TOKEN = provider.url, "wrong-token"
        message = _queue(claire)
        assert message_deliver(message_id=message.pk) == "failed"
    assert Bounce.objects.filter(channel="sms", address="+12125550143").exists()
    assert (
        _queue(claire, key="k2").suppressed_reason == "The mobile number bounced: update it first."
    )


def _signed(client, settings, payload):
    settings.SMS_WEBHOOK_SECRET = "s3cret"
    body = json.dumps(payload).encode()
    signature = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    return client.post(
        "/hooks/sms/", body, content_type="application/json", HTTP_X_SIGNATURE=signature
    )


@pytest.mark.parametrize(
    "word", ["STOP", " stop ", "Unsubscribe", "QUIT", "end", "StopAll", "cancel"]
)
def test_stop_from_the_provider_revokes_sms_consent_and_the_next_send_is_suppressed(
    client, settings, claire, word
):
    queued = _queue(claire)
    response = _signed(client, settings, {"type": "inbound", "from": "+12125550142", "body": word})
    assert response.status_code == 200
    assert response.json() == {"clients": 1, "revoked": 1}
    latest = ConsentEvent.objects.current().get(customer=claire, channel="sms")
    assert (latest.granted, latest.source) == (False, "sms_reply")
    queued.refresh_from_db()
    assert queued.status == "suppressed"
    assert _queue(claire, key="after").suppressed_reason.startswith("Said no to text messages on")


def test_a_reply_lands_in_the_clients_contact_log(client, settings, claire):
    _signed(
        client,
        settings,
        {"type": "inbound", "from": "+12125550142", "body": "Yes please hold the size 38!"},
    )
    contact = claire.contacts.get()
    assert (contact.direction, contact.channel, contact.body) == (
        "in",
        "sms",
        "Yes please hold the size 38!",
    )


def test_webhook_refuses_bad_signatures_and_bad_payloads(client, settings, claire):
    settings.SMS_WEBHOOK_SECRET = "s3cret"
    body = json.dumps({"type": "inbound", "from": "+12125550142", "body": "STOP"})
    assert (
        client.post(
            "/hooks/sms/", body, content_type="application/json", HTTP_X_SIGNATURE="forged"
        ).status_code
        == 403
    )
    assert claire.has_consent("sms")
    assert _signed(client, settings, {"nope": 1}).status_code == 400
    assert _signed(client, settings, {"type": "inbound"}).status_code == 400
    assert _signed(client, settings, {"type": "teleport"}).status_code == 400
    assert client.get("/hooks/sms/").status_code == 405


def test_delivery_receipts(client, settings, claire, sms_outbox):
    message = _queue(claire)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert _signed(
        client, settings, {"type": "status", "id": message.provider_id, "status": "delivered"}
    ).json() == {"updated": 1}
    message.refresh_from_db()
    assert message.status == "delivered"
    assert (
        _signed(client, settings, {"type": "status", "id": "x", "status": "exploded"}).status_code
        == 400
    )


def test_one_click_unsubscribe_from_an_email(client, claire, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core import mail

    message = _queue(claire, channel="email", subject="Hello")
    message_deliver(message_id=message.pk)
    (sent,) = mail.outbox
    link = sent.extra_headers["List-Unsubscribe"].strip("<>")
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = link.removeprefix(settings.SITE_URL.rstrip("/"))

    assert "Stop emails from SoHo?" in client.get(path).content.decode()
    assert claire.has_consent("email")
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert "You're unsubscribed" in response.content.decode()
    assert not claire.has_consent("email")
    assert client.get("/unsubscribe/forged-token/").status_code == 404


def test_templates_render_variables_as_plain_text():
    text = outreach.render_template_text(
        "Hi {{ first_name }} & welcome to {{ store }}{{ missing }}!",
        {"first_name": "Zoë", "store": "SoHo"},
    )
    assert text == "Hi Zoë & welcome to SoHo!"


def test_automation_queues_one_message_per_reason_after_its_delay(claire, sms_outbox, at_noon):
    from customers.models import Reason
    from customers.services import automations_run
    from tests.factories import AutomationRuleFactory, MessageTemplateFactory, ReasonFactory

    AutomationRuleFactory(
        reason_kind="thank_you",
        delay_hours=24,
        channel="sms",
        template=MessageTemplateFactory(
            body="Thank you {{ first_name }}, from {{ associate }} at {{ store }}."
        ),
    )
    reason = ReasonFactory(customer=claire, kind=Reason.Kind.THANK_YOU)
    assert automations_run() == {"queued": 1}
    assert automations_run() == {"queued": 0}
    message = Message.objects.get()
    assert (message.dedupe_key, message.reason, message.sender) == (
        f"reason:{reason.pk}",
        reason,
        None,
    )
    assert message.body == "Thank you Claire, from SoHo at SoHo."
    assert message.scheduled_for == NOON_NY + datetime.timedelta(hours=24)
    assert messages_sweep()["enqueued"] == 0
    at_noon.shift(datetime.timedelta(hours=24))
    assert message_deliver(message_id=message.pk) == "sent"


def test_a_reminder_is_not_sent_when_its_cause_ended_before_it_went(claire, sms_outbox):
    from customers.models import Reason
    from customers.services import automations_run
    from tests.factories import AutomationRuleFactory, MessageTemplateFactory, ReasonFactory

    AutomationRuleFactory(
        reason_kind="replenishment", template=MessageTemplateFactory(purpose="replenishment")
    )
    reason = ReasonFactory(customer=claire, kind=Reason.Kind.REPLENISHMENT)
    automations_run()
    Reason.objects.filter(pk=reason.pk).update(state="resolved", closed_note="Bought it again.")
    message = Message.objects.get()
    assert message_deliver(message_id=message.pk) == "suppressed"
    message.refresh_from_db()
    assert message.suppressed_reason == "No longer needed: Bought it again."
    assert sms_outbox.read() == []
