"""Who manages which store in the admin: the one rule every store-owned admin applies.

Superusers see everything. A store manager (a staff user whose StaffMember role is
manager) sees and edits only the rows of their store: lists, change pages (another
store's row is "not found"), autocomplete, and the choices of foreign keys in forms (a
manager cannot point a row at another store's client or room). Anyone else: nothing.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import StaffMember


def managed_store_ids(user) -> list[int] | None:
    """The stores this person manages in the admin; None means every store."""
    if not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return None
    staff = StaffMember.objects.filter(user_id=user.pk).only("store_id", "role").first()
    if staff is None or not staff.is_manager:
        return []
    return [staff.store_id]


def _stores(request: HttpRequest) -> list[int] | None:
    # Once per request: list pages, forms and autocomplete all ask.
    if not hasattr(request, "_managed_store_ids"):
        request._managed_store_ids = managed_store_ids(request.user)
    return request._managed_store_ids


class StoreScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose rows belong to a store through `store_path` (e.g. "store",
    "home_store", "room__store"; "pk" for the Store itself). `store_path = None`: rows of
    no store in particular that only superusers may see (bounced addresses)."""

    store_path = "store"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        stores = _stores(request)
        if stores is None:
            return queryset
        if self.store_path is None:
            return queryset.none()
        return queryset.filter(**{f"{self.store_path}__in": stores})

    def _scoped_choices(self, db_field, request, kwargs):
        related = self.admin_site._registry.get(db_field.related_model)
        if isinstance(related, StoreScopedAdmin) and _stores(request) is not None:
            kwargs["queryset"] = related.get_queryset(request)
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(
            db_field, request, **self._scoped_choices(db_field, request, kwargs)
        )
