"""Self sign-up at the counter, on the client's own phone."""

from __future__ import annotations

import pytest
from django.core import signing

from customers.models import ConsentEvent, Customer, Reason
from customers.signup import ASSOCIATE_SALT, signup_path
from tests.factories import CustomerFactory, StaffMemberFactory

pytestmark = pytest.mark.django_db


def _data(**extra):
    return {
        "first_name": "Ines",
        "last_name": "Moreau",
        "email": "Ines@example.com",
        "phone": "212 555 0199",
        "consent_email": "on",
        **extra,
    }


def test_signup_creates_the_client_with_their_consents_and_tells_the_associate(
    client, store, associate
):
    response = client.post(signup_path(store, associate), _data())

    assert response.status_code == 302
    customer = Customer.objects.get()
    assert (
        customer.first_name,
        customer.joined_via,
        customer.home_store,
        customer.assigned_associate,
    ) == ("Ines", "self_signup", store, associate)
    consents = {e.channel: (e.granted, e.source) for e in ConsentEvent.objects.all()}
    assert consents == {
        "email": (True, "client"),
        "sms": (False, "client"),
        "whatsapp": (False, "client"),
    }
    reason = Reason.objects.get()
    assert (reason.kind, reason.customer) == ("signed_up", customer)
    thanks = client.get(response["Location"]).content.decode()
    assert "Thank you, Ines!" in thanks
    # No stray banner repeating the first name: only the heading says it.
    assert 'class="messages"' not in thanks and thanks.count("Ines") == 1

    client.force_login(associate.user)
    assert (
        "Ines signed up at SoHo just now: say hello and welcome Ines."
        in client.get("/").content.decode()
    )


def test_signup_from_the_store_code_shows_on_every_associates_today_until_taken(
    client, store, associate
):
    client.post(signup_path(store), _data())
    colleague = StaffMemberFactory(store=store)
    client.force_login(colleague.user)
    assert "Ines Moreau" in client.get("/").content.decode()
    assert Customer.objects.get().assigned_associate is None


def test_an_existing_client_is_matched_not_duplicated_and_not_revealed(client, store, other_store):
    existing = CustomerFactory(
        first_name="Ines",
        last_name="M",
        home_store=other_store,
        email="ines@example.com",
        birthday="1990-01-02",
    )

    response = client.post(
        signup_path(store),
        _data(first_name="Someone", email="INES@example.com", phone="", consent_email=""),
    )

    assert Customer.objects.count() == 1
    existing.refresh_from_db()
    assert (existing.first_name, existing.home_store) == (
        "Ines",
        other_store,
    )  # nothing else touched
    assert existing.has_consent("email") is False
    assert "Thank you, Someone!" in client.get(response["Location"]).content.decode()
    assert "already a client, signed up again" in Reason.objects.get().why


def test_a_match_by_email_changes_no_consent_of_a_number_that_is_not_hers(client, store):
    existing = CustomerFactory(home_store=store, email="ines@example.com", phone="+12125550100")

    client.post(
        signup_path(store),
        _data(email="ines@example.com", phone="212 555 0199", consent_email="", consent_sms="on"),
    )

    # Her email was typed: its answer counts. The number typed is not hers: nothing
    # about texts changes, whatever was ticked.
    events = {e.channel: e.granted for e in ConsentEvent.objects.filter(customer=existing)}
    assert events == {"email": False}
    assert not existing.has_consent("sms")


def test_signup_twice_records_consent_once(client, store):
    client.post(signup_path(store), _data())
    client.post(signup_path(store), _data())
    assert ConsentEvent.objects.count() == 3  # email yes + sms and whatsapp no, not repeated
    assert Reason.objects.filter(state="open").count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"first_name": ""}, "This field is required."),
        ({"email": "", "phone": ""}, "Give a mobile number or an email"),
        ({"phone": "123"}, "Enter a valid phone number"),
        ({"email": "nope"}, "Enter a valid email address."),
    ],
)
def test_bad_input_gets_a_message_and_keeps_what_was_typed(client, store, data, message):
    response = client.post(signup_path(store), _data(**data))
    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert 'value="Moreau"' in body
    assert not Customer.objects.exists()


def test_unknown_or_rotated_token_is_404(client, store):
    old = signup_path(store)
    store.rotate_signup_token()
    assert client.get(old).status_code == 404
    assert client.post(old, _data()).status_code == 404
    assert client.get(signup_path(store)).status_code == 200
    assert not Customer.objects.exists()


def test_a_forged_or_foreign_associate_link_is_ignored(client, store, other_store_associate):
    forged = (
        signup_path(store) + "?from=" + signing.dumps(other_store_associate.pk, salt=ASSOCIATE_SALT)
    )
    client.post(forged, _data())
    client.post(signup_path(store) + "?from=tampered", _data(email="b@example.com", phone=""))
    assert set(Customer.objects.values_list("assigned_associate", flat=True)) == {None}


def test_signup_is_rate_limited_per_address(client, store, settings):
    from customers import signup as signup_module

    signup_module_rate = signup_module.SIGNUP_RATE
    for n in range(int(signup_module_rate.split("/")[0])):
        client.post(
            signup_path(store), _data(email=f"c{n}@example.com", phone=""), REMOTE_ADDR="10.0.0.9"
        )
    response = client.post(
        signup_path(store), _data(email="late@example.com", phone=""), REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 429
    assert "ask an associate" in response.content.decode()
    assert not Customer.objects.filter(email="late@example.com").exists()
    other_place = client.post(
        signup_path(store), _data(email="other@example.com", phone=""), REMOTE_ADDR="10.0.0.10"
    )
    assert other_place.status_code == 302


def test_signup_page_refuses_other_methods(client, store):
    assert client.put(signup_path(store)).status_code == 405


def test_associate_sign_up_code_page(client, associate):
    assert client.get("/sign-up-code/").status_code == 302
    client.force_login(associate.user)
    body = client.get("/sign-up-code/").content.decode()
    assert "<svg" in body and "/join/" in body and "from=" in body


def test_admin_shows_the_store_qr_and_rotates_the_link(client, store):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(f"/admin/stores/store/{store.pk}/change/").content.decode()
    assert "<svg" in page and f"/join/{store.signup_token}/" in page
    old = store.signup_token
    client.post(
        "/admin/stores/store/", {"action": "rotate_signup_links", "_selected_action": [store.pk]}
    )
    store.refresh_from_db()
    assert store.signup_token != old
