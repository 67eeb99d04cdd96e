"""Reasons refresh through a real Celery worker on Redis, enqueued after the ingest commits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from customers.models import Reason
from customers.tasks import reasons_refresh_all
from tests.conftest import wait_for
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.worker


def test_an_ingested_big_order_becomes_a_thank_you_through_the_worker(
    celery_worker, store, integration
):
    CustomerFactory(first_name="Claire", home_store=store, pos_customer_id="C-1")
    ProductFactory(sku="DRS-1", price=Decimal("890"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=integration).key}")

    response = client.post(
        "/api/v1/orders/bulk/",
        {
            "orders": [
                {
                    "channel": "store",
                    "external_id": "S-1",
                    "customer": {"source": "pos", "external_id": "C-1"},
                    "store": store.code,
                    "placed_at": timezone.now().isoformat(),
                    "total": "890.00",
                    "lines": [{"sku": "DRS-1", "unit_price": "890.00"}],
                }
            ]
        },
        format="json",
    )

    assert response.status_code == 200
    reason = wait_for(lambda: Reason.objects.filter(kind="thank_you").first())
    assert reason.why.startswith("Claire spent $890 at SoHo")
    assert Reason.objects.filter(kind="welcome").exists()


def test_the_hourly_refresh_runs_on_the_worker(celery_worker, store):
    import datetime

    CustomerFactory(
        first_name="Ines",
        home_store=store,
        birthday=timezone.localdate() + datetime.timedelta(days=2),
    )

    reasons_refresh_all.delay()

    reason = wait_for(lambda: Reason.objects.filter(kind="birthday").first())
    assert reason.why.startswith("Ines's birthday is on")
