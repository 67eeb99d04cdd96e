"""The benchmark scenarios of issue 16 (POS look-up, CSV history import) run for real on
a small data set: they work and leave the data set as they found it (never their speed)."""

from __future__ import annotations

import os

import pytest

from clienteling.bench import child
from clienteling.bench.scenarios import Context, batch_scenario, http_scenario
from clienteling.integrations.history.models import ImportRun
from customers.models import Customer, Order
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(store):
    ProductFactory.create_batch(20)
    return Customer.objects.bulk_create(
        Customer(
            first_name="Client",
            last_name=f"N{n}",
            home_store=store,
            pos_customer_id=f"P{n}",
            phone=f"+1212555{n:04d}",
        )
        for n in range(int(os.environ.get("BENCH_TEST_CLIENTS", "50")))
    )


def test_the_history_import_job_imports_every_line_and_cleans_up(book):
    lines = int(os.environ.get("BENCH_TEST_HISTORY_LINES", "500"))

    result = batch_scenario("history-import").run({"history_lines": lines})

    print("history import:", result)  # the figure, when run by hand at scale
    assert result["items"] == lines and result["unit"] == "order lines"
    assert result["details"]["saved"] == lines and result["details"]["refused"] == 0
    assert result["details"]["lines_per_second"] > 0
    assert not Order.objects.exists() and not ImportRun.objects.exists()
    assert not Customer.objects.filter(order_count__gt=0).exists()


def test_the_pos_lookup_scenario_asks_for_a_client_by_phone_and_finds_them(book, associate):
    prepared = child.prepare({"scenarios": ["pos-lookup"]})
    assert prepared["failures"] == {}
    spec = http_scenario("pos-lookup").request(
        Context(run_id="t", shared=prepared["shared"], data=prepared["data"]["pos-lookup"])
    )
    assert spec.path.startswith("/api/v1/customers/lookup/?phone=%28212%29")

    counted = child.count_queries({"requests": {"pos-lookup": spec.as_dict()}})

    # Key, clients, reasons, usable offers, audit.
    assert counted["pos-lookup"] == {"queries": 5, "status": 200}


def test_the_search_scenario_looks_for_a_name_of_the_associates_own_store(
    associate, store, other_store
):
    """Each store's clients carry the names of its city: a name only another store has is
    a search that finds nobody, not the associate's everyday search."""
    from clienteling.bench.scenarios import search_last_name

    Customer.objects.bulk_create(
        [Customer(first_name="Ava", last_name="Chen", home_store=store)]
        + [
            Customer(first_name="Ann", last_name="Turner", home_store=other_store)
            for _ in range(10)
        ]
    )

    assert search_last_name() == "Turner"
    assert search_last_name(store.pk) == "Chen"


def test_the_typo_scenario_swaps_the_last_two_letters_and_finds_the_client(
    client, associate, store
):
    from clienteling.bench.scenarios import typo_of

    assert [typo_of(name) for name in ("Chen", "Nelson", "Li", "Hall")] == [
        "Chne",
        "Nelsno",
        "Lii",
        "Halll",
    ]
    Customer.objects.bulk_create(
        [Customer(first_name="Ava", last_name="Chen", home_store=store, search_name="ava chen")]
    )
    prepared = child.prepare({"scenarios": ["search-typo"]})
    assert prepared["failures"] == {}
    spec = http_scenario("search-typo").request(
        Context(run_id="t", shared=prepared["shared"], data=prepared["data"]["search-typo"])
    )
    assert spec.path == "/clients/?q=Chne"

    counted = child.count_queries({"requests": {"search-typo": spec.as_dict()}})

    # The user with staff and store, then the search (its passes are one statement).
    assert counted["search-typo"] == {"queries": 2, "status": 200}
    client.force_login(associate.user)
    found = client.get(spec.path, HTTP_HX_REQUEST="true").content.decode()
    assert "Ava Chen" in found
