"""Conversations: a client's replies reach their associate (or the store), and are answered
from the store's number, through the policy."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from customers.models import Contact, Message, Reason
from tests.factories import ConsentEventFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def claire(store, associate):
    customer = CustomerFactory(
        first_name="Claire",
        home_store=store,
        assigned_associate=associate,
        email="claire@example.com",
        phone="+12125550142",
    )
    ConsentEventFactory(customer=customer, channel="sms", granted=True)
    ConsentEventFactory(customer=customer, channel="email", granted=True)
    return customer


def _post(client, url, secret, payload):
    body = json.dumps(payload).encode()
    return client.post(
        url,
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE=hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    )


def test_a_text_reply_reaches_the_associates_today_and_the_conversation(
    client, settings, associate, claire
):
    settings.SMS_WEBHOOK_SECRET = "s"
    _post(
        client,
        "/hooks/sms/",
        "s",
        {"type": "inbound", "from": "+12125550142", "body": "Can you hold the navy dress in 38?"},
    )

    reason = Reason.objects.get(kind="client_replied")
    assert reason.why == "Claire wrote back by text message: “Can you hold the navy dress in 38?”"
    client.force_login(associate.user)
    assert "Claire wrote back by text message" in client.get("/").content.decode()
    thread = client.get(f"/clients/{claire.pk}/conversation/").content.decode()
    assert "Can you hold the navy dress in 38?" in thread


def test_when_the_associate_is_away_the_store_sees_the_reply(
    client, settings, store, associate, claire
):
    from tests.factories import StaffMemberFactory

    associate.user.is_active = False
    associate.user.save()
    settings.EMAIL_WEBHOOK_SECRET = "e"
    response = _post(
        client,
        "/hooks/email/",
        "e",
        {"from": "CLAIRE@example.com", "subject": "Re: your order", "body": "Thank you!"},
    )
    assert response.json() == {"clients": 1}
    colleague = StaffMemberFactory(store=store)
    client.force_login(colleague.user)
    assert "Claire wrote back by email" in client.get("/").content.decode()


def test_replying_sends_through_the_outbox_and_closes_the_reason(
    client, settings, associate, claire
):
    settings.SMS_WEBHOOK_SECRET = "s"
    _post(
        client,
        "/hooks/sms/",
        "s",
        {"type": "inbound", "from": "+12125550142", "body": "Hold it please"},
    )
    client.force_login(associate.user)

    response = client.post(
        f"/clients/{claire.pk}/conversation/",
        {"channel": "email", "body": "Done, it's waiting for you."},
    )

    assert response.status_code == 302
    message = Message.objects.get()
    assert (message.channel, message.sender, message.body) == (
        "email",
        associate.user,
        "Done, it's waiting for you.",
    )
    assert Reason.objects.get(kind="client_replied").state == "done"
    thread = client.get(f"/clients/{claire.pk}/conversation/").content.decode()
    assert thread.index("Hold it please") < thread.index("Done, it&#x27;s waiting for you.")


def test_a_reply_on_a_channel_without_consent_is_refused_with_why(client, associate, claire):
    ConsentEventFactory(customer=claire, channel="sms", granted=False)
    client.force_login(associate.user)
    response = client.post(
        f"/clients/{claire.pk}/conversation/",
        {"channel": "sms", "body": "Hi"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Said no to text messages" in response.content.decode()
    assert not Message.objects.exists() and not Contact.objects.exists()


def test_conversation_access(client, other_store_associate, associate, claire):
    assert client.get(f"/clients/{claire.pk}/conversation/").status_code == 302
    client.force_login(other_store_associate.user)
    assert client.get(f"/clients/{claire.pk}/conversation/").status_code == 404
    assert (
        client.post(
            f"/clients/{claire.pk}/conversation/", {"channel": "email", "body": "x"}
        ).status_code
        == 404
    )
    assert not Message.objects.exists()
    client.force_login(associate.user)
    assert client.put(f"/clients/{claire.pk}/conversation/").status_code == 405


def test_email_webhook_refuses_bad_signatures(client, settings, claire):
    settings.EMAIL_WEBHOOK_SECRET = "e"
    body = json.dumps({"from": "claire@example.com", "body": "x"})
    assert (
        client.post(
            "/hooks/email/", body, content_type="application/json", HTTP_X_SIGNATURE="nope"
        ).status_code
        == 403
    )
    assert _post(client, "/hooks/email/", "e", {"body": "no sender"}).status_code == 400
    assert not Contact.objects.exists()
