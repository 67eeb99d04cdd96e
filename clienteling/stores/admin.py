from django.contrib import admin

from .models import StaffMember, Store


class StaffInline(admin.TabularInline):
    model = StaffMember
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "employee_code"]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "city", "time_zone", "is_active"]
    list_filter = ["is_active", "country"]
    search_fields = ["name", "code", "city"]
    prepopulated_fields = {"code": ["name"]}
    inlines = [StaffInline]


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ["display_name", "role", "store", "employee_code", "is_active"]
    list_filter = ["role", "store"]
    list_select_related = ["user", "store"]
    search_fields = ["user__first_name", "user__last_name", "user__username", "employee_code"]
    autocomplete_fields = ["user", "store"]

    @admin.display(description="name", ordering="user__first_name")
    def display_name(self, obj: StaffMember) -> str:
        return obj.display_name

    @admin.display(description="active", boolean=True, ordering="user__is_active")
    def is_active(self, obj: StaffMember) -> bool:
        return obj.user.is_active
