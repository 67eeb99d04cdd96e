"""The channel registry: one spec per channel, chosen by settings.CHANNELS, and nothing
else to touch. A fake "fax" channel registered here in settings alone gets consent,
the policy, the outbox and its own transport; every real spec is complete."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
import time_machine
from django.utils.module_loading import import_string

from clienteling.channels import (
    ChannelSpec,
    OutgoingMessage,
    SendResult,
    UnknownChannelError,
    channel,
    channel_choices,
    channels,
    get_transport,
)
from customers import tasks
from customers.models import (
    AuditEvent,
    ConsentEvent,
    Contact,
    Customer,
    Message,
    Source,
    consent_channel_choices,
)
from customers.services import consent_record, consent_wording, message_policy, message_queue
from tests.factories import ConsentEventFactory, CustomerFactory

pytestmark = pytest.mark.django_db

NOON_NY = datetime.datetime(2026, 11, 20, 17, 0, tzinfo=datetime.UTC)


class FaxTransport:
    """Records what it was given, as a provider would receive it."""

    sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> SendResult:
        FaxTransport.sent.append(message)
        return SendResult(provider_id=f"fax-{len(FaxTransport.sent)}")


FAX = ChannelSpec(
    code="fax",
    label="Fax",
    message_label="Fax",
    noun="faxes",
    by="by fax",
    address_noun="fax number",
    address_attribute="phone",
    transport="tests.clienteling.test_channel_registry.FaxTransport",
)
# A channel that needs another's consent (as WhatsApp could need the SMS one).
CHAT = ChannelSpec(
    code="chat",
    label="Chat",
    message_label="Chat message",
    noun="chat messages",
    by="by chat",
    address_noun="mobile number",
    address_attribute="phone",
    transport="tests.clienteling.test_channel_registry.FaxTransport",
    consent="sms",
)


@pytest.fixture(autouse=True)
def at_noon():
    with time_machine.travel(NOON_NY, tick=False):
        yield


@pytest.fixture
def with_fax(settings):
    """Fax registered by its one settings line, and nothing else."""
    settings.CHANNELS = {
        **settings.CHANNELS,
        "fax": "tests.clienteling.test_channel_registry.FAX",
        "chat": "tests.clienteling.test_channel_registry.CHAT",
    }
    FaxTransport.sent = []
    return FAX


@pytest.fixture
def claire(store):
    return CustomerFactory(
        first_name="Claire", home_store=store, email="claire@example.com", phone="+12125550142"
    )


def test_a_channel_registered_in_settings_gets_consent_policy_outbox_and_transport(
    with_fax, claire, django_capture_on_commit_callbacks
):
    event = consent_record(customer=claire, channel="fax", granted=True, source=Source.CLIENT)
    assert event.wording == consent_wording("fax", claire.home_store)
    assert "may contact me by fax" in event.wording
    audit = AuditEvent.objects.get(action=AuditEvent.Action.CONSENT, customer=claire)
    assert (audit.actor, audit.detail) == (
        None,
        {"channel": "fax", "granted": True, "source": "client"},
    )

    with django_capture_on_commit_callbacks() as callbacks:
        message = message_queue(
            customer=claire, channel="fax", body="Your dress is in.", dedupe_key="fax-1"
        )
    assert (message.channel, message.status) == ("fax", Message.Status.QUEUED)
    assert len(callbacks) == 1  # its delivery task, after commit
    assert tasks.message_deliver.apply(args=[message.pk]).get() == "sent"

    assert [(sent.to, sent.body, sent.dedupe_key) for sent in FaxTransport.sent] == [
        ("+12125550142", "Your dress is in.", "fax-1")
    ]
    message.refresh_from_db()
    assert (message.status, message.provider_id) == (Message.Status.SENT, "fax-1")


def test_without_its_consent_the_policy_refuses_the_channel_in_its_own_words(with_fax, claire):
    decision = message_policy(customer=claire, channel="fax", is_marketing=True)
    assert (decision.allowed, decision.reason) == (False, "Never agreed to faxes.")

    consent_record(customer=claire, channel="fax", granted=False, source=Source.CLIENT)
    message = message_queue(customer=claire, channel="fax", body="Hi!", dedupe_key="fax-2")
    assert message.status == Message.Status.SUPPRESSED
    assert message.suppressed_reason.startswith("Said no to faxes on")

    claire.phone = ""
    claire.save()
    decision = message_policy(customer=claire, channel="fax", is_marketing=True)
    assert decision.reason == "No fax number on file."
    assert FaxTransport.sent == []


def test_an_associate_sends_by_the_new_channel_from_the_contact_page(
    with_fax, client, associate, claire, django_capture_on_commit_callbacks
):
    ConsentEventFactory(customer=claire, channel="fax", granted=True)
    client.force_login(associate.user)

    page = client.get(f"/clients/{claire.pk}/contact/").content.decode()
    assert 'value="fax"' in page and "Fax" in page

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            f"/clients/{claire.pk}/contact/",
            {"channel": "fax", "outcome": "sent", "body": "See you Saturday."},
        )
    assert response.status_code == 302
    contact = Contact.objects.select_related("message").get()
    assert (contact.channel, contact.message.channel) == ("fax", "fax")
    assert len(callbacks) == 1
    tasks.message_deliver.apply(args=[contact.message.pk])
    assert [sent.body for sent in FaxTransport.sent] == ["See you Saturday."]


def test_a_channel_can_need_another_channels_consent(with_fax, claire):
    assert "chat" not in dict(consent_channel_choices())  # no consent of its own
    refused = message_policy(customer=claire, channel="chat", is_marketing=True)
    assert refused.reason == "Never agreed to chat messages."

    consent_record(customer=claire, channel="sms", granted=True, source=Source.CLIENT)
    assert message_policy(customer=claire, channel="chat", is_marketing=True).allowed
    message_queue(customer=claire, channel="chat", body="Hi", dedupe_key="chat-1")

    # A STOP to the consent withdraws what is queued on every channel that needs it.
    consent_record(customer=claire, channel="sms", granted=False, source=Source.SMS_REPLY)
    assert Message.objects.get(dedupe_key="chat-1").status == Message.Status.SUPPRESSED


def test_an_unregistered_channel_is_refused_everywhere(claire):
    with pytest.raises(UnknownChannelError):
        channel("fax")
    with pytest.raises(UnknownChannelError):
        get_transport("fax")
    decision = message_policy(customer=claire, channel="fax", is_marketing=True)
    assert decision.reason == "Messages can't be sent by fax."
    assert "fax" not in dict(consent_channel_choices())


def test_the_settings_choose_the_sms_transport(settings):
    settings.SMS_TRANSPORT = "clienteling.channels.http.HttpSmsTransport"
    settings.SMS_HTTP_URL = "http://127.0.0.1:9/"
    assert type(get_transport("sms")).__name__ == "HttpSmsTransport"
    settings.SMS_TRANSPORT = "clienteling.channels.sms.FileSmsTransport"
    assert type(get_transport("sms")).__name__ == "FileSmsTransport"


@pytest.mark.parametrize("spec", channels(), ids=lambda spec: spec.code)
def test_every_registered_channel_spec_is_complete(spec, settings):
    assert import_string(settings.CHANNELS[spec.code]) is spec
    for field in dataclasses.fields(ChannelSpec):
        value = getattr(spec, field.name)
        # Optional: another transport by setting, provider-approved templates.
        if field.type in ("str", str) and field.name not in (
            "transport_setting",
            "template_id_attribute",
        ):
            assert value and value == value.strip(), f"{spec.code}: {field.name} is empty"
    # Stored in 8-character columns, lower case like every other code.
    assert len(spec.code) <= 8 and spec.code == spec.code.lower()
    # The address lives on the client, and the forms ask for it by that name.
    assert spec.address_attribute in {field.name for field in Customer._meta.get_fields()}
    # Lower case mid-sentence ("Never agreed to text messages"), but for its own name
    # ("WhatsApp messages").
    assert spec.noun.removeprefix(spec.label) == spec.noun.removeprefix(spec.label).lower()
    assert spec.address_noun == spec.address_noun.lower()
    # Its transport can be built and sends.
    transport = get_transport(spec.code)
    assert callable(getattr(transport, "send", None))
    if spec.transport_setting:
        assert hasattr(settings, spec.transport_setting)
    # Its consent is one a client can give, worded for the store.
    assert spec.consent in dict(consent_channel_choices())
    assert spec.by in consent_wording(spec.consent, CustomerFactory.build().home_store)


def test_codes_and_labels_are_unique():
    codes = [code for code, _ in channel_choices()]
    labels = [label for _, label in channel_choices()]
    assert len(set(codes)) == len(codes) and len(set(labels)) == len(labels)
    assert ConsentEvent._meta.get_field("channel").max_length >= max(map(len, codes))


def test_the_forms_ask_consent_for_the_new_channel_in_the_stores_words(with_fax, client, store):
    from customers.signup import signup_path

    page = client.get(signup_path(store)).content.decode()
    assert 'name="consent_fax"' in page and consent_wording("fax", store) in page
    assert 'name="consent_chat"' not in page  # it needs the SMS consent, asked once

    client.post(
        signup_path(store),
        {"first_name": "Ines", "phone": "212 555 0199", "consent_fax": "on", "consent_sms": ""},
    )
    consents = {e.channel: e.granted for e in ConsentEvent.objects.all()}
    # Every other channel asked for its own consent was left unticked: a no.
    assert consents == {"fax": True, "sms": False, "whatsapp": False}
