"""A write sent again with the same Idempotency-Key is done once (offline queue replays)."""

from __future__ import annotations

import pytest

from clienteling.push.models import IdempotencyKey
from customers.models import Contact, Customer, Note
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def claire(store, associate):
    return CustomerFactory(first_name="Claire", home_store=store, assigned_associate=associate)


def test_a_note_sent_twice_with_one_key_is_written_once(client, associate, claire):
    client.force_login(associate.user)
    url = f"/clients/{claire.pk}/notes/"
    first = client.post(url, {"text": "Loves navy"}, HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(url, {"text": "Loves navy"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert list(Note.objects.filter(customer=claire).values_list("text", flat=True)) == [
        "Loves navy"
    ]
    # Another key is another note.
    client.post(url, {"text": "Loves navy"}, HTTP_IDEMPOTENCY_KEY="k-2")
    assert Note.objects.filter(customer=claire).count() == 2


def test_without_a_key_nothing_changes(client, associate, claire):
    client.force_login(associate.user)
    url = f"/clients/{claire.pk}/notes/"
    client.post(url, {"text": "Once"})
    client.post(url, {"text": "Once"})
    assert Note.objects.filter(customer=claire).count() == 2
    assert IdempotencyKey.objects.count() == 0


def test_keys_are_per_person(client, associate, stylist, claire):
    url = f"/clients/{claire.pk}/notes/"
    for person in (associate, stylist):
        client.force_login(person.user)
        client.post(url, {"text": f"From {person.user.username}"}, HTTP_IDEMPOTENCY_KEY="same")
    assert Note.objects.filter(customer=claire).count() == 2


def test_a_logged_contact_sent_twice_is_logged_once(client, associate, claire):
    client.force_login(associate.user)
    url = f"/clients/{claire.pk}/contact/"
    data = {"channel": "phone", "outcome": "left_message", "body": "About the fitting"}
    first = client.post(url, data, HTTP_IDEMPOTENCY_KEY="c-1")
    again = client.post(url, data, HTTP_IDEMPOTENCY_KEY="c-1")
    assert first.status_code == 302 and again["Idempotent-Replayed"] == "true"
    assert Contact.objects.filter(customer=claire).count() == 1


def test_a_quick_add_sent_twice_adds_one_client(client, associate):
    client.force_login(associate.user)
    data = {
        "first_name": "Nora",
        "last_name": "Keller",
        "email": "nora@example.com",
        "consent_email": "yes",
        "consent_sms": "no",
        "consent_whatsapp": "no",
        "consent_phone": "no",
    }
    first = client.post("/clients/new/", data, HTTP_IDEMPOTENCY_KEY="q-1")
    again = client.post("/clients/new/", data, HTTP_IDEMPOTENCY_KEY="q-1")
    nora = Customer.objects.get(email="nora@example.com")  # one client, not two
    assert first.status_code == 302 and first["Location"] == f"/clients/{nora.pk}/"
    assert again["Location"] == first["Location"]


def test_a_server_error_keeps_no_key_so_the_phone_may_retry(client, associate, claire, monkeypatch):
    client.raise_request_exception = False
    client.force_login(associate.user)

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("customers.services.note_add", broken)
    response = client.post(f"/clients/{claire.pk}/notes/", {"text": "x"}, HTTP_IDEMPOTENCY_KEY="e")
    assert response.status_code == 500
    assert IdempotencyKey.objects.count() == 0
