"""A store manager's admin shows and edits only their store's rows; a superuser's all."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager):
    # What the demo's "Store managers" group grants, for the models checked here.
    manager.user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["stores", "customers", "appointments"],
            codename__regex=r"^(view|change)_",
        )
    )
    client.force_login(manager.user)
    return client


def test_a_manager_lists_only_their_stores_staff(manager_client, store, other_store):
    factories.StaffMemberFactory(store=store, user__first_name="Marcus")
    factories.StaffMemberFactory(store=other_store, user__first_name="Hugo")

    body = manager_client.get(reverse("admin:stores_staffmember_changelist")).content.decode()

    assert "Marcus" in body and "Hugo" not in body


def test_another_stores_staff_member_is_not_found(manager_client, other_store_associate):
    url = reverse("admin:stores_staffmember_change", args=[other_store_associate.pk])

    response = manager_client.get(url)

    assert response.status_code == 302  # the admin's "does not exist" redirect
    assert response["Location"] == reverse("admin:index")


def test_a_manager_sees_only_their_store(manager_client, store, other_store):
    body = manager_client.get(reverse("admin:stores_store_changelist")).content.decode()

    assert "SoHo" in body and "Marais" not in body


def test_a_manager_cannot_move_staff_to_another_store(
    manager_client, store, other_store, associate
):
    url = reverse("admin:stores_staffmember_change", args=[associate.pk])

    response = manager_client.post(
        url,
        {
            "user": associate.user_id,
            "store": other_store.pk,
            "role": "associate",
            "employee_code": "X1",
        },
    )

    assert response.status_code == 200  # the form again, with the choice refused
    assert "Select a valid choice" in response.content.decode()
    associate.refresh_from_db()
    assert associate.store == store


def test_a_superuser_sees_every_store(client, store, other_store):
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))

    body = client.get(reverse("admin:stores_store_changelist")).content.decode()

    assert "SoHo" in body and "Marais" in body
