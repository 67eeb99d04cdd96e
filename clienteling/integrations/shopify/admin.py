"""Connect a shop, map its locations to stores, and see its last sync and what was refused.

The access token and the webhook secret are write-only: the form never shows them back
(an empty box keeps what is stored), and no list or page prints them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from clienteling.stores.scoping import (
    ReadOnlyAdminMixin,
    StoreScopedAdmin,
    StoreScopedTabularInline,
)

from .models import LocationStore, ShopConnection, SyncRun, WebhookDelivery

SECRET_HELP = "Write-only: never shown again. Leave empty to keep the one stored."  # noqa: S105


class ShopConnectionForm(forms.ModelForm):
    access_token = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="The Admin API access token (read_customers, read_orders, read_products, "
        "read_inventory). " + SECRET_HELP,
    )
    webhook_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="The app's client secret, which signs its webhooks. " + SECRET_HELP,
    )

    storefront_url = forms.URLField(
        required=False,
        assume_scheme="https",
        help_text="The shop's public address for product links; empty: the domain.",
    )

    class Meta:
        model = ShopConnection
        fields = [
            "shop_domain",
            "store",
            "access_token",
            "webhook_secret",
            "storefront_url",
            "is_active",
        ]

    def clean_shop_domain(self) -> str:
        return self.cleaned_data["shop_domain"].strip().lower().removeprefix("https://").rstrip("/")

    def clean(self):
        cleaned = super().clean()
        for name in ("access_token", "webhook_secret"):
            # Empty keeps the stored secret: the box is never filled in with it.
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(
                    ShopConnection.objects.only(name).get(pk=self.instance.pk), name
                )
        return cleaned


class LocationStoreInline(StoreScopedTabularInline):
    model = LocationStore
    extra = 1
    raw_id_fields = ["store"]
    verbose_name = "location → store"
    verbose_name_plural = "Shopify locations and the stores they are"


@admin.register(ShopConnection)
class ShopConnectionAdmin(StoreScopedAdmin):
    """A manager sees and connects the shops of their store; superusers every shop."""

    store_path = "store"
    form = ShopConnectionForm
    list_display = ["shop_domain", "store", "is_active", "last_sync", "webhook_url"]
    list_select_related = ["store"]
    raw_id_fields = ["store"]
    inlines = [LocationStoreInline]
    readonly_fields = ["webhook_url", "last_sync", "last_errors"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("syncs")

    @admin.display(description="webhook address")
    def webhook_url(self, obj: ShopConnection) -> str:
        return reverse("shopify-webhook")

    @admin.display(description="last sync")
    def last_sync(self, obj: ShopConnection) -> str:
        run = next(iter(obj.syncs.all()), None) if obj.pk else None
        if run is None:
            return "never"
        counts = ", ".join(f"{name} {saved}" for name, saved in run.counts.items()) or "nothing"
        state = f"stopped: {run.failure}" if run.failure else "finished"
        if run.finished_at is None:
            state = "running"
        return (
            f"{run.started_at:%Y-%m-%d %H:%M} — {state}; saved {counts}; {len(run.errors)} refused"
        )

    @admin.display(description="latest refusals")
    def last_errors(self, obj: ShopConnection) -> str:
        if not obj.pk:
            return "—"
        run = obj.syncs.first()
        rows = [
            (f"sync {run.started_at:%Y-%m-%d}", error.get("ref"), error.get("errors"))
            for error in (run.errors[:10] if run else [])
        ]
        deliveries = WebhookDelivery.objects.filter(connection=obj).exclude(errors=[])[:10]
        rows += [
            (f"{d.topic} {d.received_at:%Y-%m-%d %H:%M}", e.get("ref"), e.get("errors"))
            for d in deliveries
            for e in d.errors[:3]
        ]
        if not rows:
            return "none"
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{}: {} — {}</li>", ((a, b or "", c) for a, b, c in rows)),
        )


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdminMixin, StoreScopedAdmin):
    store_path = "connection__store"
    list_display = ["connection", "started_at", "finished_at", "counts", "refused", "failure"]
    list_select_related = ["connection"]
    list_filter = ["connection"]

    @admin.display(description="refused")
    def refused(self, obj: SyncRun) -> int:
        return len(obj.errors)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, StoreScopedAdmin):
    store_path = "connection__store"
    list_display = ["received_at", "connection", "topic", "outcome"]
    list_select_related = ["connection"]
    list_filter = ["outcome", "topic"]
    search_fields = ["webhook_id"]
    show_full_result_count = False
