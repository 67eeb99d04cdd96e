"""Correcting and completing a client on the card: details and a consent given in person."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from clienteling.stores.models import RefusedAccess
from customers.models import AuditEvent, ConsentEvent
from tests.factories import CustomerFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def claire(store, associate):
    return CustomerFactory(
        first_name="Claire",
        last_name="Dubois",
        email="claire@example.com",
        phone="+12125550101",
        home_store=store,
        assigned_associate=associate,
    )


def _url(customer, what="details"):
    return f"/clients/{customer.pk}/{what}/"


def _details(customer, **changes):
    data = {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "phone": str(customer.phone),
        "email": customer.email,
        "birthday": "",
        "anniversary": "",
        "home_store": customer.home_store_id,
    }
    data.update(changes)
    return data


def test_edit_form_is_a_page_and_a_partial(client, associate, claire):
    client.force_login(associate.user)
    page = client.get(_url(claire)).content.decode()
    assert "<html" in page and 'value="claire@example.com"' in page
    partial = client.get(_url(claire), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and 'id="reach"' in partial


def test_saving_details_updates_the_client_and_audits_field_names(client, associate, claire):
    client.force_login(associate.user)
    response = client.post(
        _url(claire),
        _details(
            claire, email="Claire.D@Example.com ", birthday="1986-04-12", phone="212 555 0199"
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{claire.pk}/#reach"
    claire.refresh_from_db()
    assert claire.email == "claire.d@example.com"
    assert str(claire.phone) == "+12125550199"
    assert claire.birthday == datetime.date(1986, 4, 12)
    audit = AuditEvent.objects.get(action=AuditEvent.Action.EDIT)
    assert audit.actor == associate.user and audit.customer == claire
    # The names of what changed, never the values.
    assert audit.detail == {"fields": ["email", "phone", "birthday"]}


def test_htmx_save_swaps_the_section_back(client, associate, claire):
    client.force_login(associate.user)
    response = client.post(
        _url(claire), _details(claire, last_name="Dubois-Marin"), headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'id="reach"' in body and "Saved." in body


def test_bad_input_shows_errors_and_changes_nothing(client, associate, claire, store):
    CustomerFactory(email="taken@example.com", home_store=store)
    client.force_login(associate.user)
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    for changes, error in [
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"email": "taken@example.com"}, "Another client has this email"),
        ({"birthday": future}, "A birthday cannot be in the future."),
        ({"email": "", "phone": ""}, "Keep a phone number or an email"),
        ({"first_name": ""}, "This field is required."),
    ]:
        response = client.post(
            _url(claire), _details(claire, **changes), headers={"HX-Request": "true"}
        )
        assert response.status_code == 200
        assert error in response.content.decode(), changes
    claire.refresh_from_db()
    assert claire.email == "claire@example.com" and claire.birthday is None
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EDIT).exists()


def test_moving_to_another_store_lets_go_of_the_associate(client, associate, claire):
    elsewhere = StoreFactory(name="Upper East Side", code="nyc-ues")
    client.force_login(associate.user)
    response = client.post(_url(claire), _details(claire, home_store=elsewhere.pk))
    assert response["Location"] == "/clients/"
    claire.refresh_from_db()
    assert claire.home_store == elsewhere and claire.assigned_associate is None


def test_another_stores_associate_gets_404_and_a_recorded_refusal(
    client, other_store_associate, claire
):
    client.force_login(other_store_associate.user)
    assert client.get(_url(claire)).status_code == 404
    response = client.post(_url(claire), _details(claire, email="x@example.com"))
    assert response.status_code == 404
    assert (
        client.post(_url(claire, "consent"), {"channel": "email", "granted": "no"}).status_code
        == 404
    )
    claire.refresh_from_db()
    assert claire.email == "claire@example.com"
    assert not ConsentEvent.objects.exists()
    assert RefusedAccess.objects.filter(actor=other_store_associate.user).exists()


def test_anonymous_is_sent_to_sign_in_and_wrong_method_is_405(client, associate, claire):
    assert client.get(_url(claire)).status_code == 302
    assert client.post(_url(claire, "consent"), {}).status_code == 302
    client.force_login(associate.user)
    assert client.get(_url(claire, "consent")).status_code == 405
    assert client.put(_url(claire)).status_code == 405


def test_consent_given_in_person_goes_through_the_consent_service(client, associate, claire):
    client.force_login(associate.user)
    response = client.post(
        _url(claire, "consent"),
        {"channel": "email", "granted": "yes"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "Consent recorded." in response.content.decode()
    event = ConsentEvent.objects.get()
    assert (event.channel, event.granted, event.source, event.recorded_by) == (
        "email",
        True,
        "associate",
        associate.user,
    )
    assert "SoHo may contact me by email" in event.wording
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CONSENT, customer=claire).exists()
    # Withdrawn in person: a second event, the first kept.
    client.post(_url(claire, "consent"), {"channel": "email", "granted": "no"})
    assert list(ConsentEvent.objects.order_by("pk").values_list("granted", flat=True)) == [
        True,
        False,
    ]


def test_consent_without_the_address_or_an_answer_is_refused(client, associate, store):
    nobody_mail = CustomerFactory(
        first_name="Ines", email="", phone="+12125550111", home_store=store
    )
    client.force_login(associate.user)
    response = client.post(
        _url(nobody_mail, "consent"),
        {"channel": "email", "granted": "yes"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert "Add the client&#x27;s email first." in body
    # The form comes back as it was filled in, the channel marked as the wrong field.
    assert '<option value="email" selected>Email</option>' in body
    assert body.count(" selected>") == 1
    assert 'id="consent_channel" aria-invalid="true" aria-describedby="consent-channel-error"' in (
        body
    )
    assert 'value="yes" id="consent_granted_0" required checked>' in body
    assert 'value="no" id="consent_granted_1" required>' in body
    response = client.post(
        _url(nobody_mail, "consent"), {"channel": "sms"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert "This field is required." in body
    assert '<option value="sms" selected>SMS</option>' in body
    assert 'required aria-invalid="true">' in body and " checked" not in body
    assert not ConsentEvent.objects.exists()


def test_card_offers_edit_consent_and_claim_for_an_unassigned_client(client, associate, store):
    online = CustomerFactory(first_name="Mia", home_store=store, assigned_associate=None)
    client.force_login(associate.user)
    body = client.get(f"/clients/{online.pk}/").content.decode()
    assert f'href="/clients/{online.pk}/details/"' in body
    assert f'action="/clients/{online.pk}/consent/"' in body
    # A fresh form: the first choice asks, nothing is marked wrong or checked.
    assert '<option value="" selected>Choose…</option>' in body
    assert 'name="channel" required id="consent_channel">' in body
    assert 'name="granted" value="yes" id="consent_granted_0" required>' in body
    assert f'action="/clients/{online.pk}/claim/"' in body
