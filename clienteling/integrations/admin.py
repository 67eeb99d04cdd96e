from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from clienteling.stores.scoping import StoreScopedAdmin

from .models import IntegrationToken, Scope


class IssueTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, initial=[Scope.ORDERS_WRITE]
    )

    class Meta:
        model = IntegrationToken
        fields = ["name", "user", "store", "scopes", "expires_at"]


@admin.register(IntegrationToken)
class IntegrationTokenAdmin(StoreScopedAdmin):
    # A till's key belongs to its store: a manager sees their store's keys; keys of no
    # store in particular (the retailer's systems) only superusers see.
    store_path = "store"
    list_display = [
        "name",
        "prefix",
        "user",
        "store",
        "scope_list",
        "created_at",
        "last_used_at",
        "state",
    ]
    list_filter = ["revoked_at"]
    list_select_related = ["user", "store"]
    search_fields = ["name", "prefix", "user__username"]
    raw_id_fields = ["user", "store"]
    actions = ["revoke"]
    # The digest is never shown: it is of no use to a person, and the key is gone.
    readonly_fields = [
        "name",
        "user",
        "store",
        "prefix",
        "scopes",
        "created_at",
        "created_by",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = IssueTokenForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj else ["name", "user", "store", "scopes", "expires_at"]

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return  # tokens are issued or revoked, never edited
        token, key = IntegrationToken.issue(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            scopes=list(form.cleaned_data["scopes"]),
            created_by=request.user,
            expires_at=form.cleaned_data.get("expires_at"),
            store=form.cleaned_data.get("store"),
        )
        obj.pk = token.pk
        obj._state.adding = False
        messages.warning(
            request,
            f"The key of “{token.name}”, shown this once (copy it into the integration now): {key}",
        )

    @admin.display(description="scopes")
    def scope_list(self, obj: IntegrationToken) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description="state")
    def state(self, obj: IntegrationToken) -> str:
        if obj.revoked_at:
            return f"revoked {obj.revoked_at:%Y-%m-%d}"
        if obj.expires_at and obj.expires_at <= timezone.now():
            return "expired"
        return "active"

    @admin.action(description="Revoke (the key stops working at once)")
    def revoke(self, request, queryset) -> None:
        revoked = sum(token.revoke() for token in queryset)
        self.message_user(request, f"{revoked} key(s) revoked.")
