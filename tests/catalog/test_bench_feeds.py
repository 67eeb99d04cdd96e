"""The feed benchmarks run and leave the data set as they found it."""

from __future__ import annotations

import pytest

from clienteling.bench import scenarios
from clienteling.catalog.models import Product, Stock, Variant

pytestmark = pytest.mark.django_db


def test_catalog_and_stock_feed_jobs_run_and_clean_up(store, other_store):
    catalog = scenarios.batch_scenario("catalog-feed").run({"variants": 50})
    stock = scenarios.batch_scenario("stock-feed").run({"stock_rows": 40})

    assert (catalog["items"], catalog["details"]["refused"]) == (100, 0)
    assert (stock["items"], stock["details"]["refused"]) == (80, 0)
    assert not Product.objects.exists()
    assert not Variant.objects.exists()
    assert not Stock.objects.exists()
