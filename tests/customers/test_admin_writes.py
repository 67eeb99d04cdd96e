"""One write path: what the admin changes about clients goes through the same services as
the app, and what comes from elsewhere (orders, engagement, the contact log, computed
suggestions) is read-only there, for superusers too."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import Note, Reason
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client):
    user = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


@pytest.mark.parametrize(
    ("label", "make"),
    [
        ("order", factories.OrderFactory),
        ("engagementevent", factories.EngagementEventFactory),
        ("contact", factories.ContactFactory),
        ("recommendation", factories.RecommendationFactory),
        ("reason", factories.ReasonFactory),
    ],
)
def test_rows_written_elsewhere_are_read_only_in_the_admin(root, label, make):
    row = make()
    change = reverse(f"admin:customers_{label}_change", args=[row.pk])

    page = root.get(change)
    edit = root.post(change, {})
    delete = root.post(reverse(f"admin:customers_{label}_delete", args=[row.pk]), {"post": "yes"})
    add = root.get(reverse(f"admin:customers_{label}_add"))

    assert page.status_code == 200
    assert (edit.status_code, delete.status_code, add.status_code) == (403, 403, 403)
    assert type(row).objects.filter(pk=row.pk).exists()


def test_a_manager_dismisses_reasons_through_the_service(root):
    reason = factories.ReasonFactory()
    done = factories.ReasonFactory(state=Reason.State.DONE)

    response = root.post(
        reverse("admin:customers_reason_changelist"),
        {"action": "dismiss", "_selected_action": [reason.pk, done.pk]},
        follow=True,
    )

    assert "1 reason(s) dismissed." in response.content.decode()
    reason.refresh_from_db()
    done.refresh_from_db()
    assert reason.state == Reason.State.DISMISSED and reason.closed_by == root.user
    assert reason.closed_note
    assert done.state == Reason.State.DONE  # a closed reason stays as it was


def test_a_note_written_in_the_admin_goes_through_the_note_service(root):
    customer = factories.CustomerFactory()

    response = root.post(
        reverse("admin:customers_note_add"),
        {"customer": customer.pk, "text": "  Loves   emerald green  ", "pinned": "on"},
    )

    assert response.status_code == 302
    note = Note.objects.get(customer=customer)
    assert note.author == root.user and note.pinned
    assert note.text == "Loves   emerald green"

    root.post(
        reverse("admin:customers_note_change", args=[note.pk]),
        {"customer": customer.pk, "text": "Loves emerald and teal"},
    )
    note.refresh_from_db()
    assert note.text == "Loves emerald and teal" and not note.pinned
    assert note.author == root.user


def test_a_note_the_service_refuses_is_a_form_error_not_a_500(root):
    customer = factories.CustomerFactory()

    response = root.post(
        reverse("admin:customers_note_add"), {"customer": customer.pk, "text": "x" * 5001}
    )

    assert response.status_code == 200
    assert "Keep notes under 5000 characters." in response.content.decode()
    assert not Note.objects.exists()
