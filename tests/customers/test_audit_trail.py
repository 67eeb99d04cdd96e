"""The audit trail: consent changes and the messages people send are recorded with who,
when and what, next to card views, exports and erasures; nobody edits or deletes it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import AuditEvent
from customers.services import ConsentAnswer, customer_create, message_queue, sms_inbound
from tests.factories import ConsentEventFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_consents_taken_at_the_counter_are_audited_with_who_took_them(store, associate):
    client = customer_create(
        first_name="Ines",
        phone="+12125550199",
        home_store=store,
        assigned_associate=associate,
        consents=[ConsentAnswer("sms", True), ConsentAnswer("email", False)],
        recorded_by=associate.user,
    )

    events = AuditEvent.objects.filter(action="consent", customer=client).order_by("pk")
    assert [(e.actor, e.detail["channel"], e.detail["granted"]) for e in events] == [
        (associate.user, "sms", True),
        (associate.user, "email", False),
    ]


def test_a_stop_from_the_client_is_audited_without_a_staff_member(store):
    client = CustomerFactory(home_store=store, phone="+12125550142")
    ConsentEventFactory(customer=client, channel="sms", granted=True)

    sms_inbound(from_number="+12125550142", body=" stop ")

    event = AuditEvent.objects.get(action="consent", customer=client)
    assert event.actor is None
    assert event.detail == {"channel": "sms", "granted": False, "source": "sms_reply"}


def test_a_message_a_person_sends_is_audited_and_automations_are_not(store, associate):
    client = CustomerFactory(home_store=store)
    ConsentEventFactory(customer=client, channel="email", granted=True)

    sent = message_queue(
        customer=client, channel="email", body="Hi!", dedupe_key="k1", sender=associate.user
    )
    message_queue(customer=client, channel="email", body="Auto", dedupe_key="k2")

    event = AuditEvent.objects.get(action="message")
    assert (event.actor, event.customer) == (associate.user, client)
    assert event.detail["message"] == sent.pk and event.detail["channel"] == "email"


def test_the_trail_is_read_only_in_the_admin(client, store):
    customer = CustomerFactory(home_store=store)
    event = AuditEvent.objects.create(action="view", customer=customer, customer_ref=customer.pk)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    listed = client.get(reverse("admin:customers_auditevent_changelist"), {"action": "view"})
    delete = client.post(
        reverse("admin:customers_auditevent_delete", args=[event.pk]), {"post": "yes"}
    )
    change = client.post(
        reverse("admin:customers_auditevent_change", args=[event.pk]), {"action": "erase"}
    )

    assert listed.status_code == 200
    assert delete.status_code == 403
    assert change.status_code == 403
    event.refresh_from_db()
    assert event.action == "view"
