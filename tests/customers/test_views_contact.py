"""Reach out or log a contact: consented channels only, drafts per reason, the reason closes."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from clienteling.core.errors import ApplicationError
from customers import services
from customers.models import Contact, Reason
from tests.factories import ConsentEventFactory, CustomerFactory, ProductFactory, ReasonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(store, associate):
    customer = CustomerFactory(
        first_name="Claire",
        home_store=store,
        assigned_associate=associate,
        email="claire@example.com",
        phone="+12125550142",
    )
    ConsentEventFactory(customer=customer, channel="email", granted=True)
    ConsentEventFactory(
        customer=customer,
        channel="sms",
        granted=False,
        recorded_at=timezone.now() - datetime.timedelta(days=3),
    )
    return customer


def test_form_prefills_a_draft_for_the_reason_and_disables_channels_without_consent(
    client, associate, customer
):
    reason = ReasonFactory(
        customer=customer,
        kind=Reason.Kind.REPLENISHMENT,
        product=ProductFactory(name="Rose serum"),
        why="Her serum runs out next week.",
    )
    client.force_login(associate.user)

    body = client.get(f"/clients/{customer.pk}/contact/?reason={reason.pk}").content.decode()

    assert "you may be running low on Rose serum" in body
    assert "Her serum runs out next week." in body
    assert re.search(r'<input[^>]*value="sms"[^>]*disabled', body)
    assert "Said no to text messages on" in body
    assert re.search(r'<input[^>]*value="email"[^>]*checked', body)  # consented, so chosen


def test_logging_a_contact_closes_the_reason_it_answers(client, associate, customer):
    reason = ReasonFactory(customer=customer)
    client.force_login(associate.user)

    response = client.post(
        f"/clients/{customer.pk}/contact/?reason={reason.pk}",
        {
            "channel": "email",
            "outcome": "sent",
            "body": "Thank you for Saturday!",
            "reason": reason.pk,
        },
    )

    assert response.status_code == 302
    contact = Contact.objects.get()
    assert (contact.channel, contact.outcome, contact.staff, contact.reason) == (
        "email",
        "sent",
        associate.user,
        reason,
    )
    reason.refresh_from_db()
    assert (reason.state, reason.closed_by) == ("done", associate.user)
    card = client.get(f"/clients/{customer.pk}/").content.decode()
    assert "Saved to Claire" in card
    # The contact log is a section of the card loaded after its first paint.
    log = client.get(f"/clients/{customer.pk}/log/", HTTP_HX_REQUEST="true").content.decode()
    assert "Thank you for Saturday!" in log


def test_a_channel_without_consent_is_refused_with_the_reason_and_nothing_is_saved(
    client, associate, customer
):
    client.force_login(associate.user)
    response = client.post(
        f"/clients/{customer.pk}/contact/", {"channel": "sms", "outcome": "sent", "body": "Hi!"}
    )
    assert response.status_code == 200
    assert "Said no to text messages on" in response.content.decode()
    assert "Hi!</textarea>" in response.content.decode()
    assert not Contact.objects.exists()


def test_a_call_is_logged_without_message_consent(client, associate, customer):
    client.force_login(associate.user)
    response = client.post(
        f"/clients/{customer.pk}/contact/",
        {"channel": "phone", "outcome": "left_message"},
        HTTP_HX_REQUEST="true",
    )
    assert response["HX-Redirect"] == f"/clients/{customer.pk}/"
    assert Contact.objects.get().outcome == "left_message"


def test_a_message_needs_its_text_and_a_reason_must_be_this_clients(
    client, associate, customer, store
):
    other = ReasonFactory(customer=CustomerFactory(home_store=store))
    client.force_login(associate.user)
    response = client.post(
        f"/clients/{customer.pk}/contact/",
        {"channel": "email", "outcome": "sent", "body": " ", "reason": other.pk},
    )
    body = response.content.decode()
    assert "Write the message you sent." in body
    assert "Select a valid choice." in body
    assert not Contact.objects.exists()


def test_contact_pages_are_out_of_reach_for_another_store(client, other_store_associate, customer):
    client.force_login(other_store_associate.user)
    assert client.get(f"/clients/{customer.pk}/contact/").status_code == 404
    assert (
        client.post(
            f"/clients/{customer.pk}/contact/", {"channel": "phone", "outcome": "reached"}
        ).status_code
        == 404
    )
    assert not Contact.objects.exists()


def test_contact_page_needs_login_and_refuses_delete(client, associate, customer):
    assert client.get(f"/clients/{customer.pk}/contact/").status_code == 302
    client.force_login(associate.user)
    assert client.delete(f"/clients/{customer.pk}/contact/").status_code == 405


def test_contact_log_service_checks_consent_whatever_calls_it(customer, associate):
    with pytest.raises(ApplicationError, match="Said no to text messages on"):
        services.contact_log(
            customer=customer, staff_user=associate.user, channel="sms", outcome="sent", body="x"
        )


def test_closing_a_reason_twice_closes_it_once(customer, associate):
    reason = ReasonFactory(customer=customer)
    assert services.reason_close(reason=reason, by=associate.user) is True
    assert services.reason_close(reason=reason, by=None) is False
    reason.refresh_from_db()
    assert reason.closed_by == associate.user


def test_dismissing_needs_a_reason_and_snoozing_a_future_day(customer):
    reason = ReasonFactory(customer=customer)
    with pytest.raises(ApplicationError):
        services.reason_close(reason=reason, by=None, state="dismissed")
    with pytest.raises(ApplicationError):
        services.reason_snooze(reason=reason, until=timezone.localdate())
    assert services.reason_snooze(
        reason=reason, until=timezone.localdate() + datetime.timedelta(days=7)
    )
    assert not Reason.objects.due().exists()
