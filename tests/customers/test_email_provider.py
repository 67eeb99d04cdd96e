"""Email through an ESP with django-anymail: the store's own HTML email, and the provider's
webhooks (Postmark's documented payloads, with its basic auth) feeding back deliveries,
bounces, spam complaints, opens, clicks and replies."""

from __future__ import annotations

import base64
import io
import json

import pytest
from anymail.exceptions import AnymailAPIError
from anymail.message import AnymailRecipientStatus
from anymail.signals import pre_send
from django.core import mail
from django.core.files.base import ContentFile
from PIL import Image

from clienteling.privacy import customer_erase
from customers.models import (
    AuditEvent,
    Bounce,
    ConsentEvent,
    Contact,
    EngagementEvent,
    Message,
    Reason,
    Suppression,
)
from customers.services.email_events import email_reply_text
from customers.services.outreach import message_deliver, message_queue
from customers.services.policy import message_policy
from tests.clienteling.test_settings import PRODUCTION_ENV, _manage
from tests.factories import ConsentEventFactory, CustomerFactory

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "postmark:webhook-s3cret"
TRACKING_URL = "/hooks/anymail/postmark/tracking/"
INBOUND_URL = "/hooks/anymail/postmark/inbound/"
POSTMARK_ID = "883953f4-6105-42a2-a16a-77a8eac79483"


@pytest.fixture(autouse=True)
def anymail_settings(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": WEBHOOK_SECRET}
    settings.EMAIL_REPLY_TO = "replies@inbound.example.com"


@pytest.fixture
def soho(store):
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), "navy").save(picture, "PNG")
    store.email_from_address = "soho@maison.example"
    store.logo.save("soho.png", ContentFile(picture.getvalue()), save=False)
    store.save()
    return store


@pytest.fixture
def claire(soho, associate):
    customer = CustomerFactory(
        first_name="Claire",
        home_store=soho,
        assigned_associate=associate,
        email="claire@example.com",
        phone="+12125550142",
    )
    ConsentEventFactory(customer=customer, channel="email", granted=True)
    return customer


def _send(customer, body="Hi Claire,\n\nYour jacket is ready.", **extra) -> Message:
    message = message_queue(
        customer=customer,
        channel="email",
        subject="Your jacket",
        body=body,
        dedupe_key=extra.pop("dedupe_key", "email-1"),
        purpose="alteration_ready",
        **extra,
    )
    assert message_deliver(message_id=message.pk) == "sent"
    message.refresh_from_db()
    return message


def _auth(secret: str = WEBHOOK_SECRET) -> str:
    return "Basic " + base64.b64encode(secret.encode()).decode()


def _post(client, url, payload, auth=WEBHOOK_SECRET):
    extra = {"HTTP_AUTHORIZATION": _auth(auth)} if auth else {}
    return client.post(url, json.dumps(payload), content_type="application/json", **extra)


def _email_allowed(customer):
    return message_policy(customer=customer, channel="email", is_marketing=False)


# --- Settings -------------------------------------------------------------------------------


@pytest.mark.django_db(False)
def test_an_esp_is_chosen_by_settings_and_needs_a_webhook_secret():
    provider = {**PRODUCTION_ENV, "EMAIL_PROVIDER": "postmark"}
    refused = _manage("check", env=provider)
    assert refused.returncode != 0
    assert "ANYMAIL_WEBHOOK_SECRET must be set with EMAIL_PROVIDER." in refused.stderr

    configured = {
        **provider,
        "ANYMAIL_POSTMARK_SERVER_TOKEN": "server-token",
        "ANYMAIL_WEBHOOK_SECRET": "postmark:s3cret",
    }
    shown = "from django.conf import settings as s; print(s.EMAIL_BACKEND, sorted(s.ANYMAIL))"
    result = _manage("shell", "-c", shown, env=configured)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "anymail.backends.postmark.EmailBackend ['POSTMARK_SERVER_TOKEN', 'WEBHOOK_SECRET']"
    )
    deploy = _manage("check", "--deploy", "--fail-level", "WARNING", env=configured)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr


# --- Sending -----------------------------------------------------------------------------


def test_an_email_goes_out_in_the_stores_name_and_look(claire, soho):
    message = _send(
        claire,
        body="Hi Claire,\n\nYour jacket is ready.\nCome by <script>alert(1)</script> & see.",
    )

    (sent,) = mail.outbox
    assert sent.from_email == "SoHo <soho@maison.example>"
    assert sent.to == ["claire@example.com"]
    assert sent.reply_to == ["replies@inbound.example.com"]
    assert sent.body == message.body  # the text part: the body as written
    ((html, mimetype),) = sent.alternatives
    assert mimetype == "text/html"
    assert "SoHo" in html
    assert f'src="http://127.0.0.1:8000/media/{soho.logo.name}"' in html
    assert "clienteling" not in html.lower()
    # The body is plain text: escaped, in paragraphs, its line breaks kept.
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; see." in html
    assert "<p" in html and "Your jacket is ready.<br>" in html
    # The one-click unsubscribe link: in the footer and in the headers.
    link = sent.extra_headers["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://127.0.0.1:8000/unsubscribe/")
    assert f'href="{link}"' in html and "Unsubscribe</a>" in html
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # anymail's extras: our reference for the webhooks, the purpose as a tag.
    params = sent.anymail_test_params
    assert params["metadata"] == {"message": str(message.pk)}
    assert params["tags"] == ["alteration_ready"]
    assert message.provider_id == str(sent.anymail_status.message_id)
    assert message.status == "sent"


def test_without_its_own_address_a_store_sends_from_the_default_in_its_name(claire, soho, settings):
    settings.DEFAULT_FROM_EMAIL = "Clienteling <hello@example.com>"
    soho.email_from_address = ""
    soho.email_from_name = "Maison SoHo, New York"
    soho.logo = ""
    soho.save()

    _send(claire)

    (sent,) = mail.outbox
    assert sent.from_email == '"Maison SoHo, New York" <hello@example.com>'
    html = sent.alternatives[0][0]
    assert "<img" not in html and "SoHo" in html and "clienteling" not in html.lower()


def test_a_refused_address_fails_at_once_and_is_bounced(claire):
    def refuse(sender, message, **kwargs):
        status = AnymailRecipientStatus(message_id=None, status="rejected")
        message.anymail_test_response = {"recipient_status": {"claire@example.com": status}}

    pre_send.connect(refuse, dispatch_uid="test-refuse")
    try:
        message = message_queue(
            customer=claire, channel="email", subject="Hi", body="Hi", dedupe_key="k"
        )
        assert message_deliver(message_id=message.pk) == "failed"
    finally:
        pre_send.disconnect(dispatch_uid="test-refuse")
    message.refresh_from_db()
    assert message.status == "failed"
    assert Bounce.objects.filter(channel="email", address="claire@example.com").exists()


def test_an_esp_outage_is_retried_later(claire):
    def outage(sender, message, **kwargs):
        message.anymail_test_response = AnymailAPIError("503 Service Unavailable")

    pre_send.connect(outage, dispatch_uid="test-outage")
    try:
        message = message_queue(
            customer=claire, channel="email", subject="Hi", body="Hi", dedupe_key="k"
        )
        assert message_deliver(message_id=message.pk) == "retry"
    finally:
        pre_send.disconnect(dispatch_uid="test-outage")
    message.refresh_from_db()
    assert (message.status, message.last_error) == ("queued", "503 Service Unavailable")
    assert not Bounce.objects.exists()


# --- Tracking webhooks (Postmark) -----------------------------------------------------------


def _delivery(message):
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": message.provider_id,
        "Recipient": "claire@example.com",
        "Tag": "alteration_ready",
        "DeliveredAt": "2026-11-20T16:33:54.9070259Z",
        "Details": "Test delivery webhook details",
        "Metadata": {"message": str(message.pk)},
    }


def _bounce(message, record_type="Bounce", kind="HardBounce", event_id=4323372036854775807):
    return {
        "RecordType": record_type,
        "MessageStream": "outbound",
        "ID": event_id,
        "Type": kind,
        "TypeCode": 1 if kind == "HardBounce" else 512,
        "Name": "Hard bounce" if kind == "HardBounce" else "Spam complaint",
        "Tag": "alteration_ready",
        "MessageID": message.provider_id,
        "Metadata": {"message": str(message.pk)},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message.",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": "claire@example.com",
        "From": "soho@maison.example",
        "BouncedAt": "2026-11-20T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Your jacket",
    }


def _open(message, received_at="2026-11-20T16:40:00.0000000Z"):
    return {
        "RecordType": "Open",
        "MessageStream": "outbound",
        "FirstOpen": True,
        "Client": {"Name": "Chrome 35.0.1916.153", "Company": "Google", "Family": "Chrome"},
        "OS": {"Name": "OS X 10.7 Lion", "Company": "Apple Computer, Inc.", "Family": "OS X 10"},
        "Platform": "WebMail",
        "UserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_5)",
        "ReadSeconds": 5,
        "Geo": {"CountryISOCode": "US", "City": "New York"},
        "MessageID": message.provider_id,
        "Metadata": {"message": str(message.pk)},
        "ReceivedAt": received_at,
        "Tag": "alteration_ready",
        "Recipient": "claire@example.com",
    }


def _click(message):
    return {
        "RecordType": "Click",
        "MessageStream": "outbound",
        "ClickLocation": "HTML",
        "Client": {"Name": "Chrome 35.0.1916.153", "Company": "Google", "Family": "Chrome"},
        "OS": {"Name": "OS X 10.7 Lion", "Company": "Apple Computer, Inc.", "Family": "OS X 10"},
        "Platform": "Desktop",
        "UserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_5)",
        "OriginalLink": "https://maison.example/jackets",
        "Geo": {"CountryISOCode": "US", "City": "New York"},
        "MessageID": message.provider_id,
        "Metadata": {"message": str(message.pk)},
        "ReceivedAt": "2026-11-20T16:41:00.0000000Z",
        "Tag": "alteration_ready",
        "Recipient": "claire@example.com",
    }


def test_a_delivery_receipt_marks_the_message_delivered(client, claire):
    message = _send(claire)

    assert _post(client, TRACKING_URL, _delivery(message)).status_code == 200

    message.refresh_from_db()
    assert message.status == "delivered" and message.delivered_at is not None


def test_a_receipt_without_our_metadata_finds_the_message_by_the_providers_id(client, claire):
    message = _send(claire)
    Message.objects.filter(pk=message.pk).update(provider_id=POSTMARK_ID)
    message.refresh_from_db()
    payload = {**_delivery(message), "Metadata": {}}

    assert _post(client, TRACKING_URL, payload).status_code == 200

    message.refresh_from_db()
    assert message.status == "delivered"


def test_a_receipt_for_an_email_whose_worker_died_records_it_sent_and_delivered(client, claire):
    """The ESP accepted the email, the worker died before writing "sent": the receipt
    carries our reference, so the row is reconciled and the sweep will not send it again."""
    message = message_queue(
        customer=claire,
        channel="email",
        subject="Your jacket",
        body="Your jacket is ready.",
        dedupe_key="email-dead",
        is_marketing=False,
    )
    from customers.services.outreach import _claim

    assert _claim(message.pk, message.scheduled_for)  # "sending", no provider id
    message.provider_id = POSTMARK_ID  # what the ESP knows it by; our row does not yet

    assert _post(client, TRACKING_URL, _delivery(message)).status_code == 200

    message.refresh_from_db()
    assert (message.status, message.provider_id) == ("delivered", POSTMARK_ID)
    assert message.sent_at is not None and message.claimed_at is None
    assert message_deliver(message_id=message.pk) == "skipped"  # nothing goes twice


def test_webhooks_without_the_secret_are_refused_and_change_nothing(client, claire):
    message = _send(claire)

    assert _post(client, TRACKING_URL, _bounce(message), auth="").status_code == 400
    assert _post(client, TRACKING_URL, _bounce(message), auth="postmark:wrong").status_code == 400
    assert (
        _post(
            client, INBOUND_URL, {"FromFull": {"Email": "claire@example.com"}}, auth=""
        ).status_code
        == 400
    )

    message.refresh_from_db()
    assert message.status == "sent"
    assert not Bounce.objects.exists()
    assert not Contact.objects.exists()


def test_a_bounce_fails_the_message_and_retires_the_address(client, claire):
    message = _send(claire)

    assert _post(client, TRACKING_URL, _bounce(message)).status_code == 200

    message.refresh_from_db()
    assert message.status == "failed"
    assert Bounce.objects.filter(channel="email", address="claire@example.com").exists()
    decision = _email_allowed(claire)
    assert not decision.allowed and "bounced" in decision.reason


def test_a_spam_complaint_withdraws_email_consent_at_once(client, claire):
    message = _send(claire)
    assert _email_allowed(claire).allowed

    payload = _bounce(message, record_type="SpamComplaint", kind="SpamComplaint", event_id=42)
    assert _post(client, TRACKING_URL, payload).status_code == 200

    withdrawal = ConsentEvent.objects.filter(customer=claire, channel="email").latest("pk")
    assert (withdrawal.granted, withdrawal.source) == (False, "client")
    assert withdrawal.recorded_by is None
    assert withdrawal.wording == "Reported an email as spam"
    assert AuditEvent.objects.filter(customer=claire, action=AuditEvent.Action.CONSENT).exists()
    assert not claire.has_consent("email")
    assert not _email_allowed(claire).allowed
    # The same complaint again records nothing more.
    assert _post(client, TRACKING_URL, payload).status_code == 200
    assert ConsentEvent.objects.filter(customer=claire, granted=False).count() == 1


def test_a_spam_complaint_outlives_erasure_and_a_new_consent_from_the_pos(
    client, claire, manager, soho
):
    message = _send(claire)
    payload = _bounce(message, record_type="SpamComplaint", kind="SpamComplaint", event_id=43)
    assert _post(client, TRACKING_URL, payload).status_code == 200
    customer_erase(customer=claire, by=manager.user)

    again = CustomerFactory(first_name="Claire", home_store=soho, email="Claire@Example.com")
    ConsentEventFactory(customer=again, channel="email", granted=True, source="pos")

    decision = _email_allowed(again)
    assert not decision.allowed  # the POS's "yes" does not undo the client's spam report
    assert Suppression.objects.filter(channel="email", reason="complaint").count() == 1


def test_opens_and_clicks_are_engagement_recorded_once(client, claire):
    message = _send(claire)

    for _ in range(2):  # Postmark retries a webhook it thinks failed
        assert _post(client, TRACKING_URL, _open(message)).status_code == 200
        assert _post(client, TRACKING_URL, _click(message)).status_code == 200

    events = EngagementEvent.objects.filter(customer=claire).order_by("occurred_at")
    assert [(event.kind, event.source) for event in events] == [
        ("email_open", "email_platform"),
        ("email_click", "email_platform"),
    ]
    # A later open is another event.
    _post(client, TRACKING_URL, _open(message, received_at="2026-11-21T09:00:00Z"))
    assert EngagementEvent.objects.filter(customer=claire, kind="email_open").count() == 2


def test_events_about_unknown_messages_are_ignored(client, claire):
    message = _send(claire)
    payload = {**_open(message), "MessageID": POSTMARK_ID, "Metadata": {}}

    assert _post(client, TRACKING_URL, payload).status_code == 200
    payload = {**_bounce(message), "MessageID": POSTMARK_ID, "Metadata": {"message": "999999"}}
    assert _post(client, TRACKING_URL, payload).status_code == 200

    assert not EngagementEvent.objects.exists()
    assert not Bounce.objects.exists()


# --- Inbound (Postmark) -------------------------------------------------------------------


def _inbound(text_body, stripped=None, sender="claire@example.com"):
    payload = {
        "FromName": "Claire",
        "MessageStream": "inbound",
        "From": sender,
        "FromFull": {"Email": sender, "Name": "Claire", "MailboxHash": ""},
        "To": "replies@inbound.example.com",
        "ToFull": [{"Email": "replies@inbound.example.com", "Name": "", "MailboxHash": ""}],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": "replies@inbound.example.com",
        "Subject": "Re: Your jacket",
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Fri, 20 Nov 2026 12:45:32 -05:00",
        "TextBody": text_body,
        "HtmlBody": "",
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": f"<{sender}>"},
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "X-Spam-Score", "Value": "-0.1"},
        ],
        "Attachments": [],
    }
    if stripped is not None:
        payload["StrippedTextReply"] = stripped
    return payload


def test_a_reply_by_email_joins_the_conversation_without_the_quote(client, associate, claire):
    text = (
        "Saturday works, thank you!\n\n"
        "On Fri, Nov 20, 2026 at 12:00 PM SoHo <soho@maison.example> wrote:\n"
        "> Hi Claire,\n> Your jacket is ready.\n"
    )

    assert _post(client, INBOUND_URL, _inbound(text)).status_code == 200

    contact = Contact.objects.get(customer=claire)
    assert (contact.direction, contact.channel) == ("in", "email")
    assert contact.body == "Re: Your jacket\n\nSaturday works, thank you!"
    reason = Reason.objects.get(customer=claire, kind="client_replied")
    assert reason.why.startswith("Claire wrote back by email")
    client.force_login(associate.user)
    assert "Claire wrote back by email" in client.get(f"/clients/{claire.pk}/").content.decode()


def test_postmarks_stripped_reply_is_used_when_it_sends_one(client, claire):
    payload = _inbound("Yes please\n\n-----Original Message-----\nHi", stripped="Yes please")

    assert _post(client, INBOUND_URL, payload).status_code == 200

    assert Contact.objects.get(customer=claire).body == "Re: Your jacket\n\nYes please"


def test_an_email_from_a_stranger_reaches_nobody(client, claire):
    response = _post(client, INBOUND_URL, _inbound("Hello", sender="who@example.org"))
    assert response.status_code == 200
    assert not Contact.objects.exists() and not Reason.objects.exists()


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("Thanks!\n\n> quoted", "Thanks!"),
        (
            "Thanks!\n\nOn Fri, Nov 20, 2026 at 12:00 PM SoHo <\nsoho@x.example> wrote:\n> Hi",
            "Thanks!",
        ),
        ("Thanks!\r\n\r\n________________________________\r\nFrom: SoHo", "Thanks!"),
        ("> all quoted", "> all quoted"),
        ("Just this", "Just this"),
    ],
)
def test_reply_text_trims_the_quoted_message(text, reply):
    assert email_reply_text(text) == reply


# --- End to end on a real worker -----------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_bounce_and_a_spam_complaint_change_what_the_policy_allows_end_to_end(
    celery_worker, client, soho, associate
):
    """Two emails delivered by the worker through the ESP (anymail's test backend); the
    ESP's webhooks then retire one address and withdraw the other client's consent, and
    the next emails are refused with why, sending nothing more."""
    from django.db import transaction

    from tests.conftest import wait_for

    clients = []
    for first_name in ("Claire", "Ines"):
        customer = CustomerFactory(
            first_name=first_name, home_store=soho, email=f"{first_name.lower()}@example.com"
        )
        ConsentEventFactory(customer=customer, channel="email", granted=True)
        clients.append(customer)
    ines = clients[1]
    with transaction.atomic():
        messages = [
            message_queue(
                customer=customer,
                channel="email",
                subject="Your jacket",
                body="Your jacket is ready.",
                dedupe_key=f"e2e-{customer.pk}",
                is_marketing=False,
            )
            for customer in clients
        ]
    for message in messages:
        wait_for(lambda m=message: Message.objects.filter(pk=m.pk, status="sent").exists())
        message.refresh_from_db()
    assert sorted(email.to[0] for email in mail.outbox) == [
        "claire@example.com",
        "ines@example.com",
    ]

    bounce = {**_bounce(messages[0]), "Email": "claire@example.com"}
    assert _post(client, TRACKING_URL, bounce).status_code == 200
    complaint = {
        **_bounce(messages[1], record_type="SpamComplaint", kind="SpamComplaint", event_id=7),
        "Email": "ines@example.com",
    }
    assert _post(client, TRACKING_URL, complaint).status_code == 200

    refused = []
    with transaction.atomic():
        for customer in clients:
            refused.append(
                message_queue(
                    customer=customer,
                    channel="email",
                    subject="Again",
                    body="One more thing.",
                    dedupe_key=f"e2e-again-{customer.pk}",
                    is_marketing=False,
                )
            )
    assert [(m.status, m.suppressed_reason) for m in refused] == [
        ("suppressed", "The email address bounced: update it first."),
        ("suppressed", refused[1].suppressed_reason),
    ]
    assert refused[1].suppressed_reason.startswith("Said no to email on")
    assert not ines.has_consent("email")
    assert len(mail.outbox) == 2  # nothing more went to the ESP
