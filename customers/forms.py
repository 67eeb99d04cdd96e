"""HTML input for the associate pages: validate and convert, nothing more."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from phonenumber_field.formfields import PhoneNumberField

from clienteling.catalog.models import Category, Product
from clienteling.channels import channel as channel_spec
from clienteling.channels import channels, is_channel, message_channel_choices
from clienteling.stores.models import Store

from .models import (
    Contact,
    Customer,
    MessageTemplate,
    Order,
    Reason,
    UnsentChannel,
    consent_channel_choices,
    contact_channel_choices,
)
from .selectors import customer_search
from .services import ConsentAnswer, consent_address_attribute, consent_wording
from .services.wording import render_template_text

# A client who bought before but not in this many days shows under "Lapsing".
LAPSING_AFTER_DAYS = 180


class ClientFilter(django_filters.FilterSet):
    """Search and filters of the client list; `zone` is the store's time zone for dates."""

    q = django_filters.CharFilter(method="filter_search", label="Search clients")
    tier = django_filters.ChoiceFilter(choices=Customer.Tier.choices, empty_label="Any tier")
    bought_after = django_filters.DateFilter(
        method="filter_bought_after", label="Last purchase after"
    )
    bought_before = django_filters.DateFilter(
        method="filter_bought_before", label="Last purchase before"
    )
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.order_by("name"),
        method="filter_category",
        label="Bought in",
        empty_label="Any category",
    )
    birthday_this_month = django_filters.BooleanFilter(
        method="filter_birthday", label="Birthday this month", widget=forms.CheckboxInput
    )
    lapsing = django_filters.BooleanFilter(
        method="filter_lapsing", label="Lapsing", widget=forms.CheckboxInput
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def __init__(self, *args, zone: datetime.tzinfo, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone

    def _start_of_day(self, day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time.min, tzinfo=self.zone)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # The search last: on PostgreSQL it keeps a bounded number of matches, which must
        # be chosen among the clients the other filters leave, not narrowed after.
        data = self.form.cleaned_data
        for name in sorted(data, key=lambda name: name == "q"):
            queryset = self.filters[name].filter(queryset, data[name])
        return queryset

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return customer_search(queryset, value)

    def filter_bought_after(self, queryset: QuerySet, name: str, value: datetime.date) -> QuerySet:
        return queryset.filter(last_purchase_at__gte=self._start_of_day(value))

    def filter_bought_before(self, queryset: QuerySet, name: str, value: datetime.date) -> QuerySet:
        return queryset.filter(last_purchase_at__lt=self._start_of_day(value))

    def filter_category(self, queryset: QuerySet, name: str, value: Category) -> QuerySet:
        # A semi-join on the clients who have such a line: one pass over the lines of
        # that category instead of one lookup per client.
        buyers = Order.objects.filter(lines__product__category=value).values("customer_id")
        return queryset.filter(pk__in=buyers)

    def filter_birthday(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(birthday__month=timezone.localtime(timezone.now(), self.zone).month)

    def filter_lapsing(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        if not value:
            return queryset
        cutoff = timezone.now() - datetime.timedelta(days=LAPSING_AFTER_DAYS)
        return queryset.filter(last_purchase_at__lt=cutoff)


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What matters to this client…"}),
    )
    pinned = forms.BooleanField(label="Pin to the top", required=False)


CONSENT_CHOICES = [("yes", "Yes"), ("no", "No")]


class ContactConsentForm(forms.Form):
    """A client's addresses and one consent per channel that reaches them, each worded
    with the store's sentence (`consent_wording`): the one form that quick-add, self
    sign-up, public booking and the room tablet are made of.

    The channels come from the registry (`clienteling.channels`): a consent field
    `consent_<channel>` for each registered channel's consent whose address the form
    asks (`address_fields`, named as the client's attributes: "phone", "email"), plus
    the channels the app sends nothing by that the form also asks about
    (`unsent_consents`, e.g. phone calls at the counter). How consent is given:

    - asked out loud by staff (`consent_asked`): a yes or no per channel, required for
      the channels whose address was given; every answer given is recorded;
    - ticked by the client: a box per channel, answered only for an address given; an
      unticked box is a "no" when `unticked_is_no`, otherwise no answer at all (it must
      not withdraw a consent given elsewhere).
    """

    address_fields: tuple[str, ...] = ("phone", "email")
    unsent_consents: tuple[str, ...] = ()
    consent_asked = False
    unticked_is_no = False
    # (field, message) when neither address is given; None: no address is needed.
    address_required: tuple[str, str] | None = None
    # A ticked box without its address is an error (not silently no answer).
    ticked_needs_address = False

    def __init__(self, *args, store: Store, **kwargs):
        super().__init__(*args, **kwargs)
        self.store = store
        for name in self.address_fields:
            self.fields[name] = self._address_field(name, store)
        self.consents: list[tuple[str, str]] = []  # (consent channel, address attribute)
        wanted = [spec.consent for spec in channels()] + list(self.unsent_consents)
        for channel in dict.fromkeys(wanted):
            attribute = consent_address_attribute(channel)
            if attribute not in self.address_fields:
                continue
            self.consents.append((channel, attribute))
            label = consent_wording(channel, store)
            self.fields[f"consent_{channel}"] = (
                forms.ChoiceField(
                    choices=CONSENT_CHOICES, widget=forms.RadioSelect, required=False, label=label
                )
                if self.consent_asked
                else forms.BooleanField(required=False, label=label)
            )

    @staticmethod
    def _address_field(name: str, store: Store) -> forms.Field:
        if name == "phone":
            # Numbers typed without a country code are read in the store's country.
            return PhoneNumberField(
                label="Mobile phone",
                required=False,
                region=store.country or None,
                widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            )
        if name == "email":
            return forms.EmailField(
                label="Email",
                required=False,
                widget=forms.EmailInput(
                    attrs={"autocomplete": "email", "autocapitalize": "none", "inputmode": "email"}
                ),
            )
        raise ValueError(f"No form field asks for a client's {name!r}.")

    def consent_fields(self) -> list[forms.BoundField]:
        return [self[f"consent_{channel}"] for channel, _ in self.consents]

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict:
        data = super().clean()
        given = {name for name in self.address_fields if data.get(name)}
        if self.address_required and not given and not set(self.address_fields) & set(self.errors):
            self.add_error(*self.address_required)
        for channel, attribute in self.consents:
            name = f"consent_{channel}"
            if self.consent_asked and attribute in given and not data.get(name):
                self.add_error(name, "Ask the client, then choose yes or no.")
            elif (
                self.ticked_needs_address
                and data.get(name)
                and attribute not in given
                and attribute not in self.errors
            ):
                spec = next(spec for spec in channels() if spec.consent == channel)
                self.add_error(attribute, f"Give your {spec.address_noun} to receive {spec.noun}.")
        return data

    def consent_answers(self) -> list[ConsentAnswer]:
        data = self.cleaned_data
        answers = []
        for channel, attribute in self.consents:
            value = data.get(f"consent_{channel}")
            if self.consent_asked:
                if value:
                    answers.append(ConsentAnswer(channel, value == "yes"))
            elif data.get(attribute) and (value or self.unticked_is_no):
                answers.append(ConsentAnswer(channel, bool(value)))
        return answers


class QuickAddForm(ContactConsentForm):
    """The fewest fields that work at the counter: a name and a way to reach the client,
    and the client's answer for each channel, asked out loud."""

    first_name = forms.CharField(label="First name", max_length=100)
    last_name = forms.CharField(label="Last name", max_length=100, required=False)

    unsent_consents = (UnsentChannel.PHONE,)
    consent_asked = True
    address_required = ("phone", "Give a phone number or an email, so we can reach the client.")


class CustomerDetailsForm(forms.Form):
    """The client's details an associate corrects or completes on the card. The phone and
    email fields are the sign-up forms' own (`ContactConsentForm`): read in the store's
    country, lower-cased."""

    first_name = forms.CharField(label="First name", max_length=100)
    last_name = forms.CharField(label="Last name", max_length=100, required=False)
    birthday = forms.DateField(
        label="Birthday", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    anniversary = forms.DateField(
        label="Anniversary", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    home_store = forms.ModelChoiceField(queryset=Store.objects.none(), label="Home store")

    def __init__(self, *args, customer: Customer, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "first_name": customer.first_name,
                "last_name": customer.last_name,
                "email": customer.email,
                "phone": customer.phone,
                "birthday": customer.birthday,
                "anniversary": customer.anniversary,
                "home_store": customer.home_store_id,
            },
        )
        super().__init__(*args, **kwargs)
        store = customer.home_store
        self.fields["phone"] = ContactConsentForm._address_field("phone", store)
        self.fields["email"] = ContactConsentForm._address_field("email", store)
        # The client's addresses, typed by staff: never the browser's own autofill.
        for name in ("phone", "email"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        self.fields["home_store"].queryset = Store.objects.filter(is_active=True).order_by("name")
        self.order_fields(
            ["first_name", "last_name", "phone", "email", "birthday", "anniversary", "home_store"]
        )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class ConsentInPersonForm(forms.Form):
    """A consent the client gives or withdraws in person, told to the associate: one
    channel and the client's answer, kept with the store's sentence for that channel."""

    channel = forms.ChoiceField(label="Which channel")
    granted = forms.ChoiceField(
        label="The client",
        choices=[("yes", "Agrees"), ("no", "Withdraws")],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, customer: Customer, **kwargs):
        # Its own ids: it sits on the card beside other forms with a "channel".
        kwargs.setdefault("auto_id", "consent_%s")
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["channel"].choices = [("", "Choose…"), *consent_channel_choices()]

    def clean(self) -> dict:
        data = super().clean()
        channel = data.get("channel")
        if channel and data.get("granted") == "yes":
            attribute = consent_address_attribute(channel)
            if attribute and not getattr(self.customer, attribute):
                self.add_error(
                    "channel",
                    f"Add the client's {'phone number' if attribute == 'phone' else attribute} first.",
                )
        return data


class _RadioWithDisabled(forms.RadioSelect):
    """Radio buttons where some options are shown but cannot be chosen."""

    def __init__(self, *args, disabled: set[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.disabled = disabled or set()

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value in self.disabled:
            option["attrs"]["disabled"] = True
        return option


class ContactForm(forms.Form):
    """Reach out or log a contact. `blocked` maps a channel to why it can't be used now;
    `template_only` a channel on which only an approved template can go now (WhatsApp
    after its 24-hour window) to why free text can't, and `templates` are those
    approved templates (their words shown with `template_context`, the client's)."""

    channel = forms.ChoiceField(choices=contact_channel_choices, label="How")
    outcome = forms.ChoiceField(
        choices=Contact.Outcome.choices, label="Outcome", initial=Contact.Outcome.SENT
    )
    body = forms.CharField(
        label="Message or note",
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=2000,
    )
    reason = forms.ModelChoiceField(
        queryset=Reason.objects.none(),
        required=False,
        label="What it's about",
        empty_label="No particular reason",
    )
    template = forms.ModelChoiceField(
        queryset=MessageTemplate.objects.none(),
        required=False,
        label="Approved WhatsApp template",
        empty_label="None: my own words",
        widget=forms.RadioSelect,
        blank=True,  # the "None" option stays, so a template picked can be unpicked
    )

    def __init__(
        self,
        *args,
        customer: Customer,
        blocked: dict[str, str],
        template_only: dict[str, str] | None = None,
        templates: QuerySet[MessageTemplate] | None = None,
        template_channel: str = "",
        template_context: dict[str, str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.blocked = blocked
        self.template_only = template_only or {}
        self.template_channel = template_channel
        self.fields["channel"].widget = _RadioWithDisabled(
            choices=self.fields["channel"].choices, disabled=set(blocked)
        )
        self.fields["reason"].queryset = customer.reasons.open()
        if templates is None or not template_channel:
            del self.fields["template"]
        else:
            context = template_context or {}
            field = self.fields["template"]
            field.label = f"Approved {channel_spec(template_channel).label} template"
            field.queryset = templates
            field.label_from_instance = lambda template: (
                f"{template.name}: “{render_template_text(template.body, context)}”"
            )

    def clean_channel(self) -> str:
        channel = self.cleaned_data["channel"]
        if channel in self.blocked:
            raise forms.ValidationError(self.blocked[channel])
        return channel

    def clean(self) -> dict:
        data = super().clean()
        chosen = data.get("channel")
        template = data.get("template")
        sending = is_channel(chosen) and data.get("outcome") == Contact.Outcome.SENT
        if template is not None and chosen != self.template_channel:
            label = channel_spec(self.template_channel).label
            self.add_error(
                "template",
                f"An approved template goes only on {label}: choose {label}, or no template.",
            )
        elif sending and template is None and chosen in self.template_only:
            # Free text is refused here, and the associate is told why.
            self.add_error("template", self.template_only[chosen])
        elif sending and template is None and not data.get("body", "").strip():
            self.add_error("body", "Write the message you sent.")
        return data


class ReplyForm(forms.Form):
    """A reply in the conversation: email or text, from the store, through the policy."""

    channel = forms.ChoiceField(choices=message_channel_choices, widget=forms.RadioSelect)
    body = forms.CharField(
        label="Your reply", max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, blocked: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.blocked = blocked
        self.fields["channel"].widget = _RadioWithDisabled(
            choices=self.fields["channel"].choices, disabled=set(blocked)
        )

    def clean_channel(self) -> str:
        channel = self.cleaned_data["channel"]
        if channel in self.blocked:
            raise forms.ValidationError(self.blocked[channel])
        return channel


class SelectionForm(forms.Form):
    """Pick a few pieces (from the suggestions, or by SKU) and a personal note."""

    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Suggestions",
    )
    skus = forms.CharField(
        required=False,
        max_length=300,
        label="Other pieces by SKU, separated by commas",
        widget=forms.TextInput(attrs={"autocapitalize": "characters"}),
    )
    note = forms.CharField(
        required=False, max_length=500, label="Your note", widget=forms.Textarea(attrs={"rows": 3})
    )
    channel = forms.ChoiceField(choices=message_channel_choices, widget=forms.RadioSelect)

    def __init__(self, *args, suggestions, blocked: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.blocked = blocked
        self.fields["products"].queryset = suggestions
        self.fields["products"].label_from_instance = lambda product: (
            f"{product.name} · ${product.price:,.0f}"
        )
        self.fields["channel"].widget = _RadioWithDisabled(
            choices=self.fields["channel"].choices, disabled=set(blocked)
        )

    def clean_channel(self) -> str:
        channel = self.cleaned_data["channel"]
        if channel in self.blocked:
            raise forms.ValidationError(self.blocked[channel])
        return channel

    def clean(self) -> dict:
        data = super().clean()
        skus = [sku.strip() for sku in data.get("skus", "").split(",") if sku.strip()]
        found = dict(Product.objects.filter(sku__in=skus, is_active=True).values_list("sku", "pk"))
        unknown = [sku for sku in skus if sku not in found]
        if unknown:
            self.add_error("skus", f"No piece has the SKU {', '.join(unknown)}.")
        data["product_ids"] = [product.pk for product in data.get("products", [])] + [
            found[s] for s in skus if s in found
        ]
        if not data["product_ids"] and not self.errors:
            self.add_error("products", "Pick at least one piece.")
        return data


class ReasonSnoozeForm(forms.Form):
    """Snooze a reason in one tap (tomorrow, next week) or until a day picked."""

    WHEN = [("tomorrow", "Tomorrow"), ("next_week", "Next week"), ("date", "Pick a date")]
    when = forms.ChoiceField(choices=WHEN)
    on = forms.DateField(required=False, label="Pick a date")

    def clean(self) -> dict:
        data = super().clean()
        today = timezone.localdate()
        when = data.get("when")
        if when == "tomorrow":
            data["until"] = today + datetime.timedelta(days=1)
        elif when == "next_week":
            # Monday of next week: the start of a fresh week on the floor.
            data["until"] = today + datetime.timedelta(days=7 - today.weekday())
        elif when == "date" and "on" not in self.errors:
            on = data.get("on")
            if on is None:
                self.add_error("on", "Pick the day it should come back.")
            elif on <= today:
                self.add_error("on", "Pick a day after today.")
            else:
                data["until"] = on
        return data


class ReasonDismissForm(forms.Form):
    """Dismiss a reason with why, so the next person knows (the why is its closed note)."""

    WHY = [
        ("not_relevant", "Not relevant"),
        ("in_touch", "Already in touch"),
        ("asked_not", "Client asked not to"),
    ]
    why = forms.ChoiceField(choices=WHY)

    @property
    def note(self) -> str:
        return dict(self.WHY)[self.cleaned_data["why"]]
