"""The integration API: bulk upserts of clients, orders and events; shipment and alteration updates."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from customers.models import ConsentEvent, Customer, EngagementEvent, Order, OrderLine
from tests.factories import CustomerFactory, ProductFactory, StaffMemberFactory

pytestmark = pytest.mark.django_db

CUSTOMERS_URL = "/api/v1/customers/bulk/"
ORDERS_URL = "/api/v1/orders/bulk/"
EVENTS_URL = "/api/v1/events/bulk/"


@pytest.fixture
def catalog():
    return [ProductFactory(sku=f"DRS-{n}", price=Decimal("150.00")) for n in range(3)]


@pytest.fixture
def client_in_pos(store):
    return CustomerFactory(
        first_name="Claire", last_name="Dubois", home_store=store, pos_customer_id="C-1"
    )


def _order(
    external_id: str, *, lines: int = 2, sku_prefix: str = "DRS", customer_id: str = "C-1", **extra
):
    payload = {
        "channel": "store",
        "external_id": external_id,
        "customer": {"source": "pos", "external_id": customer_id},
        "store": "nyc-soho",
        "placed_at": "2026-11-01T15:30:00Z",
        "total": str(Decimal("150.00") * lines),
        "lines": [
            {"sku": f"{sku_prefix}-{n % 3}", "quantity": 1, "unit_price": "150.00", "size": "38"}
            for n in range(lines)
        ],
    }
    payload.update(extra)
    return payload


def _rows() -> dict:
    return {
        "orders": sorted(
            Order.objects.values_list("channel", "external_id", "total", "customer_id")
        ),
        "lines": sorted(
            OrderLine.objects.values_list(
                "order__external_id", "line_number", "product__sku", "quantity"
            )
        ),
        "customers": sorted(
            Customer.objects.values_list("pk", "lifetime_value", "order_count", "tier")
        ),
    }


# --- orders -------------------------------------------------------------------------


def test_order_bulk_creates_orders_lines_and_refreshes_lifetime_value(
    api_client, catalog, client_in_pos, associate
):
    response = api_client.post(
        ORDERS_URL,
        {"orders": [_order("S-1", associate=associate.employee_code), _order("S-2", lines=3)]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["received"] == 2
    assert [item["created"] for item in body["saved"]] == [True, True]
    assert body["errors"] == []
    assert OrderLine.objects.filter(order__external_id="S-2").count() == 3
    client_in_pos.refresh_from_db()
    assert client_in_pos.lifetime_value == Decimal("750.00")
    assert client_in_pos.order_count == 2
    assert Order.objects.get(external_id="S-1").associate == associate


def test_order_bulk_same_payload_twice_leaves_the_same_rows(api_client, catalog, client_in_pos):
    payload = {"orders": [_order(f"S-{n}", lines=2 + n % 3) for n in range(5)]}

    first = api_client.post(ORDERS_URL, payload, format="json")
    rows_after_first = _rows()
    second = api_client.post(ORDERS_URL, copy.deepcopy(payload), format="json")

    assert first.status_code == second.status_code == 200
    assert _rows() == rows_after_first
    assert [item["id"] for item in first.json()["saved"]] == [
        item["id"] for item in second.json()["saved"]
    ]
    assert all(item["created"] is False for item in second.json()["saved"])


def test_order_bulk_resend_with_fewer_lines_replaces_the_lines(api_client, catalog, client_in_pos):
    api_client.post(ORDERS_URL, {"orders": [_order("S-1", lines=3)]}, format="json")

    response = api_client.post(
        ORDERS_URL, {"orders": [_order("S-1", lines=1, total="150.00")]}, format="json"
    )

    assert response.status_code == 200
    assert list(OrderLine.objects.values_list("line_number", flat=True)) == [1]
    client_in_pos.refresh_from_db()
    assert client_in_pos.lifetime_value == Decimal("150.00")


def test_order_bulk_accepts_a_thousand_lines_in_one_request(
    api_client, catalog, client_in_pos, django_assert_max_num_queries
):
    payload = {"orders": [_order(f"S-{n}", lines=10) for n in range(100)]}

    # A constant number of statements whatever the size: lookups, two upserts, deletes, totals;
    # then points (lines, rules, the ledger upsert, stale bonuses, live offers): 5 more.
    with django_assert_max_num_queries(25):
        response = api_client.post(ORDERS_URL, payload, format="json")

    assert response.status_code == 200
    assert OrderLine.objects.count() == 1000


def test_order_bulk_saves_valid_items_and_lists_invalid_ones(api_client, catalog, client_in_pos):
    payload = {
        "orders": [
            _order("S-1"),
            _order("S-2", sku_prefix="NOPE"),
            _order("S-3", customer_id="C-404"),
            {**_order("S-4"), "total": "-5"},
            {**_order("S-5"), "store": None, "channel": "store"},
            _order("S-1"),
        ]
    }

    response = api_client.post(ORDERS_URL, payload, format="json")

    assert response.status_code == 207
    body = response.json()
    # An unknown SKU is never refused: the line is kept, waiting for the catalog.
    assert [item["external_id"] for item in body["saved"]] == ["S-1", "S-2"]
    errors = {item["index"]: item["errors"] for item in body["errors"]}
    assert set(errors) == {2, 3, 4, 5}
    assert "Unknown client" in errors[2]["customer"][0]
    assert "total" in errors[3]
    assert "store" in errors[4]
    assert "Appears twice" in errors[5]["external_id"][0]
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["S-1", "S-2"]
    kept = OrderLine.objects.filter(order__external_id="S-2").order_by("line_number")
    assert [(line.sku, line.product_id) for line in kept] == [("NOPE-0", None), ("NOPE-1", None)]


def test_order_bulk_bad_payload_gets_400_and_keeps_earlier_data(api_client, catalog, client_in_pos):
    api_client.post(ORDERS_URL, {"orders": [_order("S-1")]}, format="json")
    before = _rows()

    for payload in [
        {"orders": []},
        {"orders": "nope"},
        {"wrong": []},
        {"orders": [{"external_id": "S-1", "lines": "x"}]},
        {"orders": [_order("S-1", lines=0)]},
    ]:
        response = api_client.post(ORDERS_URL, payload, format="json")
        assert response.status_code == 400, payload
        assert response.json(), payload

    malformed = api_client.post(ORDERS_URL, "{not json", content_type="application/json")
    assert malformed.status_code == 400
    assert _rows() == before


def test_order_bulk_refuses_more_items_than_the_limit(api_client, settings):
    response = api_client.post(ORDERS_URL, {"orders": [{}] * 2001}, format="json")
    assert response.status_code == 400
    assert "orders" in response.json()


def test_order_bulk_needs_a_token_with_the_ingest_permission(catalog, client_in_pos, associate):
    anonymous = APIClient()
    assert anonymous.post(ORDERS_URL, {"orders": [_order("S-1")]}, format="json").status_code == 401

    staff_client = APIClient()
    staff_client.force_authenticate(associate.user)
    assert (
        staff_client.post(ORDERS_URL, {"orders": [_order("S-1")]}, format="json").status_code == 403
    )
    assert not Order.objects.exists()


def test_order_bulk_refuses_get(api_client):
    assert api_client.get(ORDERS_URL).status_code == 405


# --- shipments and alterations --------------------------------------------------------


def test_shipment_update_records_status_tracking_and_first_shipped_time(
    api_client, catalog, client_in_pos
):
    api_client.post(
        ORDERS_URL, {"orders": [_order("W-1", channel="online", store=None)]}, format="json"
    )
    url = "/api/v1/orders/online/W-1/shipment/"

    first = api_client.post(
        url,
        {"status": "shipped", "tracking_number": "1Z999", "at": "2026-11-02T10:00:00Z"},
        format="json",
    )
    again = api_client.post(url, {"status": "shipped", "at": "2026-11-03T10:00:00Z"}, format="json")

    assert first.status_code == again.status_code == 200
    order = Order.objects.get(external_id="W-1")
    assert order.shipment_status == "shipped"
    assert order.tracking_number == "1Z999"
    assert order.shipped_at.isoformat() == "2026-11-02T10:00:00+00:00"


def test_shipment_update_for_unknown_order_is_404_and_bad_status_is_400(
    api_client, catalog, client_in_pos
):
    assert (
        api_client.post(
            "/api/v1/orders/online/NOPE/shipment/", {"status": "shipped"}, format="json"
        ).status_code
        == 404
    )
    api_client.post(
        ORDERS_URL, {"orders": [_order("W-1", channel="online", store=None)]}, format="json"
    )
    response = api_client.post(
        "/api/v1/orders/online/W-1/shipment/", {"status": "teleported"}, format="json"
    )
    assert response.status_code == 400
    assert "status" in response.json()
    assert Order.objects.get(external_id="W-1").shipment_status == "pending"


def test_alteration_ready_needs_a_date(api_client, catalog, client_in_pos):
    api_client.post(ORDERS_URL, {"orders": [_order("S-1")]}, format="json")
    url = "/api/v1/orders/store/S-1/alteration/"

    refused = api_client.post(url, {"status": "ready"}, format="json")
    accepted = api_client.post(url, {"status": "ready", "ready_on": "2026-11-05"}, format="json")

    assert refused.status_code == 400
    assert refused.json() == {"ready_on": ["An alteration that is ready needs its ready date."]}
    assert accepted.status_code == 200
    assert accepted.json()["alteration_ready_on"] == "2026-11-05"


# --- customers ---------------------------------------------------------------------------


def test_customer_upsert_creates_then_updates_only_given_fields(api_client, store, associate):
    create = {
        "source": "pos",
        "external_id": "C-9",
        "first_name": "Maya",
        "last_name": "Lee",
        "email": " Maya.Lee@Example.com ",
        "phone": "(212) 555-0142",
        "home_store": "nyc-soho",
        "assigned_associate": associate.employee_code,
        "birthday": "1988-03-14",
    }
    response = api_client.post(CUSTOMERS_URL, {"customers": [create]}, format="json")
    assert response.status_code == 200, response.json()
    customer = Customer.objects.get(pos_customer_id="C-9")
    assert customer.email == "maya.lee@example.com"
    assert str(customer.phone) == "+12125550142"
    assert customer.assigned_associate == associate

    update = {"source": "pos", "external_id": "C-9", "last_name": "Lee-Park"}
    response = api_client.post(CUSTOMERS_URL, {"customers": [update]}, format="json")

    assert response.status_code == 200
    assert response.json()["saved"][0] == {
        "index": 0,
        "external_id": "C-9",
        "id": customer.pk,
        "created": False,
    }
    customer.refresh_from_db()
    assert customer.last_name == "Lee-Park"
    assert customer.birthday.isoformat() == "1988-03-14"  # not sent, not erased
    assert customer.first_name == "Maya"


def test_customer_upsert_consents_are_appended_once(api_client, store):
    item = {
        "source": "ecommerce",
        "external_id": "W-77",
        "first_name": "Ines",
        "home_store": "nyc-soho",
        "consents": [{"channel": "email", "granted": True, "wording": "Email me news"}],
    }
    api_client.post(CUSTOMERS_URL, {"customers": [item]}, format="json")
    api_client.post(CUSTOMERS_URL, {"customers": [item]}, format="json")
    assert ConsentEvent.objects.count() == 1

    revoke = {**item, "consents": [{"channel": "email", "granted": False}]}
    api_client.post(CUSTOMERS_URL, {"customers": [revoke]}, format="json")

    customer = Customer.objects.get(ecommerce_customer_id="W-77")
    assert ConsentEvent.objects.count() == 2
    assert customer.has_consent("email") is False
    assert ConsentEvent.objects.latest("recorded_at").source == "ecommerce"


def test_customer_upsert_field_errors(api_client, store):
    response = api_client.post(
        CUSTOMERS_URL,
        {
            "customers": [
                {"source": "pos", "external_id": "C-1", "first_name": "A", "home_store": "nowhere"},
                {"source": "pos", "external_id": "C-2", "home_store": "nyc-soho"},
                {
                    "source": "pos",
                    "external_id": "C-3",
                    "first_name": "B",
                    "home_store": "nyc-soho",
                    "phone": "12",
                },
                {"source": "fax", "external_id": "C-4"},
                "not an object",
            ]
        },
        format="json",
    )

    assert response.status_code == 400
    errors = {item["index"]: item["errors"] for item in response.json()["errors"]}
    assert "No store has the code" in errors[0]["home_store"][0]
    assert errors[1]["first_name"] == ["A new client needs a first name."]
    assert "phone" in errors[2]
    assert "source" in errors[3]
    assert 4 in errors
    assert not Customer.objects.exists()


# --- engagement events ----------------------------------------------------------------


def test_events_bulk_is_idempotent_by_source_and_id(api_client, client_in_pos, catalog):
    payload = {
        "events": [
            {
                "external_id": "E-1",
                "customer": {"source": "pos", "external_id": "C-1"},
                "kind": "email_open",
                "occurred_at": "2026-11-01T10:00:00Z",
            },
            {
                "external_id": "E-2",
                "customer": {"source": "pos", "external_id": "C-1"},
                "kind": "favourite",
                "sku": "DRS-1",
                "occurred_at": "2026-11-01T10:05:00Z",
            },
        ]
    }
    first = api_client.post(EVENTS_URL, payload, format="json")
    second = api_client.post(EVENTS_URL, payload, format="json")

    assert first.status_code == second.status_code == 200
    assert [item["created"] for item in second.json()["saved"]] == [False, False]
    assert EngagementEvent.objects.count() == 2
    assert EngagementEvent.objects.get(external_id="E-2").product.sku == "DRS-1"


def test_events_bulk_lists_unknown_clients_and_kinds(api_client, client_in_pos):
    response = api_client.post(
        EVENTS_URL,
        {
            "events": [
                {
                    "external_id": "E-1",
                    "customer": {"source": "pos", "external_id": "C-404"},
                    "kind": "email_open",
                    "occurred_at": "2026-11-01T10:00:00Z",
                },
                {
                    "external_id": "E-2",
                    "customer": {"source": "pos", "external_id": "C-1"},
                    "kind": "telepathy",
                    "occurred_at": "2026-11-01T10:00:00Z",
                },
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    errors = {item["index"]: item["errors"] for item in response.json()["errors"]}
    assert "customer" in errors[0]
    assert "kind" in errors[1]
    assert not EngagementEvent.objects.exists()


# --- schema and docs ------------------------------------------------------------------------


def test_openapi_schema_and_docs_page_are_served(client):
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/orders/bulk/", "/api/v1/customers/bulk/", "/api/v1/events/bulk/"} <= set(paths)
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_staff_member_codes_resolve_associates(api_client, catalog, client_in_pos, store):
    other = StaffMemberFactory(store=store, employee_code="E-XY")
    response = api_client.post(
        ORDERS_URL, {"orders": [_order("S-1", associate="E-XY")]}, format="json"
    )
    assert response.status_code == 200
    assert Order.objects.get().associate == other
