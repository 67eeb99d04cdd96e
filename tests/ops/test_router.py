"""The replica router: reports read from `replica` when one is configured; writes never do."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from clienteling.ops.router import ReplicaRouter, reading_from_replica, reads_from_replica
from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(databases=["default", "replica"])


@pytest.fixture
def replica(settings):
    settings.REPLICA_DATABASE = "replica"


def test_without_a_replica_everything_reads_and_writes_default(settings):
    settings.REPLICA_DATABASE = None
    router = ReplicaRouter()
    with reading_from_replica():
        assert router.db_for_read(Customer) is None  # Django's default: "default"
        assert router.db_for_write(Customer) == "default"
        assert Customer.objects.all().db == "default"


def test_reports_read_from_the_replica_and_nothing_else_does(replica):
    assert Customer.objects.all().db == "default"
    with reading_from_replica():
        assert Customer.objects.all().db == "replica"
    assert Customer.objects.all().db == "default"


def test_writes_inside_a_report_never_reach_the_replica(replica, store):
    with (
        CaptureQueriesContext(connections["default"]) as on_default,
        CaptureQueriesContext(connections["replica"]) as on_replica,
        reading_from_replica(),
    ):
        customer = CustomerFactory(home_store=store)
        Customer.objects.filter(pk=customer.pk).update(first_name="Renamed")
        customer.delete()
        assert not Customer.objects.filter(first_name="Renamed").exists()

    written = [q["sql"] for q in on_replica.captured_queries if not q["sql"].startswith("SELECT")]
    assert written == []
    assert len(on_replica.captured_queries) == 1  # the one read
    assert any(q["sql"].startswith("INSERT") for q in on_default.captured_queries)
    assert any(q["sql"].startswith("UPDATE") for q in on_default.captured_queries)
    assert any(q["sql"].startswith("DELETE") for q in on_default.captured_queries)


def test_the_replica_is_never_migrated():
    router = ReplicaRouter()
    assert router.allow_migrate("default", "customers") is True
    assert router.allow_migrate("replica", "customers") is False


def test_the_performance_page_reads_from_the_replica(replica, client, manager):
    client.force_login(manager.user)
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        response = client.get("/performance/")
        export = client.get("/performance/export/")
    assert response.status_code == 200
    assert export.status_code == 200
    assert on_replica.captured_queries, "the report's reads went to default"
    assert all(q["sql"].startswith("SELECT") for q in on_replica.captured_queries)


def test_the_decorator_routes_only_while_the_view_runs(replica):
    seen = []

    @reads_from_replica
    def view():
        seen.append(Customer.objects.all().db)

    view()
    assert seen == ["replica"]
    assert Customer.objects.all().db == "default"
