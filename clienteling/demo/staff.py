"""Demo stores, their staff, the managers' group and the superuser."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from clienteling.stores.models import StaffMember, Store

from . import data


@dataclass
class StoreRef:
    """A store as the client generator sees it: ids only, no ORM objects."""

    id: int
    spec: data.StoreSpec
    # (staff member id, user id) of the people who serve clients: associates, stylists.
    floor_staff: list[tuple[int, int]] = field(default_factory=list)
    managers: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Team:
    stores: list[StoreRef]
    story_associate: tuple[int, int]  # (staff member id, user id) of `ava`
    admin_user_id: int


def manager_permissions() -> list[Permission]:
    """The permissions of the Store managers group: data.MANAGER_PERMISSIONS and MANAGER_APPS."""
    wanted = Q(pk__in=[])
    for label, actions in data.MANAGER_PERMISSIONS.items():
        app_label, model = label.split(".")
        wanted |= Q(
            content_type__app_label=app_label,
            content_type__model=model,
            codename__in=[f"{action}_{model}" for action in actions],
        )
    for app_label in data.MANAGER_APPS:
        if apps.is_installed(app_label):
            wanted |= Q(content_type__app_label=app_label, codename__regex=r"^(view|add|change)_")
    return list(Permission.objects.filter(wanted))


def build_team() -> Team:
    """Create the stores, the 36 staff logins, the managers' group and `admin`.

    Every login gets the same password. It is hashed once and the hash shared: hashing
    37 times with the production hasher would take longer than loading 2,000 clients.
    """
    password = make_password(data.DEMO_PASSWORD)
    user_model = get_user_model()
    group, _ = Group.objects.get_or_create(name=data.MANAGERS_GROUP)
    group.permissions.set(manager_permissions())

    admin, _ = user_model.objects.update_or_create(
        username=data.ADMIN_USERNAME,
        defaults={
            "email": "admin@example.com",
            "first_name": "Demo",
            "last_name": "Admin",
            "is_staff": True,
            "is_superuser": True,
            "is_active": True,
            "password": password,
        },
    )

    stores: dict[str, StoreRef] = {}
    for spec in data.STORES:
        store = Store.objects.create(
            name=spec.name,
            code=spec.code,
            time_zone=spec.time_zone,
            address_line=spec.address_line,
            city=spec.city,
            postal_code=spec.postal_code,
            country=spec.country,
            phone=spec.phone,
        )
        stores[spec.code] = StoreRef(id=store.pk, spec=spec)

    story_associate: tuple[int, int] | None = None
    for staff_spec in data.STAFF:
        is_manager = staff_spec.role == StaffMember.Role.MANAGER
        user, _ = user_model.objects.update_or_create(
            username=staff_spec.username,
            defaults={
                "first_name": staff_spec.first_name,
                "last_name": staff_spec.last_name,
                "email": f"{staff_spec.username}@example.com",
                # Managers work in the Django admin; the others only in the app's pages.
                "is_staff": is_manager,
                "is_superuser": False,
                "is_active": True,
                "password": password,
            },
        )
        if is_manager:
            user.groups.add(group)
        member = StaffMember.objects.create(
            user=user,
            store_id=stores[staff_spec.store_code].id,
            role=staff_spec.role,
            employee_code=staff_spec.employee_code,
        )
        ref = stores[staff_spec.store_code]
        (ref.managers if is_manager else ref.floor_staff).append((member.pk, user.pk))
        if staff_spec.username == data.STORY_ASSOCIATE:
            story_associate = (member.pk, user.pk)
    if story_associate is None:
        raise LookupError(f"data.STAFF has no {data.STORY_ASSOCIATE!r}, the story associate.")
    return Team(
        stores=list(stores.values()), story_associate=story_associate, admin_user_id=admin.pk
    )
