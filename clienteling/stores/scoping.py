"""Who manages which store in the admin: the one rule every store-owned admin applies.

Superusers see everything. A store manager (a staff user whose StaffMember role is
manager) sees and edits only the rows of their store: lists, change pages (another
store's row is "not found"), autocomplete, and the choices of foreign keys in forms (a
manager cannot point a row at another store's client or room). Anyone else: nothing.

Forms never name a row out of scope either: not beside a raw id, not as an autocomplete
choice, not from an id in an add page's query string, not when a refused form is shown
again, and not in an inline (`StoreScopedTabularInline`, `StoreScopedStackedInline`).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import widgets
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import StaffMember
from .refusals import access_refused


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


class ScopedRawIdWidget(widgets.ForeignKeyRawIdWidget):
    """A raw-id input whose label (the related row's name, printed next to the id) is
    looked up among the rows the user may see. Django's widget reads the whole table, so
    `?customer=<id>` on an add page, or a refused POST shown again, printed the full
    name of any store's client: here an id out of scope gets no label at all."""

    def __init__(self, rel, admin_site, attrs=None, using=None, *, queryset: QuerySet) -> None:
        super().__init__(rel, admin_site, attrs, using)
        self.queryset = queryset

    def label_and_url_for_value(self, value) -> tuple[str, str]:
        key = self.rel.get_related_field().name
        try:
            in_scope = self.queryset.using(self.db).filter(**{key: value}).exists()
        except (ValueError, TypeError, ValidationError):
            return "", ""
        if not in_scope:
            return "", ""
        return super().label_and_url_for_value(value)


class StoreScopedFields:
    """Foreign keys of a store-scoped form (an admin's or an inline's) reach only rows the
    user may see: the choices (so another store's row is refused on save), the raw-id
    label and the autocomplete label (so its name is not shown either). A target is
    scoped when its own admin is a StoreScopedAdmin: that admin's queryset is the scope."""

    def _scoped_queryset(self, db_field, request: HttpRequest) -> QuerySet | None:
        related = self.admin_site._registry.get(db_field.related_model)
        if isinstance(related, StoreScopedAdmin) and _stores(request) is not None:
            return related.get_queryset(request)
        return None

    def _scoped_choices(self, db_field, request: HttpRequest, kwargs: dict) -> dict:
        queryset = self._scoped_queryset(db_field, request)
        if queryset is not None:
            kwargs["queryset"] = queryset
            if "widget" not in kwargs and db_field.name in self.raw_id_fields:
                kwargs["widget"] = ScopedRawIdWidget(
                    db_field.remote_field,
                    self.admin_site,
                    using=kwargs.get("using"),
                    queryset=queryset,
                )
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(
            db_field, request, **self._scoped_choices(db_field, request, kwargs)
        )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # Many-to-many raw-id inputs print no label; the choices still need scoping.
        queryset = self._scoped_queryset(db_field, request)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class StoreScopedAdmin(StoreScopedFields, admin.ModelAdmin):
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

    def get_object(self, request, object_id, from_field=None):
        """The row if it is in scope; None (the admin's "doesn't exist") otherwise. A row
        that exists outside the manager's store is a refused access, and recorded."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None and _stores(request) is not None:
            field = self.model._meta.get_field(from_field) if from_field else self.model._meta.pk
            try:
                value = field.to_python(object_id)
                exists = self.model._default_manager.filter(**{field.name: value}).exists()
            except (ValidationError, ValueError, TypeError):
                return None
            if exists:
                access_refused(
                    request, target=str(self.model._meta.verbose_name), ref=value, where="admin"
                )
        return obj

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        """The add form's values from the query string, less any that point at a row out of
        scope (`?customer=<another store's client>`): the form would otherwise be drawn
        around that row, and the select or raw-id label would name it."""
        initial = super().get_changeform_initial_data(request)
        if _stores(request) is None:
            return initial
        for name, value in list(initial.items()):
            try:
                field = self.opts.get_field(name)
            except FieldDoesNotExist:
                continue
            if not (field.is_relation and field.concrete):
                continue
            queryset = self._scoped_queryset(field, request)
            if queryset is None:
                continue
            values = {str(item) for item in (value if isinstance(value, list) else [value])}
            values.discard("")
            key = field.target_field.name
            try:
                found = queryset.filter(**{f"{key}__in": values}).count()
            except (ValueError, TypeError, ValidationError):
                found = -1
            if found != len(values):
                del initial[name]
        return initial


class StoreScopedInlineMixin(StoreScopedFields):
    """For the inlines of a StoreScopedAdmin: their own foreign keys (besides the parent,
    which is in scope already) are scoped like the admin's."""


class StoreScopedTabularInline(StoreScopedInlineMixin, admin.TabularInline):
    pass


class StoreScopedStackedInline(StoreScopedInlineMixin, admin.StackedInline):
    pass


class ReadOnlyAdminMixin:
    """Rows written only by the app's services (the point of sale's orders, a trail, files
    with secrets): the admin shows them and never adds, edits or deletes one, for
    superusers too. An admin action that changes them calls a service."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
