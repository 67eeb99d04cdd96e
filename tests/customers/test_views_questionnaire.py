"""The preference questionnaire: a few questions per screen, answers kept with source and date."""

from __future__ import annotations

import datetime

import pytest

from customers.models import ContactPreferences, Preference, Size
from customers.questionnaire import STEPS
from tests.factories import BrandFactory, CategoryFactory, CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(store, associate):
    return CustomerFactory(first_name="Claire", home_store=store, assigned_associate=associate)


@pytest.fixture
def dresses():
    category = CategoryFactory(name="Dresses", slug="dresses")
    ProductFactory(category=category, sizes=["36", "38", "40"], colour="navy")
    ProductFactory(category=category, sizes=["42"], colour="red")
    return category


def _url(customer, step, by_client=False):
    return f"/clients/{customer.pk}/preferences/{step}/" + ("?by=client" if by_client else "")


def test_every_step_renders_and_links_to_all_steps(client, associate, customer, dresses):
    client.force_login(associate.user)
    for step in STEPS:
        response = client.get(_url(customer, step.slug))
        assert response.status_code == 200, step.slug
        body = response.content.decode()
        assert step.question in body
        assert all(other.title in body for other in STEPS)


def test_sizes_step_saves_size_and_fit_and_moves_on(client, associate, customer, dresses):
    client.force_login(associate.user)
    response = client.post(
        _url(customer, "sizes"), {f"size_{dresses.pk}": "38", f"fit_{dresses.pk}": "slim"}
    )
    assert response.status_code == 302
    assert response["Location"] == _url(customer, "colours")
    size = Size.objects.get()
    assert (size.category, size.size, size.fit, size.source) == (
        dresses,
        "38",
        "slim",
        "questionnaire",
    )
    # revisiting shows the answer
    assert 'value="38" selected' in client.get(_url(customer, "sizes")).content.decode()


def test_answers_on_the_tablet_are_marked_as_the_clients_own(client, associate, customer, dresses):
    client.force_login(associate.user)
    response = client.post(
        _url(customer, "colours", by_client=True), {"likes": ["Navy"], "other": "emerald, Sage "}
    )
    assert response["Location"] == _url(customer, "styles", by_client=True)
    assert sorted(Preference.objects.values_list("value", "sentiment", "source")) == [
        ("Navy", "like", "client"),
        ("Sage", "like", "client"),
        ("emerald", "like", "client"),
    ]


def test_liking_and_avoiding_the_same_thing_gets_a_message(client, associate, customer, dresses):
    client.force_login(associate.user)
    response = client.post(_url(customer, "colours"), {"likes": ["Navy"], "avoids": ["Navy"]})
    assert response.status_code == 200
    assert "Both loved and avoided: Navy" in response.content.decode()
    assert not Preference.objects.exists()


def test_changing_likes_keeps_unchanged_answers_and_their_dates(client, associate, customer):
    BrandFactory(name="Maison Arlo", slug="maison-arlo")
    BrandFactory(name="Velin", slug="velin")
    client.force_login(associate.user)
    client.post(_url(customer, "brands"), {"likes": ["Maison Arlo"], "avoids": ["Velin"]})
    first = Preference.objects.get(value="Maison Arlo")
    client.post(_url(customer, "brands"), {"likes": ["Maison Arlo"]})
    assert Preference.objects.get(value="Maison Arlo").recorded_at == first.recorded_at
    assert not Preference.objects.filter(value="Velin").exists()
    assert Preference.objects.get(value="Maison Arlo").brand.slug == "maison-arlo"


def test_category_avoids_are_recorded_for_recommendations(client, associate, customer):
    shoes = CategoryFactory(name="Shoes", slug="shoes")
    client.force_login(associate.user)
    client.post(_url(customer, "categories"), {"avoids": ["Shoes"]})
    preference = Preference.objects.get()
    assert (preference.kind, preference.sentiment, preference.category) == (
        "category",
        "avoid",
        shoes,
    )


def test_contact_step_saves_how_and_how_often(client, associate, customer):
    client.force_login(associate.user)
    response = client.post(
        _url(customer, "contact"),
        {
            "preferred_channel": "sms",
            "max_messages_per_week": "1",
            "quiet_hours_start": "20:00",
            "quiet_hours_end": "09:30",
            "topics_declined": ["offers", "events"],
        },
    )
    assert response.status_code == 302
    preferences = ContactPreferences.objects.get(customer=customer)
    assert (preferences.preferred_channel, preferences.max_messages_per_week) == ("sms", 1)
    assert (preferences.quiet_hours_start, preferences.quiet_hours_end) == (
        datetime.time(20),
        datetime.time(9, 30),
    )
    assert preferences.topics_declined == ["events", "offers"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"max_messages_per_week": "2", "quiet_hours_start": "20:00"},
            "Give both ends of the quiet hours",
        ),
        ({"max_messages_per_week": "99"}, "Select a valid choice."),
        (
            {
                "max_messages_per_week": "2",
                "quiet_hours_start": "25:00",
                "quiet_hours_end": "08:00",
            },
            "Enter a valid time.",
        ),
    ],
)
def test_contact_step_bad_input_gets_a_message_and_saves_nothing(
    client, associate, customer, data, message
):
    client.force_login(associate.user)
    response = client.post(_url(customer, "contact"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "<html" not in response.content.decode()
    assert not ContactPreferences.objects.exists()


def test_last_step_saves_own_words_and_returns_to_the_card(client, associate, customer):
    client.force_login(associate.user)
    response = client.post(
        _url(customer, "own-words"), {"situation": "Starting a new job in March."}
    )
    assert response["Location"] == f"/clients/{customer.pk}/"
    customer.refresh_from_db()
    assert customer.situation == "Starting a new job in March." and customer.situation_updated_at
    card = client.get(f"/clients/{customer.pk}/").content.decode()
    assert "Starting a new job in March." in card and "preferences are up to date" in card


def test_questionnaire_access(client, associate, other_store_associate, customer):
    assert client.get(_url(customer, "sizes")).status_code == 302
    client.force_login(other_store_associate.user)
    assert client.get(_url(customer, "sizes")).status_code == 404
    assert client.post(_url(customer, "own-words"), {"situation": "x"}).status_code == 404
    customer.refresh_from_db()
    assert customer.situation == ""
    client.force_login(associate.user)
    assert client.get(_url(customer, "nonsense")).status_code == 404
    assert client.put(_url(customer, "sizes")).status_code == 405
