"""Hostile bodies on the integration API: deep nesting, lone surrogates, bodies over the
size limit, other content types. Each is a clean JSON error (never a 500, never the bad
value echoed back), and nothing is written."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings
from rest_framework import serializers
from rest_framework.exceptions import ParseError

from clienteling.core.parsers import MAX_DEPTH, check_body
from customers import api
from customers.models import ConsentEvent, Customer, EngagementEvent, Order, OrderLine
from tests.factories import CustomerFactory, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db

# The order the shipment and alteration endpoints update (created by `world`).
SHIPMENT_URL = "/api/v1/orders/store/S-1/shipment/"
ALTERATION_URL = "/api/v1/orders/store/S-1/alteration/"

# Bulk endpoints: url, envelope key, the API (its InputSerializer), one valid item.
BULK = {
    "customers": (
        "/api/v1/customers/bulk/",
        api.CustomerBulkUpsertApi,
        {
            "source": "pos",
            "external_id": "C-9",
            "first_name": "Ines",
            "home_store": "nyc-soho",
            "consents": [{"channel": "email", "granted": True, "wording": "Email me news"}],
        },
    ),
    "orders": (
        "/api/v1/orders/bulk/",
        api.OrderBulkIngestApi,
        {
            "channel": "store",
            "external_id": "S-9",
            "customer": {"source": "pos", "external_id": "C-1"},
            "store": "nyc-soho",
            "placed_at": "2026-11-01T15:30:00Z",
            "total": "150.00",
            "lines": [{"sku": "DRS-0", "quantity": 1, "unit_price": "150.00", "size": "38"}],
        },
    ),
    "events": (
        "/api/v1/events/bulk/",
        api.EngagementEventBulkIngestApi,
        {
            "external_id": "E-9",
            "customer": {"source": "pos", "external_id": "C-1"},
            "kind": "email_open",
            "occurred_at": "2026-11-01T10:00:00Z",
        },
    ),
}
# Single-order endpoints: url, the API, a valid body.
SINGLE = {
    "shipment": (
        SHIPMENT_URL,
        api.OrderShipmentUpdateApi,
        {"status": "shipped", "tracking_number": "1Z999"},
    ),
    "alteration": (
        ALTERATION_URL,
        api.OrderAlterationUpdateApi,
        {"status": "ready", "ready_on": "2026-11-05"},
    ),
}
ALL_URLS = [url for url, *_ in BULK.values()] + [url for url, *_ in SINGLE.values()]

SURROGATE = "\ud800"


@pytest.fixture
def world(store):
    """What the valid items refer to: the store, the catalog, the POS client, an order."""
    for n in range(3):
        ProductFactory(sku=f"DRS-{n}", price=Decimal("150.00"))
    customer = CustomerFactory(first_name="Claire", home_store=store, pos_customer_id="C-1")
    OrderFactory(customer=customer, store=store, channel="store", external_id="S-1")


def _rows() -> dict[str, list]:
    return {
        "customers": sorted(Customer.objects.values_list("pk", "first_name", "email")),
        "consents": sorted(ConsentEvent.objects.values_list("pk", flat=True)),
        "orders": sorted(
            Order.objects.values_list(
                "pk", "external_id", "shipment_status", "tracking_number", "alteration_status"
            )
        ),
        "lines": sorted(OrderLine.objects.values_list("pk", flat=True)),
        "events": sorted(EngagementEvent.objects.values_list("pk", flat=True)),
    }


def _post(api_client, url: str, body: str | bytes, content_type: str = "application/json"):
    return api_client.post(url, body, content_type=content_type)


def _string_fields(
    serializer: serializers.Serializer, prefix: tuple[str | int, ...] = ()
) -> Iterator[tuple[str | int, ...]]:
    """Path of every leaf field, nested serializers included (one item of a list): each
    accepts a JSON string (CharField, EmailField, ChoiceField, dates...), so a field
    added later is covered without touching this file."""
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.ListSerializer):
            yield from _string_fields(field.child, (*prefix, name, 0))
        elif isinstance(field, serializers.Serializer):
            yield from _string_fields(field, (*prefix, name))
        else:
            yield (*prefix, name)


def _path_text(path: tuple[str | int, ...]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def _with(value: dict, path: tuple[str | int, ...], leaf: Any) -> dict:
    changed = copy.deepcopy(value)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = leaf
    return changed


def _cases() -> Iterator[Any]:
    for key, (url, view, item) in BULK.items():
        for path in _string_fields(view.InputSerializer()):
            # A valid item first: the whole request is refused, so it is not saved either.
            body = {key: [item, _with(item, path, SURROGATE)]}
            expected = _path_text((key, 1, *path))
            yield pytest.param(url, body, expected, id=expected)
    for name, (url, view, body) in SINGLE.items():
        for path in _string_fields(view.InputSerializer()):
            expected = _path_text(path)
            yield pytest.param(url, _with(body, path, SURROGATE), expected, id=f"{name}-{expected}")


def _assert_clean_json(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content.decode("utf-8"))


# --- the valid bodies used below are accepted (so "nothing written" means something) ---


@pytest.mark.parametrize("key", BULK)
def test_the_valid_bulk_items_used_here_are_saved(api_client, world, key):
    url, _, item = BULK[key]
    response = api_client.post(url, {key: [item]}, format="json")
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("name", SINGLE)
def test_the_valid_order_updates_used_here_are_saved(api_client, world, name):
    url, _, body = SINGLE[name]
    response = api_client.post(url, body, format="json")
    assert response.status_code == 200, response.json()


def test_a_surrogate_pair_is_text_and_is_saved(api_client, world):
    url, _, item = BULK["customers"]
    body = json.dumps({"customers": [{**item, "first_name": "Zoé \U0001f600"}]})
    assert "\\ud83d\\ude00" in body  # sent as the escaped pair

    response = _post(api_client, url, body)

    assert response.status_code == 200, response.json()
    assert Customer.objects.get(pos_customer_id="C-9").first_name == "Zoé \U0001f600"


# --- deep nesting ---------------------------------------------------------------------


def _deep_array(depth: int) -> str:
    return "[" * depth + "]" * depth


def _deep_object(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.mark.parametrize("url", ALL_URLS)
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000])
@pytest.mark.parametrize("shape", [_deep_array, _deep_object], ids=["array", "object"])
def test_a_deeply_nested_body_is_a_400(api_client, world, url, depth, shape):
    before = _rows()
    key = next((key for key, (bulk_url, *_) in BULK.items() if bulk_url == url), "status")
    for body in (shape(depth), f'{{"{key}": [{shape(depth)}]}}'):
        response = _post(api_client, url, body)

        errors = _assert_clean_json(response, 400)
        assert errors == {
            "non_field_errors": [f"The JSON body is nested deeper than {MAX_DEPTH} levels."]
        }
    assert _rows() == before


def test_the_depth_limit_leaves_legitimate_bodies_alone():
    check_body(json.loads(_deep_array(MAX_DEPTH)))
    with pytest.raises(ParseError):
        check_body(json.loads(_deep_array(MAX_DEPTH + 1)))


# --- lone surrogates ------------------------------------------------------------------


@pytest.mark.parametrize(("url", "body", "expected"), list(_cases()))
def test_a_lone_surrogate_in_any_field_is_a_400_naming_it(api_client, world, url, body, expected):
    before = _rows()
    raw = json.dumps(body)  # ensure_ascii: the surrogate travels as the escape "\ud800"
    assert "\\ud800" in raw

    response = _post(api_client, url, raw)

    errors = _assert_clean_json(response, 400)
    assert list(errors) == [expected]
    assert "surrogate" in errors[expected][0]
    assert b"\\ud800" not in response.content.lower()
    assert _rows() == before


def test_a_lone_surrogate_in_a_key_or_the_envelope_is_a_400(api_client, world):
    url, _, item = BULK["customers"]
    for body, expected in [
        ({"customers": [{**item, SURROGATE: "x"}]}, "customers[0]"),
        ({SURROGATE: [item]}, "non_field_errors"),
        ({"customers": [SURROGATE]}, "customers[0]"),
        (SURROGATE, "non_field_errors"),
    ]:
        response = _post(api_client, url, json.dumps(body))

        errors = _assert_clean_json(response, 400)
        assert list(errors) == [expected]
        assert b"\\ud800" not in response.content.lower()
    assert not Customer.objects.filter(pos_customer_id="C-9").exists()


# --- bodies over the limit --------------------------------------------------------------


@pytest.mark.parametrize("url", ALL_URLS)
def test_a_body_over_the_limit_is_a_413_naming_the_limit(api_client, world, url):
    before = _rows()
    body = json.dumps({"padding": "x" * 2_000})

    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_000):
        response = _post(api_client, url, body)

    errors = _assert_clean_json(response, 413)
    assert errors == {
        "non_field_errors": [
            "The body is larger than the limit of 1000 bytes: send fewer items per request."
        ]
    }
    assert _rows() == before


def test_the_413_names_the_limit_in_megabytes(api_client, world):
    limit = 2**20
    body = json.dumps({"customers": [{"padding": "x" * limit}]})

    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=limit):
        response = _post(api_client, "/api/v1/customers/bulk/", body)

    errors = _assert_clean_json(response, 413)
    assert "the limit of 1 MB (1048576 bytes)" in errors["non_field_errors"][0]


# --- JSON only --------------------------------------------------------------------------


@pytest.mark.parametrize("url", ALL_URLS)
def test_only_json_is_accepted(api_client, world, url):
    before = _rows()
    form = api_client.post(url, {"status": "shipped"})  # multipart, the test client's default
    assert form.status_code == 415
    urlencoded = _post(api_client, url, "status=shipped", "application/x-www-form-urlencoded")
    assert urlencoded.status_code == 415
    assert _rows() == before


def test_malformed_json_is_a_400_in_the_api_format(api_client, world):
    response = _post(api_client, "/api/v1/orders/bulk/", "{not json")

    errors = _assert_clean_json(response, 400)
    assert list(errors) == ["non_field_errors"]
    assert errors["non_field_errors"][0].startswith("JSON parse error")


def test_the_schema_declares_json_bodies_only_and_the_413(client):
    schema = client.get("/api/v1/schema/?format=json").json()

    operations = [
        operation
        for path in schema["paths"].values()
        for method, operation in path.items()
        if method in {"post", "put", "patch"}
    ]
    # The first five, then catalog bulk, stock bulk, one count, and a client's points.
    assert len(operations) == 9
    for operation in operations:
        assert list(operation["requestBody"]["content"]) == ["application/json"]
        assert "413" in operation["responses"]
