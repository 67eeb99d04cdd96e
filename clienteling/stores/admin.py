import segno
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .models import StaffMember, Store
from .scoping import StoreScopedAdmin
from .services import sessions_end_for_user, staff_deactivate

User = get_user_model()


class StaffInline(admin.TabularInline):
    model = StaffMember
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "employee_code"]


@admin.register(Store)
class StoreAdmin(StoreScopedAdmin):
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
        url = settings.SITE_URL.rstrip("/") + reverse("signup", args=[obj.signup_token])
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
