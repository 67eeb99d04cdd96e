from django.contrib import admin
from django.utils.html import format_html

from . import services
from .models import Brand, Category, Product


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "slug"]
    list_select_related = ["parent"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "picture",
        "name",
        "sku",
        "brand",
        "category",
        "price",
        "replenish_after_days",
        "in_stock",
    ]
    list_display_links = ["picture", "name"]
    list_filter = ["in_stock", "is_active", "category", "brand"]
    list_select_related = ["brand", "category"]
    search_fields = ["name", "sku"]
    autocomplete_fields = ["brand", "category"]
    readonly_fields = ["picture", "created_at", "updated_at"]
    actions = ["remake_thumbnails"]

    @admin.display(description="")
    def picture(self, obj: Product) -> str:
        if not obj.image_url:
            return ""
        return format_html(
            '<img src="{}" alt="" width="48" height="48" style="object-fit:cover">', obj.image_url
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "image" in form.changed_data and obj.image:
            services.product_image_changed(product=obj)

    @admin.action(description="Remake thumbnails")
    def remake_thumbnails(self, request, queryset):
        count = 0
        for product in queryset.exclude(image=""):
            services.product_image_changed(product=product)
            count += 1
        self.message_user(
            request, f"{count} thumbnail{'s' if count != 1 else ''} will be remade in a moment."
        )
