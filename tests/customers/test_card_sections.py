"""The card's sections loaded after its first paint (points, engagement, contact log): the
card's access check and audit, a fixed number of queries, and a page of their own without
JavaScript."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from clienteling.stores.models import RefusedAccess
from customers.models import AuditEvent, PointsMovement
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    EngagementEventFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db

SECTIONS = ["points", "engagement", "log"]


@pytest.fixture
def claire(store, associate):
    return CustomerFactory(
        first_name="Claire", last_name="Dubois", home_store=store, assigned_associate=associate
    )


def _url(name: str, customer) -> str:
    return reverse(f"customers:{name}", args=[customer.pk])


def test_the_card_leaves_room_for_each_section_and_links_to_its_page(client, associate, claire):
    client.force_login(associate.user)

    body = client.get(f"/clients/{claire.pk}/").content.decode()

    for name in SECTIONS:
        url = _url(name, claire)
        # Loaded once the card is shown, swapped whole; a plain link without JavaScript.
        assert f'hx-get="{url}" hx-trigger="load" hx-swap="outerHTML"' in body, name
        assert f'<a class="button" href="{url}">' in body, name
    # Nothing of them is read for the first paint.
    assert "No contact yet." not in body and "interactions in 12 months" not in body


@pytest.mark.parametrize("name", SECTIONS)
def test_a_section_is_the_fragment_with_htmx_and_a_page_without(client, associate, claire, name):
    client.force_login(associate.user)

    fragment = client.get(_url(name, claire), HTTP_HX_REQUEST="true")
    page = client.get(_url(name, claire))

    assert fragment.status_code == page.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert f'id="card-{name}"' in fragment.content.decode()
    body = page.content.decode()
    assert "<html" in body and f'id="card-{name}"' in body
    assert f'href="/clients/{claire.pk}/"' in body  # back to the card
    assert "HX-Request" in fragment["Vary"]


@pytest.mark.parametrize("name", SECTIONS)
def test_each_view_of_a_section_is_audited(client, associate, claire, name):
    client.force_login(associate.user)

    client.get(_url(name, claire), HTTP_HX_REQUEST="true", REMOTE_ADDR="10.1.2.3")

    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.customer, event.detail) == (
        associate.user,
        "view",
        claire,
        {"section": name},
    )
    assert (event.ip_address, event.path) == ("10.1.2.3", _url(name, claire))


@pytest.mark.parametrize("name", [*SECTIONS, "orders"])
def test_another_stores_client_is_a_404_recorded_and_nothing_audited(
    client, other_store_associate, claire, name
):
    client.force_login(other_store_associate.user)
    url = _url(name, claire)
    if name == "orders":
        url += "?before=2026-01-01T00:00:00Z&id=1"

    response = client.get(url, HTTP_HX_REQUEST="true")

    assert response.status_code == 404
    assert "Dubois" not in response.content.decode()
    [row] = RefusedAccess.objects.all()
    assert (row.target, row.target_ref, row.where) == ("client", str(claire.pk), "partial")
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("name", SECTIONS)
def test_a_section_needs_login_and_refuses_post(client, associate, claire, name):
    assert client.get(_url(name, claire)).status_code == 302
    client.force_login(associate.user)
    assert client.post(_url(name, claire)).status_code == 405


def test_points_cost_the_same_for_1_and_60_movements(
    client, associate, claire, django_assert_num_queries
):
    PointsMovement.objects.create(customer=claire, kind="adjusted", points=100, external_id="0")
    client.force_login(associate.user)
    url = _url("points", claire)
    # user with staff+store, client, audit insert, the movements with the balance: 4.
    with django_assert_num_queries(4):
        client.get(url, HTTP_HX_REQUEST="true")
    for n in range(1, 60):
        PointsMovement.objects.create(
            customer=claire, kind="adjusted", points=10, external_id=str(n)
        )
    with django_assert_num_queries(4):
        body = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "690 points" in body
    assert body.count("+10 · Adjusted") == 5  # the last five movements


def test_engagement_costs_the_same_for_1_and_100_events(
    client, associate, claire, django_assert_num_queries
):
    EngagementEventFactory(customer=claire, occurred_at=timezone.now())
    client.force_login(associate.user)
    url = _url("engagement", claire)
    with django_assert_num_queries(4):
        client.get(url, HTTP_HX_REQUEST="true")
    for days in range(99):
        EngagementEventFactory(
            customer=claire, occurred_at=timezone.now() - datetime.timedelta(days=days)
        )
    with django_assert_num_queries(4):
        body = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "100 interactions in 12 months" in body
    assert body.count("<rect") == 12


def test_the_log_section_shows_contacts_and_messages(client, associate, claire):
    ContactFactory(customer=claire, staff=associate.user, channel="sms", body="See you Saturday")
    MessageFactory(customer=claire, status="sent", sent_at=timezone.now())
    client.force_login(associate.user)

    body = client.get(_url("log", claire), HTTP_HX_REQUEST="true").content.decode()

    assert "See you Saturday" in body
    assert '<span class="badge delivery-sent">Sent</span>' in body
    assert reverse("customers:conversation", args=[claire.pk]) in body
