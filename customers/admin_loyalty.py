"""The admin of offers and points: what a manager sets (offers, points rules) and what the
app writes (the offers open for clients, the points ledger), read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from clienteling.stores.scoping import ReadOnlyAdminMixin, StoreScopedAdmin, managed_store_ids

from .models import ClientOffer, Offer, PointsMovement, PointsRule


class _StoreRequiredForManagers:
    """A manager's offer or rule belongs to a store they manage: "every store" (an empty
    store) is for the people who run every store, or it would vanish from the manager's
    own list once saved."""

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if managed_store_ids(request.user) is not None and "store" in form.base_fields:
            form.base_fields["store"].required = True
            form.base_fields["store"].empty_label = None
        return form


@admin.register(Offer)
class OfferAdmin(_StoreRequiredForManagers, StoreScopedAdmin):
    """Always-on offers: a trigger, who is eligible, the reward, validity and a limit per
    client, and the holdout that measures what it adds. Clients who turned offers down
    never get one, whatever is set here."""

    list_display = [
        "name",
        "code",
        "trigger",
        "reward",
        "store",
        "is_active",
        "paused_at",
        "valid_until",
    ]
    list_filter = ["trigger", "reward", "is_active"]
    list_select_related = ["store"]
    search_fields = ["name", "=code"]
    autocomplete_fields = ["store"]
    raw_id_fields = [
        "trigger_category",
        "bought_category",
        "not_bought_category",
        "reward_category",
    ]
    readonly_fields = ["below_zero_since", "paused_at", "pause_reason", "created_at"]
    fieldsets = [
        (None, {"fields": ["name", "code", "description", "store", "is_active"]}),
        (
            "What opens it",
            {"fields": ["trigger", "trigger_category", "trigger_tier", "lapse_factor"]},
        ),
        (
            "Who is eligible",
            {
                "description": "A client who turned offers down never gets one.",
                "fields": [
                    "min_lifetime_value",
                    "bought_category",
                    "bought_at_least",
                    "not_bought_category",
                    "active_within_days",
                ],
            },
        ),
        (
            "Reward",
            {
                "fields": [
                    "reward",
                    "reward_multiplier",
                    "reward_category",
                    "reward_amount",
                    "reward_gift",
                ]
            },
        ),
        (
            "Validity and limit",
            {"fields": ["valid_from", "valid_until", "valid_days", "limit_per_client"]},
        ),
        (
            "Measure",
            {
                "fields": [
                    "holdout_percent",
                    "pause_after_days",
                    "below_zero_since",
                    "paused_at",
                    "pause_reason",
                    "created_at",
                ]
            },
        ),
    ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "description" and field is not None:
            field.widget = forms.TextInput(attrs={"size": 80})
        return field


@admin.register(PointsRule)
class PointsRuleAdmin(_StoreRequiredForManagers, StoreScopedAdmin):
    """Points per dollar: the most precise rule wins (a store's category, the store, a
    category everywhere, then everything)."""

    list_display = ["__str__", "store", "category", "points_per_dollar", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["store", "category"]
    autocomplete_fields = ["store"]
    raw_id_fields = ["category"]


@admin.register(ClientOffer)
class ClientOfferAdmin(ReadOnlyAdminMixin, StoreScopedAdmin):
    """Offers open for a client, opened by their trigger (never by hand): read here."""

    store_path = "customer__home_store"
    list_display = ["offer", "customer", "status", "opened_at", "valid_until", "redeemed_at"]
    list_filter = ["status", "offer"]
    list_select_related = ["offer", "customer"]
    raw_id_fields = ["customer", "redeemed_order", "redeemed_line"]
    show_full_result_count = False


@admin.register(PointsMovement)
class PointsMovementAdmin(ReadOnlyAdminMixin, StoreScopedAdmin):
    """The points ledger: earned on orders, offer bonuses, the till's redemptions and
    adjustments (through the API)."""

    store_path = "customer__home_store"
    list_display = ["at", "customer", "kind", "points", "order", "store", "external_id"]
    list_filter = ["kind"]
    list_select_related = ["customer", "order", "store"]
    raw_id_fields = ["customer", "order", "client_offer"]
    search_fields = ["=external_id"]
    show_full_result_count = False
