import segno
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from clienteling.core.http import LinkRootAdminMixin, row_link

from .models import RefusedAccess, SecurityAlert, StaffMember, Store
from .scoping import ReadOnlyAdminMixin, StoreScopedAdmin
from .services import sessions_end_for_user, staff_deactivate

User = get_user_model()


class StaffInline(admin.TabularInline):
    model = StaffMember
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "employee_code"]


@admin.register(Store)
class StoreAdmin(LinkRootAdminMixin, StoreScopedAdmin):
    store_path = "pk"
    list_display = ["name", "code", "city", "time_zone", "is_active"]
    list_filter = ["is_active", "country"]
    search_fields = ["name", "code", "city"]
    prepopulated_fields = {"code": ["name"]}
    readonly_fields = ["signup_code"]
    inlines = [StaffInline]
    actions = ["rotate_signup_links"]

    @admin.display(description="self sign-up QR code (print it for the counter)")
    def signup_code(self, obj: Store) -> str:
        if not obj.pk:
            return "Save the store first."
        # The sign-up page lives in customers/, above this layer: looked up by URL name.
        url = row_link(obj, reverse("signup", args=[obj.signup_token]))
        svg = segno.make(url, error="m").svg_inline(scale=4)
        return format_html('<div>{}</div><p><a href="{}">{}</a></p>', mark_safe(svg), url, url)  # noqa: S308

    @admin.action(description="Rotate the sign-up link (old QR prints stop working)")
    def rotate_signup_links(self, request, queryset):
        for store in queryset:
            store.rotate_signup_token()
        self.message_user(
            request, f"New sign-up links for {queryset.count()} store(s). Print the new QR codes."
        )


@admin.register(StaffMember)
class StaffMemberAdmin(StoreScopedAdmin):
    list_display = ["display_name", "role", "store", "employee_code", "is_active"]
    list_filter = ["role", "store"]
    list_select_related = ["user", "store"]
    search_fields = ["user__first_name", "user__last_name", "user__username", "employee_code"]
    autocomplete_fields = ["user", "store"]
    actions = ["deactivate"]

    @admin.action(description="Deactivate and sign out everywhere (they left the store)")
    def deactivate(self, request, queryset):
        ended = sum(staff_deactivate(staff=staff) for staff in queryset.select_related("user"))
        self.message_user(
            request, f"{queryset.count()} account(s) switched off; {ended} session(s) ended."
        )

    @admin.display(description="name", ordering="user__first_name")
    def display_name(self, obj: StaffMember) -> str:
        return obj.display_name

    @admin.display(description="active", boolean=True, ordering="user__is_active")
    def is_active(self, obj: StaffMember) -> bool:
        return obj.user.is_active


# Users: switching an account off in the admin also ends its sessions on the server.
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            ended = sessions_end_for_user(user_id=obj.pk)
            self.message_user(request, f"{obj.get_username()} is signed out ({ended} session(s)).")


# --- Refused access and security alerts (clienteling.stores.refusals) ----------------------


@admin.register(RefusedAccess)
class RefusedAccessAdmin(ReadOnlyAdminMixin, StoreScopedAdmin):
    """What the store's staff asked for and were refused (another store's records)."""

    list_display = ["at", "actor", "target", "target_ref", "where", "repeats", "ip_address"]
    list_filter = ["where", "target"]
    list_select_related = ["actor"]
    search_fields = ["actor__username", "target_ref"]
    date_hierarchy = "at"
    show_full_result_count = False


class OpenFilter(admin.SimpleListFilter):
    """Alerts waiting for a look first; the reviewed ones a click away."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("reviewed", "Reviewed"), ("all", "All")]

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] == "All":
                continue  # "all" is one of the lookups, listed once
            yield choice

    def queryset(self, request, queryset):
        value = self.value() or "open"
        if value == "open":
            return queryset.filter(reviewed_at__isnull=True)
        if value == "reviewed":
            return queryset.filter(reviewed_at__isnull=False)
        return queryset


@admin.register(SecurityAlert)
class SecurityAlertAdmin(StoreScopedAdmin):
    """One person was refused many different records within a few minutes."""

    list_display = [
        "opened_at",
        "actor",
        "distinct_targets",
        "refusals",
        "last_at",
        "reviewed_at",
        "refused_list",
    ]
    list_filter = [OpenFilter]
    list_select_related = ["actor"]
    readonly_fields = [
        "actor",
        "store",
        "opened_at",
        "last_at",
        "distinct_targets",
        "refusals",
        "reviewed_at",
        "reviewed_by",
        "refused_list",
    ]
    actions = ["mark_reviewed"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="what was refused")
    def refused_list(self, obj: SecurityAlert) -> str:
        url = reverse("admin:stores_refusedaccess_changelist")
        return format_html(
            '<a href="{}?actor__id__exact={}">See each refusal</a>', url, obj.actor_id
        )

    @admin.action(description="Mark reviewed", permissions=["change"])
    def mark_reviewed(self, request, queryset):
        reviewed = queryset.filter(reviewed_at__isnull=True).update(
            reviewed_at=timezone.now(), reviewed_by=request.user
        )
        self.message_user(request, f"{reviewed} alert(s) marked reviewed.")
