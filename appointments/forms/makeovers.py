"""HTML input for makeover notes: chapters, products and samples, photos, notes."""

from __future__ import annotations

from django import forms

from ..models import Chapter, MakeoverSession
from ..services.makeovers import MAX_QUANTITY, MAX_STEPS_CHARS, product_lookup

PHOTO_ACCEPT = "image/*"
VIDEO_ACCEPT = "video/mp4,video/quicktime,video/webm"
MAX_NOTES_CHARS = 5000


class ChapterForm(forms.Form):
    area = forms.ChoiceField(label="Area", choices=Chapter.Area.choices)
    custom_title = forms.CharField(
        label="Title (for “Other”)",
        max_length=80,
        required=False,
        help_text="e.g. “Lashes” or “Setting”.",
    )
    steps = forms.CharField(
        label="Steps",
        max_length=MAX_STEPS_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One step per line, as the client would redo it at home.",
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("area") == Chapter.Area.CUSTOM and not (data.get("custom_title") or "").strip():
            self.add_error("custom_title", "Give the chapter a title.")
        return data


class _ProductField(forms.CharField):
    """A catalog product by SKU (or id): cleans to the Product itself."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Product SKU")
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        text = super().clean(value)
        product = product_lookup(text)
        if product is None:
            raise forms.ValidationError("No product has this SKU. Check the label.")
        return product


class ProductUseForm(forms.Form):
    product = _ProductField()
    shade = forms.CharField(
        label="Shade", max_length=60, required=False, help_text="Empty: the catalog's shade."
    )
    quantity = forms.IntegerField(label="Quantity", min_value=1, max_value=MAX_QUANTITY, initial=1)
    note = forms.CharField(
        label="How", max_length=120, required=False, help_text="e.g. “pressed, not swept”."
    )


class SampleForm(forms.Form):
    product = _ProductField()
    shade = forms.CharField(label="Shade", max_length=60, required=False)
    quantity = forms.IntegerField(label="Quantity", min_value=1, max_value=MAX_QUANTITY, initial=1)


class PhotoForm(forms.Form):
    # A plain FileField: the service checks and cleans the picture (appointments.media).
    # No `capture`: phones then offer the camera and the photo library both.
    photo = forms.FileField(
        label="Photo",
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_ACCEPT}),
        error_messages={"required": "Choose a photo first.", "empty": "This photo is empty."},
    )
    caption = forms.CharField(label="Caption", max_length=150, required=False)


class VideoForm(forms.Form):
    video = forms.FileField(
        label="Video file",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": VIDEO_ACCEPT}),
        error_messages={"empty": "This video is empty."},
    )
    link = forms.CharField(
        label="Or a link to a video",
        max_length=200,
        required=False,
        widget=forms.URLInput(attrs={"inputmode": "url", "placeholder": "https://"}),
    )
    caption = forms.CharField(label="Caption", max_length=150, required=False)

    def clean(self) -> dict:
        data = super().clean()
        nothing = not data.get("video") and not (data.get("link") or "").strip()
        if nothing and "video" not in self.errors:
            self.add_error("video", "Choose a video, or give a link to one.")
        return data


class NotesForm(forms.Form):
    title = forms.CharField(
        label="Title", max_length=120, required=False, help_text="e.g. “Evening look”."
    )
    summary = forms.CharField(
        label="Summary for the client",
        max_length=MAX_NOTES_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Shown on their page, in your words.",
    )
    private_notes = forms.CharField(
        label="Private notes (staff only)",
        max_length=MAX_NOTES_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Skin notes, reactions, what to try next time. Never shown to the client.",
    )

    @classmethod
    def for_session(cls, session: MakeoverSession, **kwargs) -> NotesForm:
        initial = {
            "title": session.title,
            "summary": session.summary,
            "private_notes": session.private_notes,
        }
        return cls(initial=initial, **kwargs)


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


class SharedForm(forms.Form):
    shared = forms.TypedChoiceField(
        choices=[("true", "Shown"), ("false", "Hidden")], coerce=lambda value: value == "true"
    )


class AskForm(forms.Form):
    """The client's "ask my stylist for this": which row of their page ("u12", "s3")."""

    item = forms.RegexField(regex=r"^[us]\d{1,12}$", max_length=14)
