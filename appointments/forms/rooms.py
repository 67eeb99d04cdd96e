"""HTML input for fitting rooms: the tablet's check-in and pages, associates' forms."""

from __future__ import annotations

import datetime

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from clienteling.catalog.models import Product
from clienteling.stores.models import StaffMember, Store
from customers.forms import ContactConsentForm
from customers.models import Customer
from customers.selectors import customer_search

from ..models import Page, Room, StagedItem
from ..services import MANUAL_STATUSES

# A reservation holds a room for at most this long.
RESERVATION_MAX = datetime.timedelta(hours=4)
# How many matching clients the reservation form offers to choose from.
CLIENT_CHOICES = 6


def _product_for_sku(sku: str) -> Product | None:
    return Product.objects.filter(sku__iexact=sku.strip()).first() if sku.strip() else None


# --- The room tablet (public) -----------------------------------------------------------


class TabletCheckInForm(ContactConsentForm):
    """A mobile number (optional) and a box for each channel that reaches it."""

    address_fields = ("phone",)
    ticked_needs_address = True

    def __init__(self, *args, store: Store, **kwargs):
        super().__init__(*args, store=store, **kwargs)
        phone = self.fields["phone"]
        phone.label = "Mobile number (optional)"
        phone.help_text = "If you are one of our clients, we add today's fitting to your profile."
        # A shared tablet must not offer the previous client's number.
        phone.widget.attrs.update({"autocomplete": "off", "inputmode": "tel"})


class TabletPageForm(forms.Form):
    """One tap sends: the button names the kind; naming the item and size is optional."""

    kind = forms.ChoiceField(choices=Page.Kind.choices)
    staged_item = forms.ModelChoiceField(
        queryset=StagedItem.objects.none(),
        required=False,
        empty_label=None,
        widget=forms.RadioSelect,
        label="Which item?",
    )
    sku = forms.CharField(
        label="Or the code on the label",
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    size = forms.CharField(
        label="Size you would like",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    colour = forms.CharField(
        label="Colour you would like",
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, staged_items: list[StagedItem], **kwargs):
        super().__init__(*args, **kwargs)
        self.staged_items = staged_items
        field = self.fields["staged_item"]
        field.queryset = StagedItem.objects.filter(pk__in=[item.pk for item in staged_items])
        field.label_from_instance = lambda item: item.label

    def clean_sku(self) -> str:
        sku = self.cleaned_data["sku"].strip()
        self.cleaned_data["product"] = None
        if sku:
            product = _product_for_sku(sku)
            if product is None:
                raise forms.ValidationError(
                    "We can't find this code. Check the label, or leave it empty."
                )
            self.cleaned_data["product"] = product
        return sku


# --- Associates -------------------------------------------------------------------------


class RoomStatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(status.value, status.label) for status in MANUAL_STATUSES],
        widget=forms.RadioSelect,
        label="Set the room to",
    )


class ReservationForm(forms.Form):
    """Reserve a room: the client (chosen by search), the period in the store's time zone."""

    room = forms.ModelChoiceField(queryset=Room.objects.none(), empty_label=None)
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    client = forms.CharField(
        label="Client",
        max_length=100,
        required=False,
        help_text="Name, phone or email.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label="From", widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label="To", widget=forms.TimeInput(attrs={"type": "time"}))
    associate = forms.ModelChoiceField(
        queryset=StaffMember.objects.none(), required=False, label="Looked after by"
    )
    note = forms.CharField(
        label="Note", max_length=200, required=False, help_text="e.g. “Wedding guest dress”."
    )

    def __init__(
        self, *args, store: Store, visible_customers: QuerySet[Customer], **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.store = store
        self.visible_customers = visible_customers
        self.candidates: list[Customer] = []
        self.chosen: Customer | None = None
        self.fields["room"].queryset = Room.objects.for_store(store).active()
        self.fields["associate"].queryset = (
            StaffMember.objects.for_store(store).associates().active().select_related("user")
        )
        self.fields["associate"].label_from_instance = lambda staff: staff.display_name

    def clean(self) -> dict:
        data = super().clean()
        self._clean_customer(data)
        date, start, end = data.get("date"), data.get("start"), data.get("end")
        if date and start and end:
            zone = self.store.zone
            starts_at = datetime.datetime.combine(date, start, tzinfo=zone)
            ends_at = datetime.datetime.combine(date, end, tzinfo=zone)
            if ends_at <= starts_at:
                self.add_error("end", "The end must come after the start.")
            elif ends_at - starts_at > RESERVATION_MAX:
                self.add_error("end", "A reservation lasts at most 4 hours.")
            elif ends_at <= timezone.now():
                self.add_error("date", "This time has already passed.")
            data["starts_at"], data["ends_at"] = starts_at, ends_at
        return data

    def _clean_customer(self, data: dict) -> None:
        if data.get("customer"):
            self.chosen = self.visible_customers.filter(pk=data["customer"]).first()
            if self.chosen is None:
                self.add_error("client", "Choose the client again.")
            return
        text = (data.get("client") or "").strip()
        if not text:
            self.add_error("client", "Who is the reservation for? Search by name, phone or email.")
            return
        matches = list(customer_search(self.visible_customers, text)[: CLIENT_CHOICES + 1])
        if not matches:
            self.add_error("client", f"No client matches “{text}”.")
        elif len(matches) == 1:
            self.chosen = matches[0]
        else:
            self.candidates = matches[:CLIENT_CHOICES]
            self.add_error("client", "Several clients match: choose one.")


class StagedItemForm(forms.Form):
    sku = forms.CharField(
        label="SKU",
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    description = forms.CharField(label="Or describe it", max_length=120, required=False)
    size = forms.CharField(max_length=20, required=False)

    def clean(self) -> dict:
        data = super().clean()
        data["product"] = None
        sku = (data.get("sku") or "").strip()
        if sku:
            data["product"] = _product_for_sku(sku)
            if data["product"] is None:
                self.add_error("sku", "No product has this SKU.")
        elif not (data.get("description") or "").strip() and "description" not in self.errors:
            self.add_error("sku", "Give a SKU or describe the item.")
        return data


class MetricsPeriodForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    MAX_DAYS = 366

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The end must not come before the start.")
            elif (end - start).days > self.MAX_DAYS:
                self.add_error("end", "Choose a period of at most a year.")
        return data
