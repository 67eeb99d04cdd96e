from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from clienteling.integrations.models import IntegrationToken

pytestmark = pytest.mark.django_db

PAYLOAD_CUSTOMER = {"source": "pos", "external_id": "C-1", "first_name": "Ana"}


def _run(*args) -> str:
    out = io.StringIO()
    call_command("create_integration", *args, stdout=out)
    return out.getvalue()


def _key(output: str) -> str:
    return output.splitlines()[-1].removeprefix("Authorization: Token ")


def _push(key: str, store) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    payload = {"customers": [{**PAYLOAD_CUSTOMER, "home_store": store.code}]}
    return client.post("/api/v1/customers/bulk/", payload, format="json").status_code


def test_a_created_key_pushes_and_rotation_revokes_the_old_one(store):
    first = _key(_run("pos"))
    with pytest.raises(CommandError, match="keys are shown only once"):
        _run("pos")  # the key cannot be printed again: it is not kept
    rotated = _key(_run("pos", "--rotate"))

    assert first != rotated and first.startswith("cl_")
    assert _push(first, store) == 401
    assert _push(rotated, store) == 200


def test_keys_are_stored_only_as_digests(store):
    key = _key(_run("pos"))

    token = IntegrationToken.objects.get()
    stored = " ".join(str(value) for value in IntegrationToken.objects.values_list().get())
    assert key not in stored
    assert token.prefix == key[:10]


def test_add_keeps_the_other_key_working(store):
    first = _key(_run("pos"))
    second = _key(_run("pos", "--add", "--scopes", "orders:write"))

    assert _push(first, store) == 200
    assert _push(second, store) == 403  # orders only: clients are not in its scopes


def test_bad_name_or_scope_is_refused():
    with pytest.raises(CommandError, match="letters, digits and dashes"):
        _run("pos system!")
    with pytest.raises(CommandError, match="Scopes are some of"):
        _run("pos", "--scopes", "everything")
