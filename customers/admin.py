from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from clienteling.core.errors import ApplicationError
from clienteling.stores.scoping import (
    ReadOnlyAdminMixin,
    StoreScopedAdmin,
    StoreScopedStackedInline,
    StoreScopedTabularInline,
)

from . import (
    admin_loyalty,  # noqa: F401 (registers offers and points)
    services,
)
from .models import (
    AuditEvent,
    AutomationRule,
    Bounce,
    ConsentEvent,
    Contact,
    ContactPreferences,
    Customer,
    EngagementEvent,
    Message,
    MessageTemplate,
    MessageTemplateVariant,
    Note,
    Order,
    OrderLine,
    Preference,
    Reason,
    Recommendation,
    Selection,
    SelectionItem,
    Size,
    Source,
)
from .services import audit_record, consent_check, consent_record, render_template_text
from .services.wording import FAMILIES as WORDING_FAMILIES
from .services.wording import wording_samples

# What a consent taken down by staff (at the counter, on the phone, in the admin) is
# recorded as: the person who took it answers for it, by name, in `recorded_by`.
STAFF_CONSENT_SOURCE = Source.ASSOCIATE


class ConsentEventForm(forms.ModelForm):
    """A new consent as a member of staff takes it down: the channel, yes or no, and the
    words the client agreed to. The source, the time and the person are the service's."""

    class Meta:
        model = ConsentEvent
        fields = ["customer", "channel", "granted", "wording"]
        help_texts = {
            "wording": "The words the client agreed to. Left empty for a grant: the store's "
            "standard sentence for the channel, as the counter shows it."
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            # Shown read-only beside the form: what will be recorded.
            self.instance.source = STAFF_CONSENT_SOURCE

    def clean(self) -> dict:
        cleaned = super().clean()
        customer = cleaned.get("customer")
        if customer is None and self.instance.customer_id:
            customer = self.instance.customer  # an inline row: the client of the page
        if not cleaned.get("channel"):
            return cleaned
        try:
            consent_check(
                customer=customer, channel=cleaned["channel"], source=STAFF_CONSENT_SOURCE
            )
        except ApplicationError as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned


def _record_staff_consent(
    request: HttpRequest, *, customer: Customer, form_event: ConsentEvent
) -> ConsentEvent:
    """The admin's one way to write consent: through the service, with its audit row."""
    return consent_record(
        customer=customer,
        channel=form_event.channel,
        granted=form_event.granted,
        source=STAFF_CONSENT_SOURCE,
        wording=form_event.wording,
        by=request.user,
    )


class ConsentEventInline(StoreScopedTabularInline):
    """Consent history is append-only: new rows can be added, none changed or removed.
    Rows already recorded are shown read-only, without a delete box."""

    model = ConsentEvent
    form = ConsentEventForm
    extra = 0
    fields = ["channel", "granted", "wording", "source", "recorded_at", "recorded_by"]
    readonly_fields = ["source", "recorded_at", "recorded_by"]
    ordering = ["-recorded_at"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ContactPreferencesInline(StoreScopedStackedInline):
    model = ContactPreferences
    can_delete = False


class SizeInline(StoreScopedTabularInline):
    model = Size
    extra = 0
    autocomplete_fields = ["category"]


class PreferenceInline(StoreScopedTabularInline):
    model = Preference
    extra = 0
    autocomplete_fields = ["brand", "category"]


class NoteAdminForm(forms.ModelForm):
    """The note service's own rules (not empty, not too long), as a form error."""

    def clean_text(self) -> str:
        try:
            return services.note_text_clean(self.cleaned_data.get("text", ""))
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from error


class NoteInline(StoreScopedTabularInline):
    model = Note
    form = NoteAdminForm
    extra = 0
    fields = ["text", "pinned", "author", "created_at"]
    readonly_fields = ["author", "created_at"]


@admin.register(Customer)
class CustomerAdmin(StoreScopedAdmin):
    store_path = "home_store"
    # Names and money only on the list: contact details stay on the detail page.
    list_display = [
        "full_name",
        "home_store",
        "assigned_to",
        "tier",
        "lifetime_value",
        "last_purchase_at",
    ]
    list_filter = ["tier", "home_store", "joined_via"]
    list_select_related = ["home_store", "assigned_associate__user"]
    search_fields = [
        "first_name",
        "last_name",
        "=email",
        "=phone",
        "=pos_customer_id",
        "=ecommerce_customer_id",
    ]
    autocomplete_fields = ["home_store", "assigned_associate"]
    readonly_fields = [
        "lifetime_value",
        "order_count",
        "first_purchase_at",
        "last_purchase_at",
        "orders_link",
        "created_at",
        "updated_at",
    ]
    # Counting every match on a large table costs more than the page itself.
    show_full_result_count = False
    inlines = [
        ContactPreferencesInline,
        ConsentEventInline,
        SizeInline,
        PreferenceInline,
        NoteInline,
    ]
    fieldsets = [
        (
            None,
            {"fields": ["first_name", "last_name", "email", "phone", "birthday", "anniversary"]},
        ),
        (
            "Store",
            {
                "fields": [
                    "home_store",
                    "assigned_associate",
                    "tier",
                    "joined_via",
                    "joined_at",
                    "time_zone",
                ]
            },
        ),
        ("In their own words", {"fields": ["situation", "situation_updated_at"]}),
        (
            "Purchases",
            {
                "fields": [
                    "lifetime_value",
                    "order_count",
                    "first_purchase_at",
                    "last_purchase_at",
                    "orders_link",
                ]
            },
        ),
        (
            "Integrations",
            {"fields": ["pos_customer_id", "ecommerce_customer_id", "created_at", "updated_at"]},
        ),
    ]

    @admin.display(description="name", ordering="last_name")
    def full_name(self, obj: Customer) -> str:
        return obj.full_name

    @admin.display(description="associate", ordering="assigned_associate__user__first_name")
    def assigned_to(self, obj: Customer) -> str:
        return obj.assigned_associate.display_name if obj.assigned_associate else "—"

    @admin.display(description="orders")
    def orders_link(self, obj: Customer) -> str:
        url = reverse("admin:customers_order_changelist") + f"?customer__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">{} order{}</a>', url, obj.order_count, "" if obj.order_count == 1 else "s"
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        # Opening a client's page shows their details, as the card does: audited alike.
        # Only a page actually shown counts (another store's client is a redirect, and
        # recorded as refused elsewhere); a POST is a save, not a look.
        if request.method == "GET" and response.status_code == 200:
            customer = (getattr(response, "context_data", None) or {}).get("original")
            if isinstance(customer, Customer):
                audit_record(
                    request=request,
                    action=AuditEvent.Action.VIEW,
                    customer=customer,
                    detail={"where": "admin"},
                )
        return response

    def save_formset(self, request, form, formset, change):
        if formset.model is ConsentEvent:
            # Never saved as rows: each new consent goes through the service, which
            # writes its audit row too. Rows already recorded cannot change (no change
            # or delete permission), so only the new ones are looked at.
            new_events = [event for event in formset.save(commit=False) if event.pk is None]
            formset.new_objects = [
                _record_staff_consent(request, customer=form.instance, form_event=event)
                for event in new_events
            ]
            formset.changed_objects, formset.deleted_objects = [], []
            return
        if formset.model is Note:
            # Notes are written by the same services as on the card.
            for instance in formset.save(commit=False):
                _save_note(request, instance, customer=form.instance)
            for obj in formset.deleted_objects:
                obj.delete()
            return
        super().save_formset(request, form, formset, change)


@admin.register(ConsentEvent)
class ConsentEventAdmin(StoreScopedAdmin):
    """The consent history: new consents are added (through the service, audited); none
    is ever changed or deleted, by a manager or a superuser."""

    store_path = "customer__home_store"
    form = ConsentEventForm
    list_display = ["customer", "channel", "granted", "source", "recorded_at", "recorded_by"]
    list_filter = ["channel", "granted", "source"]
    list_select_related = ["customer", "recorded_by"]
    raw_id_fields = ["customer"]
    fields = ["customer", "channel", "granted", "wording", "source", "recorded_at", "recorded_by"]
    readonly_fields = ["source", "recorded_at", "recorded_by"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return  # never: there is no change permission, whoever asks
        event = _record_staff_consent(request, customer=obj.customer, form_event=obj)
        # The admin goes on with `obj` (its log entry, the redirect): make it the row saved.
        for field in ConsentEvent._meta.concrete_fields:
            setattr(obj, field.attname, getattr(event, field.attname))
        obj._state.adding, obj._state.db = False, event._state.db


class OrderLineInline(ReadOnlyAdminMixin, StoreScopedTabularInline):
    model = OrderLine
    extra = 0
    fields = [
        "line_number",
        "product",
        "quantity",
        "unit_price",
        "line_total",
        "size",
        "colour",
        # An offer's code the till sent, and whether it redeemed the offer (or why not).
        "offer_code",
        "offer_note",
    ]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, StoreScopedAdmin):
    """Orders come from the point of sale and the web shop (the API, which keeps totals,
    tiers and reasons in step): read here, corrected at their source."""

    store_path = "customer__home_store"
    list_display = [
        "external_id",
        "customer",
        "channel",
        "store",
        "placed_at",
        "total",
        "status",
        "shipment_status",
        "alteration_status",
    ]
    list_filter = ["channel", "status", "shipment_status", "alteration_status", "store"]
    list_select_related = ["customer", "store"]
    search_fields = ["=external_id", "=tracking_number"]
    raw_id_fields = ["customer"]
    autocomplete_fields = ["store", "associate"]
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False
    inlines = [OrderLineInline]


@admin.register(EngagementEvent)
class EngagementEventAdmin(ReadOnlyAdminMixin, StoreScopedAdmin):
    store_path = "customer__home_store"
    list_display = ["occurred_at", "kind", "customer", "product", "source"]
    list_filter = ["kind", "source"]
    list_select_related = ["customer", "product"]
    raw_id_fields = ["customer", "product"]
    show_full_result_count = False


@admin.register(Note)
class NoteAdmin(StoreScopedAdmin):
    store_path = "customer__home_store"
    list_display = ["customer", "short_text", "pinned", "author", "created_at"]
    list_filter = ["pinned"]
    list_select_related = ["customer", "author"]
    raw_id_fields = ["customer"]
    readonly_fields = ["author", "created_at", "updated_at"]
    show_full_result_count = False
    form = NoteAdminForm

    @admin.display(description="note")
    def short_text(self, obj: Note) -> str:
        return obj.text[:80]

    def save_model(self, request, obj, form, change):
        saved = _save_note(request, obj, customer=obj.customer)
        obj.pk, obj.author = saved.pk, saved.author


def _save_note(request, note: Note, *, customer: Customer) -> Note:
    """A note added or edited in the admin, through the services the card uses."""
    if note.pk is None:
        return services.note_add(
            customer=customer, author=request.user, text=note.text, pinned=note.pinned
        )
    services.note_set_pinned(note=note, pinned=note.pinned)
    return services.note_update(note=note, text=note.text)


@admin.register(Reason)
class ReasonAdmin(ReadOnlyAdminMixin, StoreScopedAdmin):
    """Reasons are opened and closed by the reasons engine and the associates' work: read
    here; a manager may dismiss some, with a word of why, through the same service."""

    store_path = "customer__home_store"
    list_display = ["customer", "kind", "state", "due_on", "score", "why"]
    list_filter = ["state", "kind"]
    list_select_related = ["customer"]
    search_fields = ["=customer__email", "customer__last_name"]
    show_full_result_count = False
    actions = ["dismiss"]

    def has_dismiss_permission(self, request) -> bool:
        return request.user.has_perm("customers.change_reason")

    @admin.action(description="Dismiss (no longer worth a contact)", permissions=["dismiss"])
    def dismiss(self, request, queryset):
        dismissed = sum(
            services.reason_close(
                reason=reason,
                by=request.user,
                state=Reason.State.DISMISSED,
                closed_note="Dismissed by a manager in the admin.",
            )
            for reason in queryset
        )
        self.message_user(request, f"{dismissed} reason(s) dismissed.")


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdminMixin, StoreScopedAdmin):
    store_path = "customer__home_store"
    list_display = ["occurred_at", "customer", "channel", "direction", "outcome", "staff"]
    list_filter = ["channel", "outcome", "direction"]
    list_select_related = ["customer", "staff"]
    raw_id_fields = ["customer", "reason"]
    readonly_fields = ["staff"]
    show_full_result_count = False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, StoreScopedAdmin):
    store_path = "customer__home_store"
    """The audit trail: managers read and filter it; nobody edits or deletes it."""

    list_display = ["at", "actor", "action", "customer_ref", "ip_address", "path"]
    list_filter = ["action"]
    list_select_related = ["actor"]
    search_fields = ["=customer_ref", "actor__username"]
    show_full_result_count = False


@admin.register(Recommendation)
class RecommendationAdmin(ReadOnlyAdminMixin, StoreScopedAdmin):
    store_path = "customer__home_store"
    list_display = ["customer", "rank", "product", "score", "why", "computed_at"]
    list_select_related = ["customer", "product"]
    raw_id_fields = ["customer", "product"]
    search_fields = ["=customer__id", "product__sku"]
    show_full_result_count = False


def _template_error(text: str, purpose: str) -> str:
    """Why a template's text cannot render (with its purpose's samples), or ""."""
    try:
        render_template_text(text, wording_samples(purpose))
    except Exception as error:  # a syntax error, a {% load %}, an unknown tag or filter
        return f"The template has an error: {error}"
    return ""


def _variables_help() -> str:
    families = format_html_join(
        "",
        "<li>{} ({}): {}</li>",
        (
            (
                family.label,
                ", ".join(family.purposes),
                ", ".join(f"{{{{ {name} }}}}" for name in family.variables),
            )
            for family in WORDING_FAMILIES
        ),
    )
    return format_html(
        "Plain text in Django's template language, as the built-in messages are written: "
        "{} prints a variable, {} shows a sentence only when there is a place, "
        "{} gives a word when the value is empty. No {}: only the built-in tags and "
        "filters; a variable the purpose does not supply prints nothing. "
        "The variables of each purpose:<ul>{}</ul>",
        "{{ first_name }}",
        "{% if place %}…{% endif %}",
        "{{ product|default:'your favourite' }}",
        "{% load %}",
        families,
    )


class MessageTemplateForm(forms.ModelForm):
    """The purpose is chosen from the messages the app sends; the text must render."""

    purpose = forms.ChoiceField(
        choices=[
            (family.label, [(purpose, purpose) for purpose in family.purposes])
            for family in WORDING_FAMILIES
        ],
        help_text="The message it words. The app uses the active template for the purpose "
        "(the one for the client's channel first); without one, its built-in words.",
    )

    class Meta:
        model = MessageTemplate
        fields = [
            "name",
            "purpose",
            "channel",
            "subject",
            "body",
            "whatsapp_content_sid",
            "whatsapp_variables",
            "is_active",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = _variables_help()

    def clean(self) -> dict:
        cleaned = super().clean()
        purpose = cleaned.get("purpose", "")
        for name in ("body", "subject"):
            if error := _template_error(cleaned.get(name) or "", purpose):
                self.add_error(name, error)
        known = wording_samples(purpose)
        names = [n.strip() for n in (cleaned.get("whatsapp_variables") or "").split(",")]
        if unknown := [name for name in names if name and known and name not in known]:
            self.add_error(
                "whatsapp_variables",
                f"Unknown variable{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)} "
                f"(this message has {', '.join(known)}).",
            )
        return cleaned


class VariantFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]
        for form in kept:
            for name in ("body", "subject"):
                text = form.cleaned_data.get(name) or ""
                if error := _template_error(text, self.instance.purpose):
                    form.add_error(name, error)
        if len(kept) == 1:
            raise ValidationError("Write both wordings, A and B, or none.")


class MessageTemplateVariantInline(admin.StackedInline):
    """Two wordings to compare: automations give each client one, always the same."""

    model = MessageTemplateVariant
    formset = VariantFormSet
    extra = 0
    max_num = 2
    verbose_name = "A/B wording"
    verbose_name_plural = (
        "A/B wordings (with both, each client gets A or B instead of the text above; "
        "the performance page compares them)"
    )


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ["name", "purpose", "channel", "ab_test", "is_active", "updated_at"]
    list_filter = ["channel", "is_active", "purpose"]
    search_fields = ["name", "body"]
    readonly_fields = ["preview"]
    inlines = [MessageTemplateVariantInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(variant_count=Count("variants"))

    @admin.display(description="A/B wordings", boolean=True, ordering="variant_count")
    def ab_test(self, obj: MessageTemplate) -> bool:
        return obj.variant_count >= 2

    @admin.display(description="preview (with a sample client)")
    def preview(self, obj: MessageTemplate) -> str:
        if not obj.body:
            return "Save the template to see a preview."
        try:
            text = render_template_text(obj.body, wording_samples(obj.purpose))
        except Exception as error:
            return format_html(
                '<span style="color:#a4161a">The template has an error: {}</span>', error
            )
        return format_html('<div style="white-space:pre-wrap;max-width:40em">{}</div>', text)


@admin.register(AutomationRule)
class AutomationRuleAdmin(admin.ModelAdmin):
    list_display = [
        "reason_kind",
        "mode",
        "delay_hours",
        "channel",
        "template",
        "is_marketing",
        "is_active",
        "holdout_percent",
        "paused_at",
    ]
    list_filter = ["mode", "is_active"]
    list_select_related = ["template"]
    autocomplete_fields = ["template"]
    # Its holdout's verdict pauses it by itself (the nightly job): when, and why.
    readonly_fields = [
        "would_reach_now",
        "enabled_at",
        "below_zero_since",
        "paused_at",
        "pause_reason",
    ]

    def _reach(self, obj: AutomationRule):
        # Counted once per page, with the same selection the hourly run sends from.
        if getattr(obj, "_reach", None) is None:
            obj._reach = services.automation_reach(obj)
        return obj._reach

    @admin.display(description="would reach now")
    def would_reach_now(self, obj: AutomationRule | None) -> str:
        if obj is None or obj.pk is None:
            return "Counted once the rule is saved."
        reach = self._reach(obj)
        clients = f"{reach.now} client{'s' if reach.now != 1 else ''}"
        if obj.mode != AutomationRule.Mode.SEND:
            return f"Nobody: it drafts for the associates ({clients} have a reason waiting)."
        backlog = ""
        if reach.backlog:
            backlog = f" {reach.backlog} more had a reason open before it was switched on: " + (
                "included." if obj.include_backlog else "left out (“include the backlog”)."
            )
        when = "now" if obj.is_active else "if switched on now"
        return f"{clients} {when}, at the next hourly run.{backlog}"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "include_backlog" in form.base_fields:
            backlog = self._reach(obj).backlog
            form.base_fields["include_backlog"].help_text = (
                f"Also send for the reasons already open when the rule was switched on: "
                f"{backlog} client{'s' if backlog != 1 else ''} would get a message now. "
                "Off: only reasons opened afterwards get one."
            )
        return form

    def save_model(self, request, obj, form, change) -> None:
        was_sending = bool(
            change
            and AutomationRule.objects.filter(
                pk=obj.pk, is_active=True, mode=AutomationRule.Mode.SEND
            ).exists()
        )
        services.automation_rule_save(rule=obj, was_sending=was_sending)
        if obj.sends and not was_sending:
            obj._reach = None
            reach = self._reach(obj)
            self.message_user(
                request,
                f"{obj} is on: it would reach {reach.now} client"
                f"{'s' if reach.now != 1 else ''} now."
                + (
                    f" {reach.backlog} with a reason already open are left out unless you "
                    "tick “include the backlog”."
                    if reach.backlog and not obj.include_backlog
                    else ""
                ),
            )


@admin.register(Message)
class MessageAdmin(StoreScopedAdmin):
    store_path = "customer__home_store"
    """The outbox, read-only: what went, what waits, what was not sent and why."""

    list_display = [
        "created_at",
        "customer",
        "channel",
        "purpose",
        "status",
        "suppressed_reason",
        "variant",
        "scheduled_for",
        "sent_at",
    ]
    list_filter = ["status", "channel", "is_marketing", "purpose", "variant"]
    list_select_related = ["customer"]
    search_fields = ["=dedupe_key", "=provider_id", "=customer__id"]
    raw_id_fields = ["customer", "reason", "sender", "template"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Bounce)
class BounceAdmin(StoreScopedAdmin):
    store_path = None
    list_display = ["channel", "address", "detail", "at"]
    list_filter = ["channel"]
    search_fields = ["=address"]


class SelectionItemInline(StoreScopedTabularInline):
    model = SelectionItem
    extra = 0
    raw_id_fields = ["product"]
    readonly_fields = ["hold_requested_at"]


@admin.register(Selection)
class SelectionAdmin(StoreScopedAdmin):
    store_path = "customer__home_store"
    list_display = ["created_at", "customer", "created_by", "expires_at", "revoked_at"]
    list_select_related = ["customer", "created_by"]
    raw_id_fields = ["customer"]
    readonly_fields = ["token", "created_by", "created_at"]
    inlines = [SelectionItemInline]
    actions = ["revoke"]
    show_full_result_count = False

    @admin.action(description="Revoke the link (the page stops opening)")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} selection link(s) revoked.")
