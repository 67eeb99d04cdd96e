from django.contrib import admin
from django.db import models
from django.utils.html import format_html
from import_export.admin import ImportMixin

from clienteling.stores.scoping import ReadOnlyAdminMixin, StoreScopedAdmin

from . import services
from .imports import CatalogResource, StockResource
from .models import Brand, Category, Product, Stock, Variant


class _FeedImportMixin(ImportMixin):
    """CSV import with a preview; the rows go through the feed services (see imports)."""

    # The feed's own rows are the record; import-export's log entries would need instances.
    skip_admin_log = True

    def has_import_permission(self, request) -> bool:
        return request.user.is_superuser or request.user.has_perm(self.import_permission)


class VariantInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Variant
    fields = ["sku", "size", "colour", "barcode"]
    readonly_fields = fields
    extra = 0


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
class ProductAdmin(_FeedImportMixin, admin.ModelAdmin):
    resource_classes = [CatalogResource]
    import_permission = "catalog.change_product"
    inlines = [VariantInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
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
    list_filter = [
        "in_stock",
        "is_active",
        "category",
        "brand",
        ("image_error", admin.EmptyFieldListFilter),
    ]
    list_select_related = ["brand", "category"]
    search_fields = ["name", "sku", "variants__sku", "variants__barcode"]
    autocomplete_fields = ["brand", "category"]
    readonly_fields = ["picture", "image_error", "created_at", "updated_at"]
    actions = ["remake_thumbnails"]

    @admin.display(description="")
    def picture(self, obj: Product) -> str:
        if obj.image_error:
            # Why the feed's picture was not used, where the picture would be.
            return format_html(
                '<span title="{}">No picture: {}</span>', obj.image_error, obj.image_error
            )
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


@admin.register(Stock)
class StockAdmin(_FeedImportMixin, ReadOnlyAdminMixin, StoreScopedAdmin):
    """Counts come from the feeds (API, CSV import, connectors): read-only here."""

    resource_classes = [StockResource]
    import_permission = "catalog.view_stock"
    list_display = ["variant", "product", "store", "quantity", "counted_at"]
    list_select_related = ["variant__product", "store"]
    list_filter = ["store"]
    search_fields = ["=variant__sku", "variant__product__name"]
    show_full_result_count = False

    @admin.display(description="product", ordering="variant__product__name")
    def product(self, obj: Stock) -> str:
        return obj.variant.product.name
