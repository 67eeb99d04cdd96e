"""Forms of the public booking pages: which day and stylist, the client's few details,
moving and cancelling through the client's own link.

They validate and convert what the client sends; whether a time is still free is the
booking services' answer (`slots_free`, `appointment_book`), asked by the views.
"""

from __future__ import annotations

import datetime

from django import forms

from clienteling.stores.models import StaffMember, Store
from customers.forms import ContactConsentForm

from ..models import AppointmentKind
from ..services import parse_slot_key

NOT_OFFERED = "Choose one of the times offered."
SANE_FROM = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
SANE_UNTIL = datetime.datetime(9000, 1, 1, tzinfo=datetime.UTC)


def stylist_name(stylist: StaffMember) -> str:
    """What clients see of a stylist: the first name only."""
    return stylist.user.first_name or "Your stylist"


class TimesQueryForm(forms.Form):
    """The times page's query string: a day of the days shown, and optionally a stylist."""

    day = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Choose one of the days shown."},
    )
    stylist = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "Choose one of the stylists shown."},
    )

    def __init__(
        self,
        *args,
        first_day: datetime.date,
        last_day: datetime.date,
        stylists: list[StaffMember],
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.first_day, self.last_day = first_day, last_day
        self.fields["stylist"].choices = [("", "Any stylist")] + [
            (stylist.pk, stylist_name(stylist)) for stylist in stylists
        ]

    def clean_day(self) -> datetime.date | None:
        day = self.cleaned_data["day"]
        if day is not None and not (self.first_day <= day <= self.last_day):
            raise forms.ValidationError("Choose one of the days shown.")
        return day


class SlotField(forms.CharField):
    """A slot key ("stylist@start") of one of the store's stylists, as (stylist id, UTC start)."""

    widget = forms.HiddenInput
    default_error_messages = {"required": "Choose a time.", "invalid": NOT_OFFERED}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.stylist_ids: set[int] = set()

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            parsed = parse_slot_key(value)
        except OverflowError:  # "0001-01-01T00:00+01:00" has no UTC (see the report)
            parsed = None
        if (
            parsed is None
            or parsed[0] not in self.stylist_ids
            # Far from today: no store's local day of it could be offered, or even exist.
            or not SANE_FROM <= parsed[1] <= SANE_UNTIL
        ):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class ChosenStylistField(forms.Field):
    """The stylist the client picked on the times page, or None when any stylist will do
    (also for a value that is not one of the store's stylists: it is a hidden field)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)
        self.stylist_ids: set[int] = set()

    def to_python(self, value) -> int | None:
        try:
            stylist_id = int(value)
        except (TypeError, ValueError):
            return None
        return stylist_id if stylist_id in self.stylist_ids else None


def _limit_to_stylists(form: forms.Form, stylist_ids) -> None:
    for name in ("slot", "stylist"):
        form.fields[name].stylist_ids = set(stylist_ids)


class BookingForm(ContactConsentForm):
    """The client's details, as few as we can: a name and one way to reach them.

    Unlike the sign-up at the counter, an empty consent box records nothing: leaving a
    box empty on a booking form is not a "stop", and a public form must not let whoever
    types a client's email switch off the messages that client agreed to.
    """

    slot = SlotField()
    stylist = ChosenStylistField()
    first_name = forms.CharField(label="First name", max_length=100)
    last_name = forms.CharField(label="Last name (optional)", max_length=100, required=False)

    address_fields = ("email", "phone")
    address_required = ("email", "Give an email or a mobile number for your confirmation.")

    def __init__(
        self, *args, store: Store, kind: AppointmentKind, stylist_ids: list[int], **kwargs
    ):
        super().__init__(*args, store=store, **kwargs)
        _limit_to_stylists(self, stylist_ids)
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        if kind.place == AppointmentKind.Place.HOME:
            self.fields["address"] = forms.CharField(
                label="Your address (where the stylist comes)",
                max_length=250,
                widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
            )

    def detail_fields(self) -> list[forms.BoundField]:
        """The fields the client types in (the slot, the stylist and consents are apart)."""
        apart = {"slot", "stylist"} | {field.name for field in self.consent_fields()}
        return [field for field in self if field.name not in apart]


class MoveForm(forms.Form):
    """Move an appointment to the slot picked on the times page."""

    slot = SlotField()
    stylist = ChosenStylistField()

    def __init__(self, *args, stylist_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        _limit_to_stylists(self, stylist_ids)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Anything you'd like to tell us? (optional)",
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
