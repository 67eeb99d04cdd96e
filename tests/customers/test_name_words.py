"""Search's dictionary of name words (customers.models.NameWord): PostgreSQL keeps it by
itself, whichever way a name is written, and a one-word typo is matched against it first
(issue 20: ranking every close name took 309 ms at 1,000,000 clients)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from clienteling.privacy import customer_erase
from customers.models import Customer, NameWord
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/clients/"


def _words() -> set[str]:
    return set(NameWord.objects.values_list("word", flat=True))


def _names(response) -> list[str]:
    return [f"{c.first_name} {c.last_name}" for c in response.context["customers"]]


def test_the_words_of_every_name_written_are_kept_whichever_way(store):
    CustomerFactory(first_name="Claire", last_name="Dubois", home_store=store)
    Customer.objects.bulk_create(
        [Customer(first_name="Ines", last_name="Moreau", home_store=store, phone="+12125550100")]
    )
    assert {"claire", "dubois", "ines", "moreau"} <= _words()

    # A raw UPDATE (an import, a console): the new name's words too.
    Customer.objects.filter(last_name="Moreau").update(last_name="Delacroix-Martin")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_customer SET first_name = 'Zelie' WHERE last_name = 'Dubois'"
        )
    assert {"delacroix-martin", "zelie"} <= _words()


def test_a_one_word_typo_finds_the_client_through_the_words(client, associate, store):
    CustomerFactory(first_name="Ava", last_name="Chen", home_store=store)
    CustomerFactory(first_name="Chen", last_name="Wright", home_store=store)
    CustomerFactory(first_name="Zoe", last_name="Hall", home_store=store)
    client.force_login(associate.user)

    # "Chne": no name starts with it nor holds it; "chen" is the closest word, a last name
    # of one client and a first name of another.
    assert sorted(_names(client.get(URL, {"q": "Chne"}))) == ["Ava Chen", "Chen Wright"]

    # Without the word in the dictionary, the typo finds nobody: the dictionary is the way.
    NameWord.objects.filter(word="chen").delete()
    assert _names(client.get(URL, {"q": "Chne"})) == []
    # What is typed right still finds them (the prefix passes do not use it).
    assert sorted(_names(client.get(URL, {"q": "Chen"}))) == ["Ava Chen", "Chen Wright"]


def test_a_typo_finds_only_the_clients_the_associate_may_see(client, associate, store, other_store):
    """The typo pass carries the scope: this store's clients and the associate's own
    elsewhere, never another store's nor an erased one (read from the covering indexes
    of migration 0027, never from the rows they skip)."""
    CustomerFactory(first_name="Ava", last_name="Chen", home_store=store)
    CustomerFactory(first_name="Chen", last_name="Wright", home_store=other_store)
    CustomerFactory(first_name="Li", last_name="Chen", home_store=other_store)
    CustomerFactory(
        first_name="Mei", last_name="Chen", home_store=other_store, assigned_associate=associate
    )
    gone = CustomerFactory(first_name="Bo", last_name="Chen", home_store=store)
    Customer.objects.filter(pk=gone.pk).update(erased_at=timezone.now())
    client.force_login(associate.user)

    assert sorted(_names(client.get(URL, {"q": "Chne"}))) == ["Ava Chen", "Mei Chen"]


def test_of_words_as_close_the_likeliest_is_read_first(client, associate, store, monkeypatch):
    """ "chne" is as close by word similarity to "charlotte", "chloe" and "chen" (two
    trigrams each); the whole word decides, so a full pass holds Chens, not the
    Charlottes whose name sorts first."""
    from customers import selectors

    monkeypatch.setattr(selectors, "SEARCH_PASS_ROWS", 2)
    for last in ["Adams", "Baker", "Cole"]:
        CustomerFactory(first_name="Charlotte", last_name=last, home_store=store)
    for first in ["Ava", "Bo"]:
        CustomerFactory(first_name=first, last_name="Chen", home_store=store)
    client.force_login(associate.user)

    assert sorted(_names(client.get(URL, {"q": "Chne"}))) == ["Ava Chen", "Bo Chen"]


def test_the_name_indexes_carry_who_may_see_a_client():
    """Search's two name B-trees cover the scope's columns (an index-only scan checks
    them), and the last-name one the names its keys come from."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'customers_customer' "
            "AND indexname LIKE 'customer_search_%%'"
        )
        found = dict(cursor.fetchall())
    assert set(found) == {
        "customer_search_last_cover",
        "customer_search_name_cover",
        "customer_search_name_trgm",
    }
    scope = "INCLUDE (home_store_id, assigned_associate_id, erased_at"
    assert scope in found["customer_search_name_cover"]
    assert f"{scope}, last_name, first_name)" in found["customer_search_last_cover"]


def test_an_erased_name_leaves_the_dictionary_unless_someone_else_has_it(manager, store):
    CustomerFactory(first_name="Claire", last_name="Dubois", home_store=store)
    unique = CustomerFactory(first_name="Claire", last_name="Zyzzkowski", home_store=store)

    customer_erase(customer=unique, by=manager.user)

    assert "zyzzkowski" not in _words()
    assert "claire" in _words()  # Claire Dubois still has it
