"""Curated selections: picked by the associate, sent through the outbox, held by the client."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from customers.models import Message, Reason, Selection, Size
from tests.factories import (
    CategoryFactory,
    ConsentEventFactory,
    CustomerFactory,
    ProductFactory,
    RecommendationFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def claire(store, associate):
    customer = CustomerFactory(
        first_name="Claire",
        home_store=store,
        assigned_associate=associate,
        email="claire@example.com",
    )
    ConsentEventFactory(customer=customer, channel="email", granted=True)
    return customer


@pytest.fixture
def pieces(claire):
    shoes = CategoryFactory(name="Shoes", slug="shoes")
    Size.objects.create(customer=claire, category=shoes, size="38")
    boots = ProductFactory(name="Suede boots", sku="SH-1", category=shoes, sizes=["37", "38", "39"])
    pumps = ProductFactory(name="Pumps", sku="SH-2", category=shoes, sizes=["36"])
    RecommendationFactory(customer=claire, product=boots, rank=1)
    return boots, pumps


def _send(client, claire, **data):
    return client.post(
        f"/clients/{claire.pk}/selection/", {"channel": "email", "note": "For the wedding!", **data}
    )


def test_an_associate_sends_a_selection_through_the_outbox(client, associate, claire, pieces):
    boots, pumps = pieces
    client.force_login(associate.user)
    page = client.get(f"/clients/{claire.pk}/selection/").content.decode()
    assert "Suede boots" in page

    response = _send(client, claire, products=[boots.pk], skus="SH-2")

    assert response.status_code == 302
    selection = Selection.objects.get()
    assert [(item.product, item.size) for item in selection.items.all()] == [
        (boots, "38"),
        (pumps, ""),
    ]
    message = Message.objects.get()
    assert (
        message.channel == "email"
        and f"/s/{selection.token}/" in message.body
        and "For the wedding!" in message.body
    )


def test_the_client_page_shows_pieces_and_a_hold_reaches_the_associate(
    client, associate, claire, pieces
):
    boots, _ = pieces
    client.force_login(associate.user)
    _send(client, claire, products=[boots.pk])
    selection = Selection.objects.get()
    item = selection.items.get()
    client.logout()

    page = client.get(f"/s/{selection.token}/").content.decode()
    assert "Picked for you, Claire" in page and "In stock: 37, 38, 39 · your size 38" in page
    client.post(f"/s/{selection.token}/hold/{item.pk}/")
    client.post(f"/s/{selection.token}/hold/{item.pk}/")  # a second tap holds it once

    reason = Reason.objects.get(kind="client_replied")
    assert reason.why == "Claire asked you to hold Suede boots in 38 (from your selection)."
    assert "We're holding it for you." in client.get(f"/s/{selection.token}/").content.decode()
    client.force_login(associate.user)
    assert "asked you to hold Suede boots" in client.get("/").content.decode()


def test_expired_revoked_or_guessed_links_open_nothing(client, associate, claire, pieces):
    boots, _ = pieces
    client.force_login(associate.user)
    _send(client, claire, products=[boots.pk])
    selection = Selection.objects.get()
    client.logout()
    assert client.get("/s/guessed-token/").status_code == 404
    with time_machine.travel(timezone.now() + datetime.timedelta(days=15)):
        assert client.get(f"/s/{selection.token}/").status_code == 404
    Selection.objects.update(revoked_at=timezone.now())
    assert client.get(f"/s/{selection.token}/").status_code == 404
    item = selection.items.get()
    assert client.post(f"/s/{selection.token}/hold/{item.pk}/").status_code == 404
    assert not Reason.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Pick at least one piece."),
        ({"skus": "NOPE-1"}, "No piece has the SKU NOPE-1."),
        ({"skus": "SH-1", "channel": "sms"}, "No mobile number on file."),
    ],
)
def test_bad_input_gets_a_message_and_sends_nothing(
    client, associate, claire, pieces, data, message
):
    client.force_login(associate.user)
    response = _send(client, claire, **data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Selection.objects.exists() and not Message.objects.exists()


def test_selection_pages_access(client, associate, other_store_associate, claire, pieces):
    assert client.get(f"/clients/{claire.pk}/selection/").status_code == 302
    client.force_login(other_store_associate.user)
    assert client.get(f"/clients/{claire.pk}/selection/").status_code == 404
    assert _send(client, claire, skus="SH-1").status_code == 404
    assert not Selection.objects.exists()
    client.force_login(associate.user)
    assert client.put(f"/clients/{claire.pk}/selection/").status_code == 405
    assert client.get("/s/anything/hold/1/").status_code == 405
