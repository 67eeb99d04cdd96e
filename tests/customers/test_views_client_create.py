"""Quick-add at the counter: fewest fields, duplicates offered, consent asked explicitly."""

from __future__ import annotations

import pytest

from customers.models import ConsentEvent, Customer
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/clients/new/"


def test_quick_add_creates_the_client_in_my_store_and_book_with_consents(client, associate, store):
    client.force_login(associate.user)

    response = client.post(
        URL,
        {
            "first_name": " Ines ",
            "last_name": "Moreau",
            "phone": "(212) 555-0199",
            "email": "Ines@Example.com",
            "consent_email": "yes",
            "consent_sms": "no",
            "consent_whatsapp": "no",
            "consent_phone": "yes",
        },
    )

    customer = Customer.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/clients/{customer.pk}/"
    assert (customer.first_name, customer.email, str(customer.phone)) == (
        "Ines",
        "ines@example.com",
        "+12125550199",
    )
    assert (customer.home_store, customer.assigned_associate, customer.joined_via) == (
        store,
        associate,
        "in_store",
    )
    consents = {e.channel: e for e in ConsentEvent.objects.filter(customer=customer)}
    assert {c: e.granted for c, e in consents.items()} == {
        "email": True,
        "sms": False,
        "whatsapp": False,
        "phone": True,
    }
    assert all(
        e.recorded_by == associate.user and e.source == "associate" for e in consents.values()
    )
    assert "by email" in consents["email"].wording and store.name in consents["email"].wording


def test_quick_add_with_htmx_redirects_the_page(client, associate):
    client.force_login(associate.user)
    response = client.post(
        URL,
        {"first_name": "Ana", "email": "ana@example.com", "consent_email": "no"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/clients/{Customer.objects.get().pk}/"


def test_phone_typed_in_the_stores_own_format(client, other_store_associate):
    client.force_login(other_store_associate.user)  # a Paris store
    client.post(
        URL,
        {
            "first_name": "Lea",
            "phone": "06 12 34 56 78",
            "consent_sms": "yes",
            "consent_whatsapp": "no",
            "consent_phone": "no",
        },
    )
    assert str(Customer.objects.get().phone) == "+33612345678"


def test_the_same_phone_offers_the_existing_client_instead(client, associate, store):
    existing = CustomerFactory(
        first_name="Claire", last_name="Dubois", home_store=store, phone="+12125550142"
    )
    client.force_login(associate.user)

    response = client.post(
        URL,
        {
            "first_name": "Claire",
            "phone": "212 555 0142",
            "consent_sms": "yes",
            "consent_whatsapp": "yes",
            "consent_phone": "yes",
        },
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert (
        "Already a client" in body
        and f"/clients/{existing.pk}/" in body
        and "Claire Dubois" in body
    )
    assert Customer.objects.count() == 1
    assert 'value="Claire"' in body  # what was typed is kept


def test_a_duplicate_in_another_store_is_named_by_store_only(client, associate, other_store):
    CustomerFactory(
        first_name="Secret", last_name="Person", home_store=other_store, email="secret@example.com"
    )
    client.force_login(associate.user)

    response = client.post(
        URL, {"first_name": "S", "email": "SECRET@example.com", "consent_email": "no"}
    )

    body = response.content.decode()
    assert "a client of Marais" in body
    assert "Secret Person" not in body
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"first_name": "Ana"}, "phone", "Give a phone number or an email"),
        (
            {"first_name": "", "email": "a@example.com", "consent_email": "yes"},
            "first_name",
            "This field is required.",
        ),
        (
            {"first_name": "Ana", "phone": "12", "consent_sms": "yes", "consent_phone": "yes"},
            "phone",
            "Enter a valid phone number",
        ),
        (
            {"first_name": "Ana", "email": "not-an-email", "consent_email": "yes"},
            "email",
            "Enter a valid email address.",
        ),
        (
            {"first_name": "Ana", "email": "a@example.com"},
            "consent_email",
            "Ask the client, then choose yes or no.",
        ),
        (
            {"first_name": "Ana", "phone": "2125550100", "consent_sms": "yes"},
            "consent_phone",
            "Ask the client, then choose yes or no.",
        ),
    ],
)
def test_bad_input_gets_a_field_message_and_keeps_what_was_typed(
    client, associate, data, field, message
):
    client.force_login(associate.user)
    response = client.post(URL, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert f'id="id_{field}-error">{message}' in body
    if data.get("first_name"):
        assert f'value="{data["first_name"]}"' in response.content.decode()
    assert not Customer.objects.exists()


def test_quick_add_page_and_access(client, associate):
    assert client.get(URL).status_code == 302
    client.force_login(UserFactory(username="no-store"))
    assert client.get(URL).status_code == 404
    client.force_login(associate.user)
    page = client.get(URL).content.decode()
    assert "Consent, asked out loud" in page and "by text message" in page
    assert client.put(URL).status_code == 405
