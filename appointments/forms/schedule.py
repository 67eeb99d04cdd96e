"""HTML input for stylists and associates scheduling appointments: what and when (a GET
form that lists the free times), booking one of them, moving or cancelling it."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from clienteling.catalog.models import Product
from clienteling.stores.models import StaffMember, Store

from ..models import AppointmentKind, Room
from ..services import StagedRequest, parse_slot_key, stylists_of

# How far ahead staff may look for a time.
BOOKING_HORIZON_DAYS = 180
MAX_STAGED_ITEMS = 12


class SlotQueryForm(forms.Form):
    """What and when: the kind, the day and (optionally) the stylist. Always valid enough
    to list times: bad values fall back to the defaults with a field message."""

    kind = forms.ModelChoiceField(queryset=AppointmentKind.objects.none(), empty_label=None)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    stylist = forms.ModelChoiceField(
        queryset=StaffMember.objects.none(), required=False, empty_label="Any stylist"
    )

    def __init__(self, *args, store: Store, **kwargs):
        super().__init__(*args, **kwargs)
        self.store = store
        self.fields["kind"].queryset = AppointmentKind.objects.filter(is_active=True)
        stylist_field = self.fields["stylist"]
        stylist_field.queryset = stylists_of(store)
        stylist_field.label_from_instance = lambda staff: staff.display_name

    def clean_day(self) -> datetime.date:
        day = self.cleaned_data["day"]
        today = timezone.localtime(timezone.now(), self.store.zone).date()
        if day < today:
            raise forms.ValidationError("Choose today or a day ahead.")
        if day > today + datetime.timedelta(days=BOOKING_HORIZON_DAYS):
            raise forms.ValidationError("Choose a day within the next six months.")
        return day


class AppointmentBookForm(SlotQueryForm):
    slot = forms.CharField(
        error_messages={"required": "Choose one of the free times."},
        widget=forms.HiddenInput,  # rendered as the list of times (radio buttons)
    )
    room = forms.ModelChoiceField(
        queryset=Room.objects.none(),
        required=False,
        empty_label="No fitting room",
        label="Fitting room",
        help_text="Reserved for the appointment's time, with the items below staged in it.",
    )
    items = forms.CharField(
        label="Items to stage",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: a SKU and a size (“DR-1042 M”) or a few words.",
    )
    address = forms.CharField(
        label="Client's address",
        required=False,
        max_length=250,
        help_text="For an in-home try-on.",
    )
    video_link = forms.URLField(
        label="Video link",
        required=False,
        assume_scheme="https",
        help_text="For virtual styling; empty: the store's video room, if it has one.",
    )
    notes = forms.CharField(
        label="Notes for the stylist",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Shown only once the client's other appointment at that time was named: two services
    # at once (hair and nails) are a real booking, confirmed on purpose.
    book_anyway = forms.BooleanField(
        label="Book anyway: the client has both appointments at once",
        required=False,
    )

    def __init__(self, *args, store: Store, **kwargs):
        super().__init__(*args, store=store, **kwargs)
        self.fields["room"].queryset = Room.objects.for_store(store).active()

    def clean_slot(self) -> str:
        value = self.cleaned_data["slot"]
        parsed = parse_slot_key(value)
        if parsed is None:
            raise forms.ValidationError("Choose one of the free times.")
        stylist = stylists_of(self.store).filter(pk=parsed[0]).first()
        if stylist is None:
            raise forms.ValidationError("Choose one of the free times.")
        self.cleaned_data["slot_stylist"] = stylist
        self.cleaned_data["starts_at"] = parsed[1]
        return value

    def clean_items(self) -> list[StagedRequest]:
        lines = [line.strip() for line in self.cleaned_data["items"].splitlines() if line.strip()]
        if len(lines) > MAX_STAGED_ITEMS:
            raise forms.ValidationError(f"Stage at most {MAX_STAGED_ITEMS} items.")
        return [staged_request(line) for line in lines]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("items") and not data.get("room"):
            self.add_error("room", "Choose a fitting room to stage the items in.")
        return data


def staged_request(line: str) -> StagedRequest:
    """“DR-1042 M” is a catalog product and a size; anything else is a description."""
    first, _, rest = line.partition(" ")
    product = Product.objects.filter(sku__iexact=first).first()
    if product is not None:
        return StagedRequest(product=product, size=rest.strip()[:20])
    return StagedRequest(description=line[:120])


class RescheduleForm(forms.Form):
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    slot = forms.CharField(
        error_messages={"required": "Choose one of the free times."}, widget=forms.HiddenInput
    )

    def __init__(self, *args, store: Store, **kwargs):
        super().__init__(*args, **kwargs)
        self.store = store

    def clean_slot(self) -> str:
        value = self.cleaned_data["slot"]
        parsed = parse_slot_key(value)
        stylist = parsed and stylists_of(self.store).filter(pk=parsed[0]).first()
        if not stylist:
            raise forms.ValidationError("Choose one of the free times.")
        self.cleaned_data["slot_stylist"] = stylist
        self.cleaned_data["starts_at"] = parsed[1]
        return value


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is it cancelled?",
        max_length=200,
        help_text="Kept with the appointment; the client is told it is cancelled.",
    )


class StylingEnrollForm(forms.Form):
    stylist = forms.ModelChoiceField(queryset=StaffMember.objects.none(), empty_label=None)
    goals = forms.CharField(label="What they want from it", required=False, max_length=250)

    def __init__(self, *args, store: Store, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["stylist"]
        field.queryset = stylists_of(store)
        field.label_from_instance = lambda staff: staff.display_name
