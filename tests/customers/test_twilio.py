"""SMS through Twilio: the real `twilio` client against a fake on loopback, its signed
webhooks, carrier keywords, opt-outs that outlive erasure, and numbers in any format."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import transaction

from clienteling.channels.twilio import TwilioSmsTransport
from clienteling.privacy import customer_erase
from customers.models import (
    Bounce,
    ConsentEvent,
    Contact,
    Customer,
    InboundMessage,
    Message,
    Suppression,
)
from customers.services import (
    is_suppressed,
    message_deliver,
    message_queue,
    messages_sweep,
    suppression_add,
    suppression_lift,
)
from customers.services.suppression import address_digest
from tests.conftest import wait_for
from tests.factories import ConsentEventFactory, CustomerFactory, StoreFactory
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, twilio_post

NOON_NY = datetime.datetime(2026, 11, 20, 17, 0, tzinfo=datetime.UTC)
STORE_NUMBER = "+12125550100"


@pytest.fixture
def fake_twilio(settings):
    with FakeTwilio() as fake:
        settings.SMS_TRANSPORT = "clienteling.channels.twilio.TwilioSmsTransport"
        settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
        settings.TWILIO_DEFAULT_FROM = "+15550100001"
        settings.TWILIO_API_BASE_URL = fake.url
        settings.SITE_URL = "http://127.0.0.1:8000"
        yield fake


@pytest.fixture
def soho(store):
    store.sms_from_number = STORE_NUMBER
    store.phone = "+1 212 555 0199"
    store.save()
    return store


def _client(store, phone="+33615817867", since=NOON_NY, **extra):
    customer = CustomerFactory(first_name="Claire", home_store=store, phone=phone, **extra)
    ConsentEventFactory(
        customer=customer,
        channel="sms",
        granted=True,
        recorded_at=since - datetime.timedelta(days=30),
    )
    return customer


def _queue(customer, key="k1", **extra):
    return message_queue(
        customer=customer,
        channel="sms",
        body="Your fitting is tomorrow at 11:00.",
        dedupe_key=key,
        is_marketing=False,
        **extra,
    )


def _inbound(client, body, sender="+33615817867", sid="SMin0001", to=STORE_NUMBER):
    params = {"MessageSid": sid, "From": sender, "To": to, "Body": body}
    return twilio_post(client, "/hooks/twilio/sms/", params)


@pytest.fixture
def at_noon():
    with time_machine.travel(NOON_NY, tick=False) as traveller:
        yield traveller


# --- The transport ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_text_goes_from_the_stores_number_with_a_status_callback(fake_twilio, soho, at_noon):
    message = _queue(_client(soho))
    assert message_deliver(message_id=message.pk) == "sent"
    (sent,) = fake_twilio.received
    assert sent == {
        "To": "+33615817867",
        "From": STORE_NUMBER,
        "Body": "Your fitting is tomorrow at 11:00.",
        "StatusCallback": f"http://127.0.0.1:8000/hooks/twilio/status/?ref={message.pk}",
    }
    message.refresh_from_db()
    assert message.provider_id == f"SM{1:032x}"


@pytest.mark.django_db
def test_a_messaging_service_wins_over_the_number_and_the_default_comes_last(
    fake_twilio, soho, other_store, at_noon
):
    soho.twilio_messaging_service_sid = "MG" + "1" * 32
    soho.save()
    message_deliver(message_id=_queue(_client(soho)).pk)
    message_deliver(message_id=_queue(_client(other_store, phone="+12125550142"), key="k2").pk)
    first, second = fake_twilio.received
    assert (first.get("MessagingServiceSid"), first.get("From")) == ("MG" + "1" * 32, None)
    assert second["From"] == "+15550100001"


@pytest.mark.django_db
def test_a_bad_number_is_permanent_and_a_busy_twilio_is_retried(fake_twilio, soho, at_noon):
    claire = _client(soho)
    fake_twilio.fail_next = [(503, None), (429, 20429), (401, 20003), (400, 21211)]
    message = _queue(claire)
    for expected in ("retry", "retry", "retry"):
        assert message_deliver(message_id=message.pk) == expected
        Message.objects.filter(pk=message.pk).update(scheduled_for=NOON_NY)
    assert not Bounce.objects.exists()  # our credentials are not the client's fault
    assert message_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert "21211" in message.last_error
    assert Bounce.objects.filter(channel="sms", address="+33615817867").exists()


@pytest.mark.django_db
def test_twilio_unreachable_is_transient(settings, fake_twilio):
    from clienteling.channels.base import OutgoingMessage, TransientTransportError

    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    with pytest.raises(TransientTransportError):
        TwilioSmsTransport().send(OutgoingMessage(to="+12125550142", body="Hi"))


# --- Once: Twilio takes a repeat, so a message is reconciled before it goes again ------


def _died_after_twilio_took_it(message, fake):
    """A worker claimed `message`, Twilio accepted it, and the worker died before writing
    "sent": Twilio holds the text, our row says "sending"."""
    from customers.services.outreach import _claim, _outgoing

    assert _claim(message.pk, NOON_NY)
    message = Message.objects.select_related("customer__home_store", "template").get(pk=message.pk)
    TwilioSmsTransport().send(_outgoing(message))
    assert len(fake.received) == 1


@pytest.mark.django_db
def test_a_text_twilio_took_before_the_worker_died_is_recorded_not_sent_again(
    fake_twilio, soho, at_noon, settings
):
    message = _queue(_client(soho))
    _died_after_twilio_took_it(message, fake_twilio)

    at_noon.shift(datetime.timedelta(seconds=settings.MESSAGE_CLAIM_LEASE_SECONDS + 1))
    assert messages_sweep()["requeued"] == 1
    assert message_deliver(message_id=message.pk) == "reconciled"

    assert len(fake_twilio.received) == 1  # one text reached Twilio
    (listed,) = fake_twilio.lists  # looked up by recipient and sender, as Twilio lists
    assert (listed["To"], listed["From"]) == ("+33615817867", STORE_NUMBER)
    message.refresh_from_db()
    assert (message.status, message.provider_id) == ("sent", f"SM{1:032x}")


@pytest.mark.django_db
def test_a_timeout_after_twilio_took_the_text_is_not_a_second_text(
    fake_twilio, soho, at_noon, settings
):
    settings.TWILIO_TIMEOUT_SECONDS = 0.2
    fake_twilio.delay_seconds = 0.6  # Twilio took it, but answered too late
    message = _queue(_client(soho))
    assert message_deliver(message_id=message.pk) == "retry"
    fake_twilio.delay_seconds = 0
    at_noon.shift(datetime.timedelta(minutes=2))
    assert message_deliver(message_id=message.pk) == "reconciled"
    assert len(fake_twilio.received) == 1
    message.refresh_from_db()
    assert (message.status, message.provider_id, message.last_error) == ("sent", f"SM{1:032x}", "")


@pytest.mark.django_db
def test_a_text_twilio_never_got_goes_and_another_messages_copy_is_not_taken(
    fake_twilio, soho, at_noon, settings
):
    claire = _client(soho)
    first = _queue(claire, key="k1")  # the same words, sent and recorded before
    assert message_deliver(message_id=first.pk) == "sent"
    second = _queue(claire, key="k2")
    from customers.services.outreach import _claim

    _claim(second.pk, NOON_NY)  # the worker died before it reached Twilio
    at_noon.shift(datetime.timedelta(seconds=settings.MESSAGE_CLAIM_LEASE_SECONDS + 1))
    messages_sweep()
    assert message_deliver(message_id=second.pk) == "sent"
    assert [sms["Body"] for sms in fake_twilio.received] == [first.body, second.body]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.provider_id != second.provider_id


@pytest.mark.django_db
def test_while_twilio_cannot_say_whether_it_has_the_text_nothing_goes(
    fake_twilio, soho, at_noon, settings
):
    message = _queue(_client(soho))
    from customers.services.outreach import _claim

    _claim(message.pk, NOON_NY)
    at_noon.shift(datetime.timedelta(seconds=settings.MESSAGE_CLAIM_LEASE_SECONDS + 1))
    messages_sweep()
    fake_twilio.fail_lists = [(500, 20500)]
    assert message_deliver(message_id=message.pk) == "retry"
    assert not fake_twilio.received
    message.refresh_from_db()
    assert message.status == "queued" and "could not list" in message.last_error


@pytest.mark.django_db
def test_a_status_callback_before_the_sid_was_recorded_finds_its_message_by_our_reference(
    client, fake_twilio, soho, at_noon
):
    claire = _client(soho)
    early, dead = _queue(claire, key="k1"), _queue(claire, key="k2")
    from customers.services.outreach import _claim

    for message in (early, dead):
        _claim(message.pk, NOON_NY)  # "sending": the SIDs are not recorded (yet)

    path = f"/hooks/twilio/status/?ref={early.pk}"
    sent = {"MessageSid": "SM" + "e" * 32, "MessageStatus": "sent"}
    assert twilio_post(client, path, sent).status_code == 204
    early.refresh_from_db()
    assert (early.status, early.provider_id) == ("sent", "SM" + "e" * 32)
    # The worker's own write, arriving late, changes nothing.
    assert not Message.objects.filter(pk=early.pk, status="sending").exists()

    delivered = {"MessageSid": "SM" + "d" * 32, "MessageStatus": "delivered"}
    assert twilio_post(client, f"/hooks/twilio/status/?ref={dead.pk}", delivered).status_code == 204
    dead.refresh_from_db()
    assert (dead.status, dead.provider_id) == ("delivered", "SM" + "d" * 32)

    # A reference is not a way to rewrite another message's SID.
    again = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered"}
    twilio_post(client, f"/hooks/twilio/status/?ref={dead.pk}", again)
    dead.refresh_from_db()
    assert dead.provider_id == "SM" + "d" * 32
    # A reference that is no message of ours is ignored.
    assert twilio_post(client, "/hooks/twilio/status/?ref=999999", sent).status_code == 204
    assert twilio_post(client, "/hooks/twilio/status/?ref=x", sent).status_code == 204


@pytest.mark.django_db
def test_the_fake_lists_as_twilio_documents(fake_twilio, soho, at_noon):
    """Twilio's list: filtered by To, From and DateSent>, newest first, paged."""
    transport = TwilioSmsTransport()
    from clienteling.channels.base import OutgoingMessage

    for n in range(3):
        transport.send(OutgoingMessage(to="+12125550142", body=f"Hi {n}"))
    transport.send(OutgoingMessage(to="+12125550143", body="Hi 0"))
    client = transport.client
    listed = client.messages.list(to="+12125550142", page_size=2)
    assert [m.body for m in listed] == ["Hi 2", "Hi 1", "Hi 0"]  # two pages
    assert len(fake_twilio.lists) == 2
    assert fake_twilio.lists[0]["PageSize"] == "2"
    later = client.messages.list(date_sent_after=NOON_NY + datetime.timedelta(minutes=1))
    assert later == []
    assert fake_twilio.lists[-1]["DateSent>"] == "2026-11-20T17:01:00Z"


# --- Webhooks --------------------------------------------------------------------------


@pytest.mark.django_db
def test_bad_signatures_are_refused_and_write_nothing(client, fake_twilio, soho, at_noon):
    claire = _client(soho)
    message = _queue(claire)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    status = {
        "MessageSid": message.provider_id,
        "MessageStatus": "undelivered",
        "ErrorCode": "30005",
    }
    inbound = {"MessageSid": "SMx", "From": "+33615817867", "To": STORE_NUMBER, "Body": "STOP"}
    for path, params in (("/hooks/twilio/status/", status), ("/hooks/twilio/sms/", inbound)):
        assert twilio_post(client, path, params, token="not-the-token").status_code == 403
        assert client.post(path, params).status_code == 403  # no signature at all
        # Signed for another URL (a replay against another endpoint).
        assert twilio_post(client, path, params, site="https://evil.example").status_code == 403
        assert client.get(path).status_code == 405
    message.refresh_from_db()
    assert message.status == "sent"
    assert claire.has_consent("sms")
    assert not Suppression.objects.exists()
    assert not InboundMessage.objects.exists()
    assert not Bounce.objects.exists()


@pytest.mark.django_db
def test_status_callbacks_record_delivery_and_why_not(client, fake_twilio, soho, at_noon):
    claire = _client(soho)
    messages = [_queue(claire, key=f"k{n}") for n in range(4)]
    for message in messages:
        message_deliver(message_id=message.pk)
        message.refresh_from_db()

    def callback(message, status, code=""):
        params = {"MessageSid": message.provider_id, "MessageStatus": status}
        if code:
            params["ErrorCode"] = code
        response = twilio_post(client, "/hooks/twilio/status/", params)
        assert response.status_code == 204
        message.refresh_from_db()

    callback(messages[0], "sent")
    assert messages[0].status == "sent"
    callback(messages[0], "delivered")
    assert messages[0].status == "delivered"

    callback(messages[1], "undelivered", "30007")  # a carrier's filter: not the number's fault
    assert messages[1].status == "failed"
    assert messages[1].last_error == ("The carrier filtered the text as spam. (Twilio error 30007)")
    callback(messages[2], "failed", "30005")
    callback(messages[2], "failed", "30005")  # Twilio repeats itself: still one failure
    assert not Bounce.objects.exists()
    callback(messages[3], "undelivered", "30003")  # a second failure of the number itself
    assert messages[3].last_error.startswith("The phone is unreachable")
    assert Bounce.objects.filter(channel="sms", address="+33615817867").exists()
    assert _queue(claire, key="after").suppressed_reason == (
        "The mobile number bounced: update it first."
    )


@pytest.mark.django_db
@pytest.mark.parametrize("sender", ["33615817867", "+33 6 15 81 78 67", "0033615817867"])
def test_a_reply_finds_the_client_whatever_the_numbers_format(client, fake_twilio, soho, sender):
    claire = _client(soho)
    response = _inbound(client, "Can you hold the size 38?", sender=sender)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert "<Message>" not in response.content.decode()
    contact = Contact.objects.get()
    assert (contact.customer, contact.body) == (claire, "Can you hold the size 38?")


@pytest.mark.django_db
def test_a_national_number_is_read_in_the_country_of_the_store_texted(
    client, fake_twilio, other_store
):
    other_store.sms_from_number = "+33170000000"
    other_store.save()
    claire = _client(other_store)
    response = _inbound(client, "Stop.", sender="0615817867", to="+33170000000")
    assert "Marais" in response.content.decode()
    assert not claire.has_consent("sms")
    assert is_suppressed(channel="sms", address="+33615817867")


@pytest.mark.django_db
def test_stop_from_another_format_revokes_suppresses_and_confirms_once(client, fake_twilio, soho):
    claire = _client(soho)
    queued = _queue(claire)
    first = _inbound(client, "Stop please!", sender="33615817867")
    assert first.status_code == 200
    assert first.content.decode().count("<Message>") == 1
    assert (
        "You won't get more texts from SoHo. Reply START to opt back in."
        in first.content.decode().replace("&#x27;", "'").replace("&apos;", "'")
    )
    retried = _inbound(client, "Stop please!", sender="33615817867")  # the same MessageSid
    assert retried.status_code == 200
    assert "<Message>" not in retried.content.decode()

    events = ConsentEvent.objects.filter(customer=claire, channel="sms", granted=False)
    assert [(event.source, event.wording, event.recorded_by) for event in events] == [
        ("sms_reply", "Stop please!", None)
    ]
    assert Suppression.objects.get().digest == address_digest("+33615817867")
    queued.refresh_from_db()
    assert queued.status == "suppressed"
    assert not Contact.objects.exists()  # a keyword is not a conversation


@pytest.mark.django_db
def test_a_stop_from_an_unknown_number_is_still_kept(client, fake_twilio, soho):
    response = _inbound(client, "STOP", sender="+12125550177")
    assert "<Message>" in response.content.decode()
    assert is_suppressed(channel="sms", address="+1 (212) 555-0177")


@pytest.mark.django_db
def test_help_answers_with_the_stores_name_and_phone(client, fake_twilio, soho):
    _client(soho)
    body = _inbound(client, "HELP").content.decode()
    assert "SoHo" in body and "+1 212 555 0199" in body
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_keyword_answers_are_worded_by_the_managers_templates(client, fake_twilio, soho):
    from tests.factories import MessageTemplateFactory

    _client(soho)
    MessageTemplateFactory(
        purpose="keyword_stop",
        channel="sms",
        body="{{ store }} will not text you again. Questions? {{ store_phone }}. START undoes it.",
    )
    MessageTemplateFactory(
        purpose="keyword_help", channel="sms", body="{{ store }} here: call {{ store_phone }}."
    )
    help_reply = _inbound(client, "help", sid="SM1").content.decode()
    assert "<Message>SoHo here: call +1 212 555 0199.</Message>" in help_reply
    stop_reply = _inbound(client, "STOP", sid="SM2").content.decode()
    assert (
        "<Message>SoHo will not text you again. Questions? +1 212 555 0199. "
        "START undoes it.</Message>"
    ) in stop_reply
    # No template for START: the built-in words, in the store's name.
    start_reply = _inbound(client, "START", sid="SM3").content.decode()
    assert (
        "<Message>You'll get texts from SoHo again. Reply STOP to opt out.</Message>" in start_reply
    )


@pytest.mark.django_db
def test_start_opts_back_in_and_lifts_the_suppression(client, fake_twilio, soho):
    claire = _client(soho)
    _inbound(client, "STOP", sid="SM1")
    assert not claire.has_consent("sms")
    response = _inbound(client, "Start", sid="SM2")
    assert "again" in response.content.decode()
    latest = ConsentEvent.objects.current().get(customer=claire, channel="sms")
    assert (latest.granted, latest.source, latest.recorded_by) == (True, "sms_reply", None)
    assert not Suppression.objects.exists()


@pytest.mark.django_db
def test_yes_is_an_answer_unless_it_undoes_a_stop(client, fake_twilio, soho):
    claire = _client(soho)
    assert "<Message>" not in _inbound(client, "Yes!", sid="SM1").content.decode()
    assert Contact.objects.get().body == "Yes!"  # the associate sees the answer
    _inbound(client, "stop", sid="SM2")
    assert "again" in _inbound(client, "YES", sid="SM3").content.decode()
    assert claire.has_consent("sms")


@pytest.mark.django_db
def test_inbound_ids_are_forgotten_after_the_retention_period_in_capped_batches(
    client, fake_twilio, soho, settings, at_noon
):
    from django.conf import settings as live_settings

    from customers.services import inbound_messages_prune
    from customers.tasks import inbound_messages_prune as inbound_messages_prune_task

    settings.INBOUND_MESSAGE_RETENTION_DAYS = 30
    for n in range(5):
        InboundMessage.objects.create(
            provider_id=f"SMold{n}", received_at=NOON_NY - datetime.timedelta(days=31 + n)
        )
    _client(soho)
    _inbound(client, "Is the sale on?", sid="SMrecent")  # handled now: kept

    assert [inbound_messages_prune(batch=2) for _ in range(4)] == [2, 2, 1, 0]
    assert list(InboundMessage.objects.values_list("provider_id", flat=True)) == ["SMrecent"]
    # Within the period a retried webhook is still recognised...
    assert _inbound(client, "Is the sale on?", sid="SMrecent").status_code == 200
    assert Contact.objects.count() == 1
    # ...and the nightly job is the same service, on the beat schedule.
    at_noon.shift(datetime.timedelta(days=31))
    assert inbound_messages_prune_task.apply().get() == 1
    assert not InboundMessage.objects.exists()
    schedule = live_settings.CELERY_BEAT_SCHEDULE["inbound-messages-prune"]
    assert schedule["task"] == inbound_messages_prune_task.name


# --- Suppressions ----------------------------------------------------------------------


@pytest.mark.django_db
def test_suppressions_hold_no_readable_address(soho):
    suppression_add(channel="sms", address="+33 6 15 81 78 67")
    suppression_add(channel="sms", address="+33615817867")  # the same number: one row
    suppression_add(channel="email", address=" Claire@Example.com ")
    assert Suppression.objects.count() == 2
    for row in Suppression.objects.values_list("digest", flat=True):
        assert "33615817867" not in row and "claire" not in row
    assert is_suppressed(channel="email", address="claire@example.com")
    assert not is_suppressed(channel="sms", address="claire@example.com")
    assert suppression_lift(channel="email", address="CLAIRE@example.com")
    assert not is_suppressed(channel="email", address="claire@example.com")


@pytest.mark.django_db
def test_the_policy_refuses_a_suppressed_number_even_with_consent(soho, at_noon):
    claire = _client(soho)
    suppression_add(channel="sms", address=str(claire.phone))
    message = _queue(claire)
    assert message.status == "suppressed"
    assert message.suppressed_reason == (
        "This mobile number asked for no more text messages: only its owner can opt back in."
    )
    # No channel given: SMS is not picked for them either (they never agreed to email).
    anyway = message_queue(customer=claire, channel=None, body="Hi", dedupe_key="k2")
    assert (anyway.channel, anyway.status) == ("email", "suppressed")


@pytest.mark.django_db
def test_an_opt_out_survives_erasure_and_a_reimport_with_consent(
    client, fake_twilio, soho, manager, api_client, at_noon
):
    claire = _client(soho, pos_customer_id="C-1")
    _inbound(client, "STOP")
    counts = customer_erase(customer=claire, by=manager.user)
    assert counts  # erased...
    assert Suppression.objects.count() == 1  # ...but the opt-out is kept

    response = api_client.post(
        "/api/v1/customers/bulk/",
        {
            "customers": [
                {
                    "source": "pos",
                    "external_id": "C-77",
                    "first_name": "Claire",
                    "phone": "+33 6 15 81 78 67",
                    "home_store": soho.code,
                    "consents": [{"channel": "sms", "granted": True, "wording": "POS: yes"}],
                }
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    again = Customer.objects.get(pos_customer_id="C-77")
    assert again.has_consent("sms")  # the POS says yes...
    message = _queue(again, key="after-import")
    assert message.status == "suppressed"  # ...the policy says no
    assert message.suppressed_reason.startswith("This mobile number asked for no more")
    # An associate cannot lift it either; only the client's own START does.
    _inbound(client, "START", sid="SM-start")
    assert _queue(again, key="after-start").status == "queued"


# --- End to end on a real worker -------------------------------------------------------


@pytest.mark.worker
def test_a_reminder_by_twilio_end_to_end(celery_worker, fake_twilio, client):
    store = StoreFactory(
        name="SoHo", code="nyc-soho-e2e", sms_from_number=STORE_NUMBER, phone="+12125550199"
    )
    noon = datetime.datetime.now(datetime.UTC).replace(hour=17, minute=0)
    claire = _client(store, since=noon)
    with time_machine.travel(noon, tick=True):  # inside the store's sending window
        with transaction.atomic():
            message = _queue(claire, key="reminder:1")
        wait_for(lambda: Message.objects.filter(pk=message.pk, status="sent").exists())
        assert [(sms["From"], sms["To"]) for sms in fake_twilio.received] == [
            (STORE_NUMBER, "+33615817867")
        ]
        message.refresh_from_db()
        # Twilio calls the status callback URL it was given, our reference on it.
        callback = fake_twilio.received[0]["StatusCallback"]
        assert callback == f"http://127.0.0.1:8000/hooks/twilio/status/?ref={message.pk}"
        response = twilio_post(
            client,
            callback.removeprefix("http://127.0.0.1:8000"),
            {"MessageSid": message.provider_id, "MessageStatus": "delivered"},
        )
        assert response.status_code == 204
        message.refresh_from_db()
        assert message.status == "delivered"

        # "Stop." from the number written differently; Twilio retries the webhook.
        replies = [_inbound(client, "Stop.", sender="33615817867", sid="SMstop") for _ in "12"]
        assert [r.content.decode().count("<Message>") for r in replies] == [1, 0]
        assert not claire.has_consent("sms")
        assert is_suppressed(channel="sms", address="+33615817867")

        with transaction.atomic():
            later = _queue(claire, key="reminder:2")
        assert later.status == "suppressed"
        assert len(fake_twilio.received) == 1  # nothing more went to Twilio
