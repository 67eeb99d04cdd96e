"""The preference questionnaire: a few questions per screen, filled with the client or by them.

Each step is a form with how to prefill it from what we know and how to save it through
the profile services. Steps can be revisited at any time; nothing is asked twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms

from clienteling.catalog.models import Brand, Category, Product

from . import services
from .models import Customer, Preference, Topic, UnsentChannel, consent_channel_choices

STYLES = ["Classic", "Minimal", "Romantic", "Bold", "Bohemian", "Tailored", "Sporty", "Vintage"]
OCCASIONS = ["Work", "Evening", "Weddings", "Travel", "Weekend", "Holidays", "Events"]
FREQUENCIES = [
    (0, "Only about my orders and appointments"),
    (1, "At most once a week"),
    (2, "At most twice a week"),
    (4, "A few times a week"),
]


def _checkboxes(choices, label: str) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=[(c, c) for c in choices],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=label,
    )


def _values(customer: Customer, kind: str, sentiment: str) -> list[str]:
    return [
        p.value for p in customer.preferences.all() if p.kind == kind and p.sentiment == sentiment
    ]


# Categories sized without a fit (a shoe is a 38, a bag has no size to speak of): their
# slug, or their parent's. Everything else (dresses, tops, trousers) asks slim or relaxed.
WITHOUT_FIT = frozenset({"shoes", "bags", "accessories", "beauty", "jewellery", "fragrance"})


def has_fit(category: Category) -> bool:
    return category.slug not in WITHOUT_FIT and (
        category.parent is None or category.parent.slug not in WITHOUT_FIT
    )


class SizesForm(forms.Form):
    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.categories = []
        sizes_by_category: dict[int, list[str]] = {}
        for category_id, sizes in (
            Product.objects.in_stock().exclude(sizes=[]).values_list("category_id", "sizes")
        ):
            known = sizes_by_category.setdefault(category_id, [])
            known.extend(size for size in sizes if size not in known)
        for category in (
            Category.objects.filter(pk__in=sizes_by_category)
            .select_related("parent")
            .order_by("name")
        ):
            self.categories.append(category)
            self.fields[f"size_{category.pk}"] = forms.ChoiceField(
                label=category.name,
                choices=[("", "—")] + [(s, s) for s in sizes_by_category[category.pk]],
                required=False,
            )
            if not has_fit(category):
                continue
            self.fields[f"fit_{category.pk}"] = forms.ChoiceField(
                label=f"Fit in {category.name.lower()}",
                choices=[
                    ("", "—"),
                    ("slim", "Slim"),
                    ("regular", "Regular"),
                    ("relaxed", "Relaxed"),
                ],
                required=False,
            )
        for size in customer.sizes.all():
            self.initial[f"size_{size.category_id}"] = size.size
            self.initial[f"fit_{size.category_id}"] = size.fit

    def save(self, customer: Customer, source: str) -> None:
        services.sizes_set(
            customer=customer,
            sizes={
                category: (
                    self.cleaned_data[f"size_{category.pk}"],
                    self.cleaned_data.get(f"fit_{category.pk}", ""),
                )
                for category in self.categories
            },
            source=source,
        )


class _LikesAvoidsForm(forms.Form):
    kind = ""
    palette: Callable[[], list[str]]
    like_label = "Loves"
    avoid_label = "Avoids"
    client_labels = {
        "likes": "You love",
        "avoids": "You avoid",
        "other": "Anything else you love, separated by commas",
    }

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        likes = _values(customer, self.kind, Preference.Sentiment.LIKE)
        avoids = _values(customer, self.kind, Preference.Sentiment.AVOID)
        choices = list(dict.fromkeys([*self.palette(), *likes, *avoids]))
        self.fields["likes"] = _checkboxes(choices, self.like_label)
        self.fields["avoids"] = _checkboxes(choices, self.avoid_label)
        self.fields["other"] = forms.CharField(
            required=False, max_length=200, label="Other loves, separated by commas"
        )
        self.initial.update(likes=likes, avoids=avoids)

    def clean(self) -> dict:
        data = super().clean()
        both = set(data.get("likes", [])) & set(data.get("avoids", []))
        if both:
            self.add_error(
                "avoids", f"Both loved and avoided: {', '.join(sorted(both))}. Choose one."
            )
        return data

    def save(self, customer: Customer, source: str) -> None:
        other = [value for value in self.cleaned_data["other"].split(",") if value.strip()]
        services.preferences_replace(
            customer=customer,
            kind=self.kind,
            likes=[*self.cleaned_data["likes"], *other],
            avoids=self.cleaned_data["avoids"],
            source=source,
        )


def _colour_palette() -> list[str]:
    colours = (
        Product.objects.exclude(colour="")
        .values_list("colour", flat=True)
        .distinct()
        .order_by("colour")
    )
    return [colour.capitalize() for colour in colours[:16]]


class ColoursForm(_LikesAvoidsForm):
    kind = Preference.Kind.COLOUR
    palette = staticmethod(_colour_palette)


class StylesForm(_LikesAvoidsForm):
    kind = Preference.Kind.STYLE
    palette = staticmethod(lambda: STYLES)
    avoid_label = "Not for them"
    client_labels = {"likes": "You love", "avoids": "Not for you"}


class OccasionsForm(_LikesAvoidsForm):
    kind = Preference.Kind.OCCASION
    palette = staticmethod(lambda: OCCASIONS)
    like_label = "Dresses for"
    avoid_label = "Never needs"
    client_labels = {"likes": "You dress for", "avoids": "You never need"}


class BrandsForm(_LikesAvoidsForm):
    kind = Preference.Kind.BRAND
    palette = staticmethod(
        lambda: list(Brand.objects.order_by("name").values_list("name", flat=True))
    )


class CategoriesForm(_LikesAvoidsForm):
    kind = Preference.Kind.CATEGORY
    palette = staticmethod(
        lambda: list(
            Category.objects.filter(parent__isnull=True)
            .order_by("name")
            .values_list("name", flat=True)
        )
    )
    like_label = "Shops for"
    avoid_label = "Never shows them"
    client_labels = {"likes": "You come to us for", "avoids": "Never show you"}


class HearingFromUsForm(forms.Form):
    preferred_channel = forms.ChoiceField(
        choices=lambda: [
            ("", "No preference"),
            *(c for c in consent_channel_choices() if c[0] != UnsentChannel.PUSH),
        ],
        required=False,
        label="The best way to reach them",
        widget=forms.RadioSelect,
    )
    max_messages_per_week = forms.TypedChoiceField(
        choices=FREQUENCIES, coerce=int, label="How often", widget=forms.RadioSelect, initial=2
    )
    quiet_hours_start = forms.TimeField(
        required=False, label="Quiet from", widget=forms.TimeInput(attrs={"type": "time"})
    )
    quiet_hours_end = forms.TimeField(
        required=False, label="Quiet until", widget=forms.TimeInput(attrs={"type": "time"})
    )
    topics_declined = forms.MultipleChoiceField(
        choices=Topic.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Never about",
    )

    client_labels = {
        "preferred_channel": "The best way to reach you",
        "topics_declined": "Never write to me about",
    }

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        preferences = getattr(customer, "contact_preferences", None)
        if preferences is not None:
            self.initial.update(
                preferred_channel=preferences.preferred_channel,
                max_messages_per_week=preferences.max_messages_per_week,
                quiet_hours_start=preferences.quiet_hours_start,
                quiet_hours_end=preferences.quiet_hours_end,
                topics_declined=preferences.topics_declined,
            )

    def clean(self) -> dict:
        data = super().clean()
        if (data.get("quiet_hours_start") is None) != (
            data.get("quiet_hours_end") is None
        ) and not self.errors:
            self.add_error("quiet_hours_end", "Give both ends of the quiet hours, or neither.")
        return data

    def save(self, customer: Customer, source: str) -> None:
        services.contact_preferences_set(customer=customer, **self.cleaned_data)


class OwnWordsForm(forms.Form):
    client_labels = {"situation": "In your own words: what's going on, what you need"}
    situation = forms.CharField(
        required=False,
        max_length=2000,
        label="In their own words: what's going on, what they need",
        widget=forms.Textarea(
            attrs={"rows": 5, "placeholder": "A new job, a wedding in June, a move abroad…"}
        ),
    )

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["situation"] = customer.situation

    def save(self, customer: Customer, source: str) -> None:
        services.situation_set(customer=customer, text=self.cleaned_data["situation"])


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    question: str  # asked by the associate, about the client
    form_class: type[forms.Form]
    client_question: str  # the same question, on the tablet in the client's hands ("you")


def address_client(form: forms.Form) -> None:
    """Word the form's labels for the client holding the tablet ("you", not "they")."""
    for name, label in getattr(form, "client_labels", {}).items():
        if name in form.fields:
            form.fields[name].label = label


STEPS = [
    Step("sizes", "Sizes and fit", "What sizes fit best?", SizesForm, "Which sizes fit you best?"),
    Step(
        "colours",
        "Colours",
        "Which colours do they love, and which never?",
        ColoursForm,
        "Which colours do you love, and which never?",
    ),
    Step(
        "styles",
        "Style",
        "How would they describe their style?",
        StylesForm,
        "How would you describe your style?",
    ),
    Step(
        "occasions",
        "Occasions",
        "What do they dress for?",
        OccasionsForm,
        "What do you dress for?",
    ),
    Step(
        "categories",
        "What they shop for",
        "What do they come to us for, and what never?",
        CategoriesForm,
        "What do you come to us for, and what never?",
    ),
    Step(
        "brands",
        "Brands",
        "Favourite brands, and brands they avoid?",
        BrandsForm,
        "Your favourite brands, and brands you avoid?",
    ),
    Step(
        "contact",
        "Hearing from us",
        "How and how often should we get in touch?",
        HearingFromUsForm,
        "How and how often would you like to hear from us?",
    ),
    Step(
        "own-words",
        "In their words",
        "Anything going on we should know?",
        OwnWordsForm,
        "Anything going on in your life we should know about?",
    ),
]
STEP_BY_SLUG = {step.slug: step for step in STEPS}
