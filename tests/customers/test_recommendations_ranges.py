# ruff: noqa: F811  (the engine tests' fixtures, imported by name, are used as arguments)
"""The nightly refresh cut into id ranges that any number of workers share: every client in
exactly one range, and the same rows as the single-process refresh, in any order."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from customers.models import Customer, Recommendation
from customers.services.recommendations import (
    recommendations_refresh,
    recommendations_refresh_plan,
    recommendations_refresh_range,
)
from customers.tasks import recommendations_refresh_all, recommendations_refresh_range_task

# The story data set of the engine's own tests (fixtures used by name below).
from tests.customers.test_recommendations import (  # noqa: F401
    _rows,
    claire,
    frozen,
    regulars,
    shop,
)

pytestmark = pytest.mark.django_db


def test_plan_cuts_every_client_into_exactly_one_range(claire):
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))

    ranges = recommendations_refresh_plan(clients_per_chunk=3)["ranges"]

    covered = [pk for low, high in ranges for pk in ids if low <= pk <= high]
    assert covered == ids  # each once, in order
    assert all(low <= high for low, high in ranges)
    assert len(ranges) == -(-len(ids) // 3)


def test_ranges_in_any_order_give_the_rows_of_one_refresh(claire):
    recommendations_refresh()
    single = _rows()
    Recommendation.objects.all().delete()

    ranges = recommendations_refresh_plan(clients_per_chunk=2)["ranges"]
    for low, high in reversed(ranges):  # workers finish in any order
        recommendations_refresh_range(low=low, high=high)

    assert _rows() == single
    # A range done twice (a retried task) rewrites nothing.
    low, high = ranges[0]
    assert recommendations_refresh_range(low=low, high=high)["changed"] == 0


def test_nightly_task_hands_the_ranges_to_the_workers(claire, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "celery.canvas.group.apply_async", lambda self, *a, **k: sent.extend(self.tasks)
    )

    result = recommendations_refresh_all()

    assert result["ranges"] == len(sent) >= 1
    assert {task.task for task in sent} == {recommendations_refresh_range_task.name}
    for task in sent:
        recommendations_refresh_range_task(*task.args)
    assert Recommendation.objects.filter(customer=claire).exists()


def test_run_job_runs_the_nightly_refresh_with_a_line_per_range(claire, transactional_db):
    out = io.StringIO()
    call_command("run_job", "recommendations-refresh-nightly", "--processes", "2", stdout=out)
    assert "range 1/" in out.getvalue()
    assert Recommendation.objects.filter(customer=claire).exists()
