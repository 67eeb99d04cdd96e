"""The performance page's period (a preset or from/to) and, for superusers, the store."""

from __future__ import annotations

import datetime
import zoneinfo

from django import forms

from clienteling.stores.models import Store

from .performance import Period, period_ending

PRESET_DAYS = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_DAYS = 366


class PerformanceFilterForm(forms.Form):
    """?days=7|30|90, or ?start=…&end=… (days included); ?store=<id> for superusers.

    Nothing given: the last 30 days, today included.
    """

    days = forms.TypedChoiceField(
        choices=[(days, f"{days} days") for days in PRESET_DAYS],
        coerce=int,
        required=False,
        empty_value=None,
    )
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    # A plain choice of the stores already read for the picker: no lookup of its own.
    store = forms.ChoiceField(required=False, label="Store")

    def __init__(self, *args, stores: list[Store] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._stores = {str(store.pk): store for store in stores or []}
        if stores:
            self.fields["store"].choices = [(store.pk, store.name) for store in stores]
        else:
            del self.fields["store"]

    def clean_store(self) -> Store | None:
        value = self.cleaned_data.get("store")
        return self._stores.get(str(value)) if value else None

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start or end:
            if not (start and end):
                self.add_error("end" if start else "start", "Give both days, or pick a preset.")
            elif end < start:
                self.add_error("end", "The end must not come before the start.")
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error("end", "Choose a period of at most a year.")
        return data

    def period(self, *, today: datetime.date, zone: zoneinfo.ZoneInfo) -> Period:
        """The chosen period (call after is_valid())."""
        data = self.cleaned_data
        if data.get("start") and data.get("end"):
            return Period(first_day=data["start"], last_day=data["end"], zone=zone)
        return period_ending(today, data.get("days") or DEFAULT_DAYS, zone)

    @property
    def preset(self) -> int | None:
        """The preset in use, for the links' aria-current (none for a custom period)."""
        if not self.is_valid():
            return None
        if self.cleaned_data.get("start"):
            return None
        return self.cleaned_data.get("days") or DEFAULT_DAYS
