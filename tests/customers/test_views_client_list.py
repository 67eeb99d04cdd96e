"""The client list: my book, store-wide search as you type, filters, pagination."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db
URL = "/clients/"


def _names(response) -> list[str]:
    return [customer.full_name for customer in response.context["customers"]]


@pytest.fixture
def book(store, associate):
    return [
        CustomerFactory(
            first_name="Claire",
            last_name="Dubois",
            home_store=store,
            assigned_associate=associate,
            phone="+12125550142",
            email="claire.dubois@example.com",
        ),
        CustomerFactory(
            first_name="Maya", last_name="Lee", home_store=store, assigned_associate=associate
        ),
    ]


def test_my_book_lists_only_my_clients(client, associate, store, book):
    CustomerFactory(first_name="Other", last_name="Client", home_store=store)
    client.force_login(associate.user)

    response = client.get(URL)

    assert response.status_code == 200
    assert _names(response) == ["Claire Dubois", "Maya Lee"]


def test_all_clients_scope_lists_the_store(client, associate, store, book, other_store):
    CustomerFactory(first_name="Other", last_name="Client", home_store=store)
    CustomerFactory(first_name="Far", last_name="Away", home_store=other_store)
    client.force_login(associate.user)

    response = client.get(URL, {"scope": "store"})

    assert _names(response) == ["Other Client", "Claire Dubois", "Maya Lee"]


@pytest.mark.parametrize(
    "query",
    [
        "claire dubois",
        "Claire Dubios",
        "dubios",
        "clare",
        "(212) 555-0142",
        "212.555.0142",
        "+1 212 555 0142",
        "0142",
        "claire.dubois@",
        "CLAIRE.DUBOIS@EXAMPLE.COM",
    ],
)
def test_search_finds_by_name_with_typos_phone_in_any_format_and_email(
    client, associate, book, query
):
    client.force_login(associate.user)
    response = client.get(URL, {"q": query})
    assert _names(response)[:1] == ["Claire Dubois"]


def test_search_never_shows_another_stores_client(client, associate, book, other_store):
    CustomerFactory(
        first_name="Claire",
        last_name="Dubois",
        home_store=other_store,
        email="claire@paris.example.com",
    )
    client.force_login(associate.user)
    response = client.get(URL, {"q": "claire"})
    assert [c.home_store_id for c in response.context["customers"]] == [associate.store_id]


def test_search_includes_my_clients_from_other_stores(client, associate, other_store):
    CustomerFactory(
        first_name="Traveller",
        last_name="Jones",
        home_store=other_store,
        assigned_associate=associate,
    )
    client.force_login(associate.user)
    assert _names(client.get(URL, {"q": "traveller"})) == ["Traveller Jones"]


def test_filters_tier_category_lapsing_birthday_and_dates(client, associate, store):
    shoes = CategoryFactory(name="Shoes", slug="shoes")
    now = timezone.now()
    this_month = timezone.localdate().replace(day=1, year=1990)
    CustomerFactory(
        first_name="Lapsed",
        home_store=store,
        tier="gold",
        last_purchase_at=now - datetime.timedelta(days=400),
        first_purchase_at=now - datetime.timedelta(days=800),
    )
    shoe_buyer = CustomerFactory(
        first_name="Shoe",
        home_store=store,
        last_purchase_at=now - datetime.timedelta(days=3),
        first_purchase_at=now - datetime.timedelta(days=3),
        birthday=this_month,
    )
    OrderLineFactory(
        order=OrderFactory(customer=shoe_buyer), product=ProductFactory(category=shoes)
    )
    client.force_login(associate.user)

    def names(**params):
        return [
            c.first_name for c in client.get(URL, {"scope": "store", **params}).context["customers"]
        ]

    assert names(tier="gold") == ["Lapsed"]
    assert names(category=shoes.pk) == ["Shoe"]
    assert names(lapsing="on") == ["Lapsed"]
    assert names(birthday_this_month="on") == ["Shoe"]
    assert names(bought_after=(now - datetime.timedelta(days=30)).date().isoformat()) == ["Shoe"]
    assert names(bought_before=(now - datetime.timedelta(days=30)).date().isoformat()) == ["Lapsed"]


def test_bad_filter_values_get_a_message_not_an_error(client, associate, book):
    client.force_login(associate.user)
    response = client.get(URL, {"bought_after": "31/31/2026", "tier": "diamond", "page": "x"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter a valid date." in body
    assert "Select a valid choice." in body
    assert response.context["customers"] == []


def test_pages_without_counting_and_more_link(client, associate, store):
    for n in range(30):
        CustomerFactory(
            first_name=f"Client{n:02d}",
            last_name="Book",
            home_store=store,
            assigned_associate=associate,
        )
    client.force_login(associate.user)

    first = client.get(URL)
    second = client.get(URL, {"page": 2}, HTTP_HX_REQUEST="true")

    assert len(first.context["customers"]) == 25
    assert "page=2" in first.context["next_url"]
    body = second.content.decode()
    assert "<html" not in body
    assert body.count('<li class="list-row">') == 5
    assert "More clients" not in body


def test_htmx_search_returns_only_the_results_region(client, associate, book):
    client.force_login(associate.user)
    response = client.get(URL, {"q": "maya"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body
    assert body.strip().startswith('<section id="results"')
    assert "Maya Lee" in body
    assert "Claire Dubois" not in body
    assert "HX-Request" in response["Vary"]


def test_list_query_count_is_constant(client, associate, store, django_assert_num_queries):
    client.force_login(associate.user)
    for _ in range(3):
        CustomerFactory(
            home_store=store, assigned_associate=associate, lifetime_value=Decimal("10")
        )
    # user with staff and store, category choices, the page of clients (session: cache)
    with django_assert_num_queries(3):
        client.get(URL)
    for _ in range(10):
        CustomerFactory(home_store=store, assigned_associate=associate)
    with django_assert_num_queries(3):
        response = client.get(URL)
    assert len(response.context["customers"]) == 13


def test_list_needs_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_list_refuses_post(client, associate):
    client.force_login(associate.user)
    assert client.post(URL).status_code == 405


def test_one_or_two_letters_match_names_starting_with_them(client, associate, store):
    for first, last in [("Maya", "Lee"), ("Ana", "Martin"), ("Emma", "Stone")]:
        CustomerFactory(first_name=first, last_name=last, home_store=store)
    client.force_login(associate.user)
    assert _names(client.get(URL, {"q": "ma"})) == ["Maya Lee", "Ana Martin"]


def test_search_lists_last_name_prefixes_first_then_full_names_then_the_rest(
    client, associate, store
):
    for first, last in [
        ("Bea", "Nelson"),
        ("Ana", "Nelsonne"),
        ("Ana", "Nelson"),
        ("Nelson", "Adams"),
        ("Cara", "Danelson"),
        ("Dan", "Lee"),
    ]:
        CustomerFactory(first_name=first, last_name=last, home_store=store)
    client.force_login(associate.user)
    assert _names(client.get(URL, {"q": "nelson"})) == [
        "Ana Nelson",  # last names starting with it, by name
        "Bea Nelson",
        "Ana Nelsonne",
        "Nelson Adams",  # then full names starting with it
        "Cara Danelson",  # then inside a name, or close to it
    ]


def test_search_work_is_bounded_and_chosen_after_the_filters(
    client, associate, store, other_store, monkeypatch, django_assert_num_queries
):
    """Each pass keeps SEARCH_PASS_ROWS rows (2 here): a common surname reads a screen, not
    every match; the other filters narrow before the search picks, never after."""
    from customers import selectors

    monkeypatch.setattr(selectors, "SEARCH_PASS_ROWS", 2)
    for first in ["Cy", "Ana", "Bo"]:
        CustomerFactory(first_name=first, last_name="Nelson", home_store=store)
    CustomerFactory(first_name="Al", last_name="Nelson", home_store=other_store)
    CustomerFactory(first_name="Zed", last_name="Nelson", home_store=store, tier="gold")
    client.force_login(associate.user)
    client.get(URL, {"q": "warm-up"}, HTTP_HX_REQUEST="true")
    # user with staff and store, the page of clients (one query, whatever the matches)
    with django_assert_num_queries(2):
        client.get(URL, {"q": "nelson"}, HTTP_HX_REQUEST="true")
    assert _names(client.get(URL, {"q": "nelson"})) == ["Ana Nelson", "Bo Nelson"]
    assert _names(client.get(URL, {"q": "nelson", "tier": "gold"})) == ["Zed Nelson"]


def test_search_of_a_queryset_with_joins_ranks_the_same(associate, store):
    """The passes are written in SQL over the queryset's own conditions; a queryset that
    joins another table goes through the same passes built with the ORM."""
    from customers.models import Customer
    from customers.selectors import customer_search

    for first, last in [
        ("Bea", "Nelson"),
        ("Ana", "Nelson"),
        ("Nelson", "Adams"),
        ("Cy", "Danelson"),
    ]:
        CustomerFactory(first_name=first, last_name=last, home_store=store)
    plain = Customer.objects.filter(home_store=store)
    joined = Customer.objects.filter(home_store__name=store.name)
    expected = ["Ana Nelson", "Bea Nelson", "Nelson Adams", "Cy Danelson"]
    assert [c.full_name for c in customer_search(plain, "nelson")] == expected
    assert [c.full_name for c in customer_search(joined, "nelson")] == expected
