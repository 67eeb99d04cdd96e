"""WhatsApp through Twilio, the third channel, added by the registry alone: the real
`twilio` client against a fake on loopback, the 24-hour window (free text after the
client wrote, an approved template otherwise), inbound on the same signed webhook, and
STOP on WhatsApp that leaves texts as they were."""

from __future__ import annotations

import datetime
import json

import pytest
import time_machine
from django.urls import reverse

from clienteling.channels import channel, message_channel_choices
from clienteling.core.errors import ApplicationError
from customers.models import (
    ConsentEvent,
    Contact,
    ContactPreferences,
    Message,
    MessageTemplate,
    Reason,
    Source,
    consent_channel_choices,
)
from customers.services import (
    consent_wording,
    contact_log,
    is_suppressed,
    message_deliver,
    message_policy,
    message_queue,
)
from customers.services.policy import PolicyFacts, evaluate_policy
from tests.factories import ConsentEventFactory, CustomerFactory
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, twilio_post

pytestmark = pytest.mark.django_db

NOON_NY = datetime.datetime(2026, 11, 20, 17, 0, tzinfo=datetime.UTC)
STORE_WHATSAPP = "+12125550111"
STORE_SMS = "+12125550100"
CLAIRE = "+33615817867"
CONTENT_SID = "HX" + "a" * 32
WINDOW_CLOSED = (
    "Claire last wrote on WhatsApp more than 24 hours ago: only an approved template can be "
    "sent (choose one, or use another channel)."
)


@pytest.fixture
def fake_twilio(settings):
    with FakeTwilio() as fake:
        settings.SMS_TRANSPORT = "clienteling.channels.twilio.TwilioSmsTransport"
        settings.WHATSAPP_TRANSPORT = "clienteling.channels.whatsapp.TwilioWhatsAppTransport"
        settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
        settings.TWILIO_DEFAULT_FROM = "+15550100001"
        settings.TWILIO_WHATSAPP_DEFAULT_FROM = "+15550100002"
        settings.TWILIO_API_BASE_URL = fake.url
        settings.SITE_URL = "http://127.0.0.1:8000"
        yield fake


@pytest.fixture
def soho(store):
    store.sms_from_number = STORE_SMS
    store.whatsapp_from_number = STORE_WHATSAPP
    store.save()
    return store


@pytest.fixture
def at_noon():
    with time_machine.travel(NOON_NY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def claire(soho, at_noon):
    customer = CustomerFactory(first_name="Claire", home_store=soho, phone=CLAIRE)
    for consent in ("sms", "whatsapp"):
        ConsentEventFactory(
            customer=customer,
            channel=consent,
            granted=True,
            recorded_at=NOON_NY - datetime.timedelta(days=30),
        )
    return customer


def _wrote(customer, *, hours_ago: float, channel: str = "whatsapp") -> Contact:
    return Contact.objects.create(
        customer=customer,
        channel=channel,
        direction=Contact.Direction.INBOUND,
        outcome=Contact.Outcome.REACHED,
        body="Hello",
        occurred_at=NOON_NY - datetime.timedelta(hours=hours_ago),
    )


def _queue(customer, key="k1", **extra):
    return message_queue(
        customer=customer,
        channel="whatsapp",
        body="Your size 38 is in: shall I hold it for you?",
        dedupe_key=key,
        is_marketing=False,
        **extra,
    )


def _template(**extra) -> MessageTemplate:
    return MessageTemplate.objects.create(
        name="Piece arrived",
        purpose="personal",
        channel="whatsapp",
        body="Hello {{ first_name }}, your piece is in at {{ store }}.",
        whatsapp_content_sid=CONTENT_SID,
        whatsapp_variables="first_name, store",
        **extra,
    )


def _inbound(client, body, sid="SMwa0001", sender=f"whatsapp:{CLAIRE}"):
    params = {
        "MessageSid": sid,
        "From": sender,
        "To": f"whatsapp:{STORE_WHATSAPP}",
        "Body": body,
    }
    return twilio_post(client, "/hooks/twilio/sms/", params)


# --- The registry ----------------------------------------------------------------------


def test_whatsapp_is_registered_with_its_own_consent_and_a_24_hour_window(soho):
    spec = channel("whatsapp")
    assert (spec.label, spec.noun, spec.address_attribute) == (
        "WhatsApp",
        "WhatsApp messages",
        "phone",
    )
    assert (spec.consent, spec.free_text_hours, spec.has_sending_window) == ("whatsapp", 24, False)
    assert ("whatsapp", "WhatsApp message") in message_channel_choices()
    assert "whatsapp" in dict(consent_channel_choices())
    assert "may contact me on WhatsApp" in consent_wording("whatsapp", soho)


# --- Sending ---------------------------------------------------------------------------


def test_inside_the_window_free_text_goes_from_the_stores_whatsapp_number(fake_twilio, claire):
    _wrote(claire, hours_ago=3)
    message = _queue(claire)
    assert message.status == "queued"
    assert message_deliver(message_id=message.pk) == "sent"
    (sent,) = fake_twilio.received
    assert sent == {
        "To": f"whatsapp:{CLAIRE}",
        "From": f"whatsapp:{STORE_WHATSAPP}",
        "Body": "Your size 38 is in: shall I hold it for you?",
        "StatusCallback": f"http://127.0.0.1:8000/hooks/twilio/status/?ref={message.pk}",
    }
    message.refresh_from_db()
    assert (message.channel, message.provider_id) == ("whatsapp", f"SM{1:032x}")


def test_without_a_store_sender_the_default_whatsapp_number_is_used(fake_twilio, claire, soho):
    soho.whatsapp_from_number = ""
    soho.twilio_messaging_service_sid = "MG" + "1" * 32  # a texts' service: not WhatsApp's
    soho.save()
    _wrote(claire, hours_ago=1)
    message_deliver(message_id=_queue(claire).pk)
    (sent,) = fake_twilio.received
    assert sent["From"] == "whatsapp:+15550100002"
    assert "MessagingServiceSid" not in sent


@pytest.mark.parametrize("hours_ago", [None, 24.5, 24 * 30])
def test_outside_the_window_free_text_is_refused_with_the_why(fake_twilio, claire, hours_ago):
    if hours_ago is not None:
        _wrote(claire, hours_ago=hours_ago)
    _wrote(claire, hours_ago=1, channel="sms")  # a text does not open WhatsApp's window
    message = _queue(claire)
    assert message.status == "suppressed"
    if hours_ago is None:
        assert message.suppressed_reason == (
            "Claire has not written on WhatsApp yet: only an approved template can be sent "
            "(choose one, or use another channel)."
        )
    else:
        assert message.suppressed_reason == WINDOW_CLOSED
    assert not fake_twilio.received


def test_the_associate_reads_why_when_writing_outside_the_window(claire, associate):
    _wrote(claire, hours_ago=25)
    with pytest.raises(ApplicationError) as refused:
        contact_log(
            customer=claire,
            staff_user=associate.user,
            channel="whatsapp",
            outcome=Contact.Outcome.SENT,
            body="Hello!",
        )
    assert refused.value.as_dict() == {"channel": [WINDOW_CLOSED]}
    assert not Message.objects.exists()


def test_the_window_closing_between_queue_and_delivery_stops_the_message(
    fake_twilio, claire, at_noon
):
    _wrote(claire, hours_ago=23)
    message = _queue(claire)
    at_noon.shift(datetime.timedelta(hours=2))
    Message.objects.filter(pk=message.pk).update(scheduled_for=NOON_NY)
    assert message_deliver(message_id=message.pk) == "suppressed"
    message.refresh_from_db()
    assert message.suppressed_reason == WINDOW_CLOSED
    assert not fake_twilio.received


def test_quiet_hours_that_outlast_the_window_refuse_free_text(claire):
    ContactPreferences.objects.update_or_create(
        customer=claire,
        defaults={"quiet_hours_start": datetime.time(11), "quiet_hours_end": datetime.time(23)},
    )
    _wrote(claire, hours_ago=20)  # open now, closed by 23:00 New York time
    message = _queue(claire)
    assert message.status == "suppressed"
    assert message.suppressed_reason.startswith(
        "Claire's 24-hour WhatsApp window closes before their quiet hours end:"
    )


def test_an_approved_template_goes_outside_the_window_with_its_variables(fake_twilio, claire):
    _wrote(claire, hours_ago=72)
    message = _queue(claire, template=_template())
    assert message.status == "queued"
    assert message.template_variables == {"1": "Claire", "2": "SoHo"}
    assert message_deliver(message_id=message.pk) == "sent"
    (sent,) = fake_twilio.received
    assert sent["ContentSid"] == CONTENT_SID
    assert json.loads(sent["ContentVariables"]) == {"1": "Claire", "2": "SoHo"}
    assert (sent["To"], sent["From"]) == (f"whatsapp:{CLAIRE}", f"whatsapp:{STORE_WHATSAPP}")
    assert "Body" not in sent


def test_a_template_twilio_took_before_the_worker_died_is_not_sent_again(
    fake_twilio, claire, at_noon, settings
):
    from clienteling.channels.whatsapp import TwilioWhatsAppTransport
    from customers.services import messages_sweep
    from customers.services.outreach import _claim, _outgoing

    _wrote(claire, hours_ago=72)
    message = _queue(claire, template=_template())
    assert _claim(message.pk, NOON_NY)
    TwilioWhatsAppTransport().send(_outgoing(Message.objects.get(pk=message.pk)))
    at_noon.shift(datetime.timedelta(seconds=settings.MESSAGE_CLAIM_LEASE_SECONDS + 1))
    assert messages_sweep()["requeued"] == 1

    assert message_deliver(message_id=message.pk) == "reconciled"
    assert len(fake_twilio.received) == 1  # a template has no body to match: its time does
    (listed,) = fake_twilio.lists
    assert (listed["To"], listed["From"]) == (f"whatsapp:{CLAIRE}", f"whatsapp:{STORE_WHATSAPP}")
    message.refresh_from_db()
    assert (message.status, message.provider_id) == ("sent", f"SM{1:032x}")


def test_a_template_without_an_approved_version_is_free_text(claire):
    _wrote(claire, hours_ago=72)
    assert _queue(claire).suppressed_reason == WINDOW_CLOSED
    plain = MessageTemplate.objects.create(
        name="Plain", purpose="personal", channel="whatsapp", body="Hi"
    )
    assert _queue(claire, key="k2", template=plain).suppressed_reason == WINDOW_CLOSED


def test_choosing_a_channel_skips_whatsapp_outside_its_window(claire):
    ContactPreferences.objects.update_or_create(
        customer=claire, defaults={"preferred_channel": "whatsapp"}
    )
    assert message_policy(customer=claire, channel=None, is_marketing=False).channel == "sms"
    _wrote(claire, hours_ago=2)
    assert message_policy(customer=claire, channel=None, is_marketing=False).channel == "whatsapp"


def test_the_pure_policy_asks_the_spec_and_the_facts():
    facts = PolicyFacts(
        time_zone="America/New_York",
        addresses={"whatsapp": CLAIRE},
        consents={"whatsapp": (True, NOON_NY - datetime.timedelta(days=1))},
        first_name="Claire",
        last_wrote={"whatsapp": NOON_NY - datetime.timedelta(hours=24, seconds=1)},
    )
    refused = evaluate_policy(facts, channel="whatsapp", is_marketing=False, topic="", at=NOON_NY)
    assert (refused.allowed, refused.reason) == (False, WINDOW_CLOSED)
    templated = evaluate_policy(
        facts,
        channel="whatsapp",
        is_marketing=False,
        topic="",
        at=NOON_NY,
        templated=frozenset({"whatsapp"}),
    )
    assert templated.allowed
    just_in = evaluate_policy(
        facts,
        channel="whatsapp",
        is_marketing=False,
        topic="",
        at=NOON_NY - datetime.timedelta(seconds=1),
    )
    assert just_in.allowed


# --- Inbound ---------------------------------------------------------------------------


def test_an_inbound_whatsapp_message_opens_the_window_and_reaches_the_conversation(
    client, fake_twilio, claire
):
    assert _queue(claire, key="before").status == "suppressed"
    response = _inbound(client, "Can you hold the size 38?")
    assert response.status_code == 200
    assert "<Message>" not in response.content.decode()
    contact = Contact.objects.get()
    assert (contact.customer, contact.channel, contact.direction, contact.body) == (
        claire,
        "whatsapp",
        "in",
        "Can you hold the size 38?",
    )
    reason = Reason.objects.get(kind=Reason.Kind.CLIENT_REPLIED, customer=claire)
    assert "wrote back on WhatsApp" in reason.why
    message = _queue(claire, key="after")
    assert message.status == "queued"
    assert message_deliver(message_id=message.pk) == "sent"
    assert fake_twilio.received[0]["To"] == f"whatsapp:{CLAIRE}"


def test_an_unsigned_whatsapp_message_is_refused(client, fake_twilio, claire):
    params = {"MessageSid": "SMx", "From": f"whatsapp:{CLAIRE}", "Body": "STOP"}
    assert twilio_post(client, "/hooks/twilio/sms/", params, token="wrong").status_code == 403
    assert claire.has_consent("whatsapp")


def test_stop_on_whatsapp_revokes_whatsapp_only_and_start_opts_back_in(client, fake_twilio, claire):
    _wrote(claire, hours_ago=1)
    queued_whatsapp = _queue(claire)
    response = _inbound(client, "STOP", sid="SMwa1")
    body = response.content.decode().replace("&#x27;", "'").replace("&apos;", "'")
    assert "You won't get more WhatsApp messages from SoHo." in body
    assert not claire.has_consent("whatsapp")
    assert claire.has_consent("sms")  # texts untouched
    event = ConsentEvent.objects.current().get(customer=claire, channel="whatsapp")
    assert (event.granted, event.source, event.wording) == (False, Source.SMS_REPLY, "STOP")
    assert is_suppressed(channel="whatsapp", address=CLAIRE)
    assert not is_suppressed(channel="sms", address=CLAIRE)
    queued_whatsapp.refresh_from_db()
    assert queued_whatsapp.status == "suppressed"
    text = message_queue(
        customer=claire, channel="sms", body="Hi", dedupe_key="sms", is_marketing=False
    )
    assert text.status == "queued"

    assert "again" in _inbound(client, "START", sid="SMwa2").content.decode()
    assert claire.has_consent("whatsapp")
    assert not is_suppressed(channel="whatsapp", address=CLAIRE)


def test_stop_by_text_leaves_whatsapp_as_it_was(client, fake_twilio, claire):
    params = {"MessageSid": "SMsms1", "From": CLAIRE, "To": STORE_SMS, "Body": "STOP"}
    twilio_post(client, "/hooks/twilio/sms/", params)
    assert not claire.has_consent("sms")
    assert claire.has_consent("whatsapp")


def test_whatsapp_unregistered_inbound_is_ignored(client, fake_twilio, claire, settings):
    settings.CHANNELS = {k: v for k, v in settings.CHANNELS.items() if k != "whatsapp"}
    response = _inbound(client, "STOP")
    assert response.status_code == 200
    assert claire.has_consent("sms")
    assert not Contact.objects.exists()


# --- The contact form: outside the window, the store's approved templates ---------------


def _contact_url(customer) -> str:
    return f"/clients/{customer.pk}/contact/"


def _radio(page: str, name: str, value) -> str:
    import re

    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="{value}"[^>]*>', page)
    assert found, f"no {name}={value} radio"
    return found.group(0)


def test_outside_the_window_the_form_offers_the_approved_templates_and_says_why(
    client, associate, claire
):
    _wrote(claire, hours_ago=30)
    template = _template()
    MessageTemplate.objects.create(  # no approved version: not offered
        name="Plain", purpose="personal", channel="whatsapp", body="Hi"
    )
    client.force_login(associate.user)

    page = client.get(_contact_url(claire)).content.decode().replace("&#x27;", "'")

    assert "disabled" not in _radio(page, "channel", "whatsapp")  # open, for a template
    assert WINDOW_CLOSED in page
    assert "Approved WhatsApp template" in page
    assert _radio(page, "template", template.pk)
    assert "Piece arrived: “Hello Claire, your piece is in at SoHo.”" in page
    assert "Plain" not in page
    partial = client.get(_contact_url(claire), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'id="contact-templates"' in partial


def test_free_text_outside_the_window_is_refused_with_why_and_nothing_goes(
    client, associate, claire
):
    _wrote(claire, hours_ago=30)
    _template()
    client.force_login(associate.user)
    response = client.post(
        _contact_url(claire),
        {"channel": "whatsapp", "outcome": "sent", "body": "Hello!", "template": ""},
    )
    assert response.status_code == 200
    assert WINDOW_CLOSED in response.content.decode().replace("&#x27;", "'")
    assert 'id="id_template-error"' in response.content.decode()
    assert not Message.objects.exists()
    assert not Contact.objects.filter(direction="out").exists()


def test_a_picked_template_goes_by_twilios_content_api(client, associate, claire, fake_twilio):
    _wrote(claire, hours_ago=30)
    template = _template()
    client.force_login(associate.user)
    response = client.post(
        _contact_url(claire),
        {
            "channel": "whatsapp",
            "outcome": "sent",
            "body": "ignored: the approved words go",
            "template": template.pk,
        },
    )
    assert response.status_code == 302
    message = Message.objects.get()
    assert (message.channel, message.status, message.template) == ("whatsapp", "queued", template)
    assert message.body == "Hello Claire, your piece is in at SoHo."
    assert Contact.objects.get(direction="out").body == message.body  # what went
    assert message_deliver(message_id=message.pk) == "sent"
    (sent,) = fake_twilio.received
    assert (sent["ContentSid"], json.loads(sent["ContentVariables"])) == (
        CONTENT_SID,
        {"1": "Claire", "2": "SoHo"},
    )
    assert "Body" not in sent


def test_a_template_on_another_channel_or_a_bad_choice_is_a_clear_error(client, associate, claire):
    _wrote(claire, hours_ago=30)
    template = _template()
    client.force_login(associate.user)
    by_text = client.post(
        _contact_url(claire),
        {"channel": "sms", "outcome": "sent", "body": "Hi", "template": template.pk},
    )
    assert by_text.status_code == 200
    assert "An approved template goes only on WhatsApp" in by_text.content.decode()
    bogus = client.post(
        _contact_url(claire),
        {"channel": "whatsapp", "outcome": "sent", "body": "Hi", "template": "nope"},
    )
    assert bogus.status_code == 200
    assert 'id="id_template-error"' in bogus.content.decode()
    assert not Message.objects.exists()


def test_without_approved_templates_whatsapp_stays_closed_with_why(client, associate, claire):
    _wrote(claire, hours_ago=30)
    client.force_login(associate.user)
    page = client.get(_contact_url(claire)).content.decode().replace("&#x27;", "'")
    assert "disabled" in _radio(page, "channel", "whatsapp")
    assert WINDOW_CLOSED in page
    assert "Approved WhatsApp template" not in page


def test_inside_the_window_free_text_still_goes_from_the_form(client, associate, claire):
    _wrote(claire, hours_ago=2)
    _template()
    client.force_login(associate.user)
    page = client.get(_contact_url(claire)).content.decode()
    assert "only an approved template now" not in page
    response = client.post(
        _contact_url(claire),
        {"channel": "whatsapp", "outcome": "sent", "body": "See you at 3?", "template": ""},
    )
    assert response.status_code == 302
    message = Message.objects.get()
    assert (message.body, message.template) == ("See you at 3?", None)


# --- Forms -----------------------------------------------------------------------------


def test_the_sign_up_page_asks_whatsapp_consent_in_the_stores_words(client, soho):
    response = client.get(reverse("signup", args=[soho.signup_token]))
    assert response.status_code == 200
    page = response.content.decode().replace("&#x27;", "'")
    assert "may contact me on WhatsApp" in page
    assert "may contact me by text message" in page


# --- End to end on a real worker -------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_outside_the_window_free_text_is_refused_with_why_and_a_template_goes_end_to_end(
    celery_worker, client, fake_twilio, store, associate
):
    """The associate writes on WhatsApp a day and more after the client last wrote: free
    text is refused with why and nothing reaches Twilio; the approved template they pick
    goes through the worker as Twilio's Content API asks. A free-text message already
    queued when the window closed is stopped by the worker with the same why."""
    from django.db import transaction
    from django.utils import timezone

    from tests.conftest import wait_for

    store.whatsapp_from_number = STORE_WHATSAPP
    store.save()
    customer = CustomerFactory(first_name="Claire", home_store=store, phone=CLAIRE)
    ConsentEventFactory(customer=customer, channel="whatsapp", granted=True)
    Contact.objects.create(
        customer=customer,
        channel="whatsapp",
        direction=Contact.Direction.INBOUND,
        outcome=Contact.Outcome.REACHED,
        body="Hello",
        occurred_at=timezone.now() - datetime.timedelta(hours=24) + datetime.timedelta(seconds=6),
    )
    with transaction.atomic():  # queued inside the window, by a moment
        late = message_queue(
            customer=customer,
            channel="whatsapp",
            body="Still there?",
            dedupe_key="late",
            is_marketing=False,
            scheduled_for=timezone.now() + datetime.timedelta(seconds=2),
        )
    assert late.status == "queued"
    template = _template()
    client.force_login(associate.user)
    url = _contact_url(customer)

    import time

    time.sleep(7)  # the window closes; then the sweep hands the message to the worker
    from customers.services import messages_sweep

    messages_sweep()
    wait_for(lambda: Message.objects.filter(pk=late.pk, status="suppressed").exists())
    late.refresh_from_db()
    assert late.suppressed_reason == WINDOW_CLOSED

    refused = client.post(url, {"channel": "whatsapp", "outcome": "sent", "body": "Hi!"})
    assert refused.status_code == 200
    assert WINDOW_CLOSED in refused.content.decode().replace("&#x27;", "'")
    assert not fake_twilio.received

    sent = client.post(
        url, {"channel": "whatsapp", "outcome": "sent", "body": "", "template": template.pk}
    )
    assert sent.status_code == 302
    message = wait_for(
        lambda: Message.objects.filter(template=template, status="sent").first(), timeout=15
    )
    (request,) = fake_twilio.received
    assert request["ContentSid"] == CONTENT_SID
    assert json.loads(request["ContentVariables"]) == {"1": "Claire", "2": store.name}
    assert request["StatusCallback"].endswith(f"?ref={message.pk}")
