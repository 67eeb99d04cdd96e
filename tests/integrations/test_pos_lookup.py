"""The POS read-back: GET /api/v1/customers/lookup/ by phone, email or POS id."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clienteling.integrations.models import IntegrationToken
from clienteling.stores.models import RefusedAccess
from customers.models import AuditEvent, Reason, Topic
from tests.factories import (
    ContactPreferencesFactory,
    CustomerFactory,
    ReasonFactory,
    StaffMemberFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/lookup/"


def _till(integration, store=None, scopes=("customers:read",)) -> APIClient:
    _, key = IntegrationToken.issue(user=integration, name="till", scopes=list(scopes), store=store)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def claire(store, associate):
    return CustomerFactory(
        first_name="Claire",
        last_name="Dubois",
        email="claire@example.com",
        phone="+12125550142",
        pos_customer_id="C-1",
        home_store=store,
        assigned_associate=associate,
        tier="gold",
    )


def test_a_till_finds_its_client_by_phone_typed_any_way(integration, store, claire):
    till = _till(integration, store)

    for typed in ("+1 212 555 0142", "(212) 555-0142", "2125550142", "0012125550142"):
        response = till.get(URL, {"phone": typed})

        assert response.status_code == 200, (typed, response.json())
        [client] = response.json()["clients"]
        assert client["id"] == claire.pk
    assert client == {
        "id": claire.pk,
        "pos_id": "C-1",
        "first_name": "Claire",
        "last_name": "Dubois",
        "tier": "gold",
        "home_store": "nyc-soho",
        "associate": {
            "name": claire.assigned_associate.display_name,
            "employee_code": claire.assigned_associate.employee_code,
        },
        "reasons": [],
        "offers": [],
    }
    assert response["Cache-Control"] == "private, no-store"


def test_by_email_in_any_case_and_by_pos_id(integration, store, claire):
    till = _till(integration, store)

    by_email = till.get(URL, {"email": " Claire@Example.COM "})
    by_pos = till.get(URL, {"pos_id": "C-1"})

    assert by_email.json()["clients"][0]["id"] == claire.pk
    assert by_pos.json()["clients"][0]["id"] == claire.pk


def test_reasons_said_at_the_till_leave_out_declined_marketing_topics(integration, store, claire):
    ContactPreferencesFactory(customer=claire, topics_declined=[Topic.OCCASIONS])
    ReasonFactory(
        customer=claire, kind=Reason.Kind.ALTERATION_READY, why="Her hem is ready.", score=90
    )
    ReasonFactory(customer=claire, kind=Reason.Kind.BIRTHDAY, why="Birthday on Friday.")
    ReasonFactory(
        customer=claire,
        kind=Reason.Kind.BACK_IN_STOCK,
        why="The Mira dress is back in her size.",
        score=40,
    )
    ReasonFactory(customer=claire, kind=Reason.Kind.THANK_YOU, state=Reason.State.DONE)
    ReasonFactory(
        customer=claire,
        kind=Reason.Kind.ORDER_SHIPPED,
        due_on=timezone.localdate() + datetime.timedelta(days=3),
    )

    response = _till(integration, store).get(URL, {"pos_id": "C-1"})

    reasons = response.json()["clients"][0]["reasons"]
    assert [(r["kind"], r["why"]) for r in reasons] == [
        ("alteration_ready", "Her hem is ready."),
        ("back_in_stock", "The Mira dress is back in her size."),
    ]
    assert reasons[0]["badge"] == "Alteration"


def test_each_client_returned_is_audited_as_a_view(integration, store, claire):
    sister = CustomerFactory(home_store=store, phone="+12125550142", first_name="Zoe")

    response = _till(integration, store).get(URL, {"phone": "212 555 0142"})

    assert {c["id"] for c in response.json()["clients"]} == {claire.pk, sister.pk}
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW)
    assert sorted(rows.values_list("customer_ref", flat=True)) == sorted([claire.pk, sister.pk])
    assert all(row.actor == integration for row in rows)
    # The phone asked is not kept in the trail's path.
    assert all("555" not in row.path for row in rows)


def test_a_store_key_never_sees_another_stores_client_and_the_attempt_is_recorded(
    integration, store, other_store, claire
):
    marais = CustomerFactory(home_store=other_store, pos_customer_id="P-9", email="m@example.fr")
    till = _till(integration, store)

    other = till.get(URL, {"pos_id": "P-9"})
    nobody = till.get(URL, {"pos_id": "P-404"})

    assert other.status_code == nobody.status_code == 404
    assert other.json() == nobody.json()  # no hint that one exists elsewhere
    refusal = RefusedAccess.objects.get()
    assert (refusal.actor, refusal.target, refusal.target_ref) == (
        integration,
        "client",
        str(marais.pk),
    )
    assert not AuditEvent.objects.exists()
    # The retailer's own key (no store) sees every store's clients.
    assert _till(integration).get(URL, {"pos_id": "P-9"}).status_code == 200


def test_an_erased_client_is_not_found(integration, store, claire):
    claire.erased_at = timezone.now()
    claire.save()

    assert _till(integration, store).get(URL, {"pos_id": "C-1"}).status_code == 404
    assert not RefusedAccess.objects.exists()


@pytest.mark.parametrize(
    "query",
    [{}, {"phone": "212", "email": "a@b.c"}, {"pos_id": "x" * 65}, {"email": "a\x00b"}],
)
def test_asking_wrongly_is_a_400_with_field_messages(integration, store, query):
    response = _till(integration, store).get(URL, query)

    assert response.status_code == 400
    assert response.json()


def test_a_number_that_is_no_phone_number_is_simply_not_found(integration, store, claire):
    assert _till(integration, store).get(URL, {"phone": "hello"}).status_code == 404


def test_the_read_scope_is_needed_and_sessions_are_refused(
    integration, store, claire, client, manager
):
    writer = _till(integration, store, scopes=("customers:write",))
    assert writer.get(URL, {"pos_id": "C-1"}).status_code == 403
    assert APIClient().get(URL, {"pos_id": "C-1"}).status_code == 401
    client.force_login(manager.user)
    assert client.get(URL, {"pos_id": "C-1"}).status_code in (401, 403)
    assert not AuditEvent.objects.exists()


def test_lookups_are_rate_limited_per_key(integration, store, claire, settings):
    settings.POS_LOOKUP_RATE = "3/min"
    till = _till(integration, store)
    other_till = _till(integration, store)

    answers = [till.get(URL, {"pos_id": "C-1"}).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    assert other_till.get(URL, {"pos_id": "C-1"}).status_code == 200


def test_query_count_does_not_grow_with_matches_or_reasons(
    integration, store, claire, django_assert_num_queries
):
    till = _till(integration, store)
    till.get(URL, {"pos_id": "C-1"})  # the key's last use is written once a minute at most
    ReasonFactory(customer=claire, kind=Reason.Kind.ALTERATION_READY)

    # 1 key with its account and store, 1 clients with store, associate and preferences, 1 due reasons,
    # 1 usable offers, 1 audit INSERT.
    with django_assert_num_queries(5):
        assert len(till.get(URL, {"phone": "2125550142"}).json()["clients"]) == 1

    for _ in range(3):
        sibling = CustomerFactory(
            home_store=store,
            phone="+12125550142",
            assigned_associate=StaffMemberFactory(store=store),
        )
        ReasonFactory(customer=sibling, kind=Reason.Kind.ORDER_SHIPPED)
        ContactPreferencesFactory(customer=sibling)
    with django_assert_num_queries(5):
        assert len(till.get(URL, {"phone": "2125550142"}).json()["clients"]) == 4


def test_the_schema_documents_the_lookup_and_its_offers(client):
    schema = client.get("/api/v1/schema/?format=json").json()

    operation = schema["paths"]["/api/v1/customers/lookup/"]["get"]
    assert {"200", "400", "401", "403", "404", "429"} <= set(operation["responses"])
    offers = schema["components"]["schemas"]["PosClient"]["properties"]["offers"]
    assert "offer_code" in offers["description"]


def test_a_tills_key_is_issued_for_its_store(integration, store, claire):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "create_integration",
        "till-soho",
        "--store",
        store.code,
        "--scopes",
        "customers:read",
        stdout=out,
    )
    key = out.getvalue().strip().splitlines()[-1].removeprefix("Authorization: Token ")
    token = IntegrationToken.objects.get(name="till-soho")
    assert token.store == store and token.scopes == ["customers:read"]
    till = APIClient()
    till.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert till.get(URL, {"pos_id": "C-1"}).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_audit_row_is_committed_before_the_answer_leaves(integration, store, claire):
    """Outside a test's transaction, as in production: the audit INSERT commits on its
    own, so another connection sees the row as soon as the till has its answer."""
    from django.db import connections

    response = _till(integration, store).get(URL, {"pos_id": "C-1"})

    assert response.status_code == 200
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT actor_id, action, path, detail->>'via' FROM customers_auditevent "
                "WHERE customer_ref = %s",
                [claire.pk],
            )
            rows = cursor.fetchall()
    finally:
        other.close()
    assert rows == [(integration.pk, "view", URL, "pos-lookup")]


def test_a_refused_lookup_says_when_to_ask_again(integration, store, claire, settings):
    settings.POS_LOOKUP_RATE = "2/min"
    till = _till(integration, store)

    answers = [till.get(URL, {"pos_id": "C-1"}) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    # Until the first of the two leaves the minute's window.
    assert 58 <= int(answers[2]["Retry-After"]) <= 60
