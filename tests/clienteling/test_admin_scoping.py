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


def _scoped_admins():
    from django.contrib import admin

    from clienteling.stores.scoping import StoreScopedAdmin

    return sorted(
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, StoreScopedAdmin)
    )


@pytest.mark.parametrize("label", _scoped_admins())
def test_another_stores_rows_are_neither_listed_nor_opened(label, manager_client, store):
    """Every store-owned admin: a row the factories put in some other store is not in the
    manager's list and its page is "not found"."""
    from tests.clienteling.test_admin import FACTORIES

    obj = FACTORIES[label]()
    model = type(obj)
    app_label, model_name = label.split(".")
    model.objects.filter(pk=obj.pk).exists()  # made, in a store of its own

    listed = manager_client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    opened = manager_client.get(reverse(f"admin:{app_label}_{model_name}_change", args=[obj.pk]))

    assert listed.status_code in (200, 403)
    if listed.status_code == 200:
        assert f"/{obj.pk}/change/" not in listed.content.decode()
    assert opened.status_code in (302, 403)
    if opened.status_code == 302:
        assert opened["Location"] == reverse("admin:index")


def test_a_manager_works_on_their_own_stores_clients(manager_client, store, other_store):
    mine = factories.CustomerFactory(home_store=store, last_name="Homegrown")
    factories.CustomerFactory(home_store=other_store, last_name="Faraway")

    listed = manager_client.get(reverse("admin:customers_customer_changelist")).content.decode()
    opened = manager_client.get(reverse("admin:customers_customer_change", args=[mine.pk]))

    assert "Homegrown" in listed and "Faraway" not in listed
    assert opened.status_code == 200
