from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = io.StringIO()
    call_command("create_integration", *args, stdout=out)
    return out.getvalue()


def test_created_token_can_push_and_rotation_revokes_the_old_one(store):
    first = _run("pos").splitlines()[-1].removeprefix("Authorization: Token ")
    again = _run("pos").splitlines()[-1].removeprefix("Authorization: Token ")
    rotated = _run("pos", "--rotate").splitlines()[-1].removeprefix("Authorization: Token ")
    assert first == again != rotated

    payload = {
        "customers": [
            {"source": "pos", "external_id": "C-1", "first_name": "Ana", "home_store": store.code}
        ]
    }
    old, new = APIClient(), APIClient()
    old.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    new.credentials(HTTP_AUTHORIZATION=f"Token {rotated}")
    assert old.post("/api/v1/customers/bulk/", payload, format="json").status_code == 401
    assert new.post("/api/v1/customers/bulk/", payload, format="json").status_code == 200


def test_bad_name_is_refused():
    with pytest.raises(CommandError, match="letters, digits and dashes"):
        _run("pos system!")
