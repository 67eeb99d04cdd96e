"""The audit trail: consent changes and the messages people send are recorded with who,
when and what, next to card views, exports and erasures; nobody edits or deletes it."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from appointments.models import Appointment
from clienteling.core.errors import ApplicationError
from customers.models import AuditEvent, ConsentEvent, Customer, Message, Source
from customers.services import (
    ConsentAnswer,
    ConsentChange,
    consent_record,
    consents_record,
    customer_create,
    message_queue,
    sms_inbound,
    unsubscribe_url,
)
from customers.signup import signup_path
from tests.factories import (
    AppointmentKindFactory,
    ConsentEventFactory,
    CustomerFactory,
    MessageFactory,
    RoomFactory,
    UserFactory,
    working_week,
)

pytestmark = pytest.mark.django_db


def _consents(customer, *, after: ConsentEvent | None = None) -> list[tuple]:
    """Each consent event of a client (recorded after `after`, a factory's) beside its
    audit row: (channel, granted, source, who recorded it, audited actor). The two must
    tell the same story, one row each."""
    events = list(
        ConsentEvent.objects.filter(customer=customer, pk__gt=after.pk if after else 0).order_by(
            "pk"
        )
    )
    audits = list(
        AuditEvent.objects.filter(action=AuditEvent.Action.CONSENT, customer=customer).order_by(
            "pk"
        )
    )
    assert [(a.detail["channel"], a.detail["granted"], a.detail["source"]) for a in audits] == [
        (e.channel, e.granted, e.source) for e in events
    ]
    return [
        (e.channel, e.granted, e.source, e.recorded_by, a.actor)
        for e, a in zip(events, audits, strict=True)
    ]


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


# --- Every way a consent comes in: one event, one audit row, the right source and actor -----


def test_quick_add_records_each_answer_as_the_associates(client, store, associate):
    client.force_login(associate.user)
    client.post(
        reverse("customers:create"),
        {
            "first_name": "Ana",
            "phone": "212 555 0100",
            "consent_sms": "yes",
            "consent_whatsapp": "no",
            "consent_phone": "no",
        },
    )
    ana = Customer.objects.get(first_name="Ana")
    user = associate.user
    assert _consents(ana) == [
        ("sms", True, "associate", user, user),
        ("whatsapp", False, "associate", user, user),
        ("phone", False, "associate", user, user),
    ]


def test_self_signup_records_the_clients_own_answers_without_a_staff_member(client, store):
    client.post(
        signup_path(store),
        {"first_name": "Ines", "email": "ines@example.com", "phone": "", "consent_email": "on"},
    )
    ines = Customer.objects.get(first_name="Ines")
    assert _consents(ines) == [("email", True, "client", None, None)]


def test_signing_up_again_records_only_what_changed(client, store):
    ines = CustomerFactory(home_store=store, email="ines@example.com")
    before = ConsentEventFactory(customer=ines, channel="email", granted=True)

    data = {"first_name": "Ines", "email": "ines@example.com", "phone": ""}
    client.post(signup_path(store), {**data, "consent_email": "on"})  # as before
    client.post(signup_path(store), data)  # the box left empty: a "no"

    assert _consents(ines, after=before) == [("email", False, "client", None, None)]


def test_the_room_tablet_records_the_clients_consent(client, store):
    claire = CustomerFactory(home_store=store, phone="+12125550142")
    room = RoomFactory(store=store)
    client.post(
        f"/fitting-room/{room.tablet_token}/check-in/",
        {"phone": "212 555 0142", "consent_sms": "on"},
    )
    assert _consents(claire) == [("sms", True, "client", None, None)]


def test_a_public_booking_records_the_clients_consent(client, store, stylist):
    kind = AppointmentKindFactory(name="Try-on", default_minutes=60)
    kind.online_stores.add(store)
    working_week(stylist)
    monday = datetime.datetime(2026, 12, 7, 14, 0, tzinfo=datetime.UTC)  # 09:00 in New York
    tuesday_ten = datetime.datetime(2026, 12, 8, 15, 0, tzinfo=datetime.UTC)
    with time_machine.travel(monday, tick=False):
        client.post(
            f"/book/{store.code}/{kind.pk}/details/",
            {
                "slot": f"{stylist.pk}@{tuesday_ten:%Y-%m-%dT%H:%M:%SZ}",
                "stylist": "",
                "first_name": "Jade",
                "email": "jade@example.com",
                "phone": "212 555 0199",
                "consent_sms": "on",
            },
        )
    jade = Appointment.objects.get().customer
    assert _consents(jade) == [("sms", True, "client", None, None)]


def test_an_integration_push_records_consent_once_without_a_staff_member(api_client, store):
    item = {
        "source": "pos",
        "external_id": "C-9",
        "first_name": "Maya",
        "home_store": store.code,
        "consents": [{"channel": "email", "granted": True, "wording": "Yes to news"}],
    }
    for _ in range(2):
        api_client.post("/api/v1/customers/bulk/", {"customers": [item]}, format="json")
    maya = Customer.objects.get(pos_customer_id="C-9")
    assert _consents(maya) == [("email", True, "pos", None, None)]


def test_an_integration_withdrawal_drops_what_is_queued(api_client, store):
    maya = CustomerFactory(home_store=store, pos_customer_id="C-9")
    before = ConsentEventFactory(customer=maya, channel="email", granted=True)
    queued = MessageFactory(customer=maya, channel="email")
    item = {
        "source": "pos",
        "external_id": "C-9",
        "consents": [{"channel": "email", "granted": False}],
    }
    api_client.post("/api/v1/customers/bulk/", {"customers": [item]}, format="json")
    assert _consents(maya, after=before) == [("email", False, "pos", None, None)]
    queued.refresh_from_db()
    assert queued.status == Message.Status.SUPPRESSED


def test_a_second_stop_records_nothing_more(store):
    claire = CustomerFactory(home_store=store, phone="+12125550142")
    ConsentEventFactory(customer=claire, channel="sms", granted=True)

    assert sms_inbound(from_number="+12125550142", body="STOP")["revoked"] == 1
    assert sms_inbound(from_number="+12125550142", body="STOP")["revoked"] == 0
    assert ConsentEvent.objects.filter(customer=claire, granted=False).count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CONSENT).count() == 1


def test_the_unsubscribe_link_records_the_clients_withdrawal_once(client, store, settings):
    claire = CustomerFactory(home_store=store, email="claire@example.com")
    before = ConsentEventFactory(customer=claire, channel="email", granted=True)
    path = unsubscribe_url(claire, "email").removeprefix(settings.SITE_URL.rstrip("/"))

    client.post(path)
    client.post(path)

    assert _consents(claire, after=before) == [("email", False, "client", None, None)]


def test_an_unsubscribe_link_of_an_erased_client_records_nothing(client, store, settings):
    claire = CustomerFactory(home_store=store, email="claire@example.com")
    path = unsubscribe_url(claire, "email").removeprefix(settings.SITE_URL.rstrip("/"))
    Customer.objects.filter(pk=claire.pk).update(erased_at=datetime.datetime.now(datetime.UTC))

    assert client.post(path).status_code == 200
    assert not ConsentEvent.objects.exists()


def test_a_staff_source_needs_the_person_and_a_client_source_has_none(store, associate):
    claire = CustomerFactory(home_store=store)
    with pytest.raises(ApplicationError, match="needs the person"):
        consent_record(customer=claire, channel="email", granted=True, source=Source.ASSOCIATE)
    with pytest.raises(ApplicationError, match="needs the person"):
        consents_record(changes=[ConsentChange(claire.pk, "email", True, source=Source.ASSOCIATE)])
    assert not ConsentEvent.objects.exists()

    event = consent_record(customer=claire, channel="email", granted=True, source=Source.CLIENT)
    assert event.recorded_by is None and "by email" in event.wording
    (bulk,) = consents_record(
        changes=[ConsentChange(claire.pk, "sms", True, Source.ASSOCIATE, by=associate.user)]
    )
    assert bulk.recorded_by == associate.user
    assert [row[3:] for row in _consents(claire)] == [
        (None, None),
        (associate.user, associate.user),
    ]
