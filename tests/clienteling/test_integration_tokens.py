"""Integration keys: hashed, scoped, revocable, expiring; the schema names the scheme."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from clienteling.integrations.models import ALL_SCOPES, IntegrationToken
from customers.models import Customer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(key: str, keyword: str = "Token") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    return client


def _customers(store) -> dict:
    return {
        "customers": [
            {"source": "pos", "external_id": "C-9", "first_name": "Ana", "home_store": store.code}
        ]
    }


def test_a_key_may_only_do_what_its_scopes_say(integration, store):
    _, orders_only = IntegrationToken.issue(
        user=integration, name="orders", scopes=["orders:write"]
    )

    refused = _client(orders_only).post("/api/v1/customers/bulk/", _customers(store), format="json")

    assert refused.status_code == 403
    assert "scopes" in refused.json()["detail"]
    assert not Customer.objects.exists()


def test_a_revoked_or_expired_key_stops_at_once(integration, store):
    token, key = IntegrationToken.issue(user=integration, name="pos", scopes=ALL_SCOPES)
    _, old_key = IntegrationToken.issue(
        user=integration,
        name="old",
        scopes=ALL_SCOPES,
        expires_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    assert (
        _client(key).post("/api/v1/customers/bulk/", _customers(store), format="json").status_code
        == 200
    )

    token.revoke()

    assert (
        _client(key).post("/api/v1/customers/bulk/", _customers(store), format="json").status_code
        == 401
    )
    assert (
        _client(old_key)
        .post("/api/v1/customers/bulk/", _customers(store), format="json")
        .status_code
        == 401
    )


def test_bearer_works_too_and_garbage_is_a_401_not_an_error(integration, store):
    _, key = IntegrationToken.issue(user=integration, name="pos", scopes=ALL_SCOPES)

    assert (
        _client(key, "Bearer")
        .post("/api/v1/customers/bulk/", _customers(store), format="json")
        .status_code
        == 200
    )
    for header in ("Token", "Token a b", "Token \udcff", "Token cl_nope"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header.encode("utf-8", "surrogateescape"))
        assert (
            client.post("/api/v1/customers/bulk/", _customers(store), format="json").status_code
            == 401
        )


def test_an_inactive_account_cannot_push(integration, store):
    _, key = IntegrationToken.issue(user=integration, name="pos", scopes=ALL_SCOPES)
    integration.is_active = False
    integration.save()

    assert (
        _client(key).post("/api/v1/customers/bulk/", _customers(store), format="json").status_code
        == 401
    )


def test_last_use_is_written_at_most_once_a_minute(integration, store, django_assert_num_queries):
    token, key = IntegrationToken.issue(user=integration, name="pos", scopes=ALL_SCOPES)
    client = _client(key)
    client.post("/api/v1/events/bulk/", {"events": [{}]}, format="json")
    token.refresh_from_db()
    first_use = token.last_used_at

    client.post("/api/v1/events/bulk/", {"events": [{}]}, format="json")

    token.refresh_from_db()
    assert first_use is not None and token.last_used_at == first_use


def test_the_admin_issues_a_key_shown_once_and_revokes_it(client, integration):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)

    response = client.post(
        reverse("admin:integrations_integrationtoken_add"),
        {"name": "Web shop", "user": integration.pk, "scopes": ["orders:write", "events:write"]},
        follow=True,
    )

    token = IntegrationToken.objects.get()
    body = response.content.decode()
    assert "shown this once" in body
    key = body.split("shown this once (copy it into the integration now): ")[1].split("<")[0]
    assert key.startswith(token.prefix)
    assert token.scopes == ["events:write", "orders:write"] and token.created_by == root
    change = client.get(reverse("admin:integrations_integrationtoken_change", args=[token.pk]))
    assert key not in change.content.decode() and token.key_digest not in change.content.decode()

    client.post(
        reverse("admin:integrations_integrationtoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_the_schema_describes_the_key_scheme(client):
    schema = client.get("/api/v1/schema/?format=json").json()

    assert "integrationToken" in schema["components"]["securitySchemes"]
