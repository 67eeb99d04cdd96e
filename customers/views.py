"""The associate's pages about clients: the book and search, the client card, notes."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from clienteling.catalog.models import Product
from clienteling.channels import channels, is_channel
from clienteling.core.errors import ApplicationError
from clienteling.core.http import HtmxHttpRequest, render_page
from clienteling.push.idempotency import idempotent
from clienteling.stores.access import request_staff, staff_or_404

from . import selectors, services
from .drafts import draft_message
from .forms import (
    ClientFilter,
    ConsentInPersonForm,
    ContactForm,
    CustomerDetailsForm,
    NoteForm,
    QuickAddForm,
    ReplyForm,
    SelectionForm,
)
from .handover import handover_active
from .models import AuditEvent, Contact, Customer, Note, Source, Topic
from .questionnaire import STEP_BY_SLUG, STEPS, address_client
from .services.wording import reason_wording_context, render_template_text

PAGE_SIZE = 25
LIST_ROW_FIELDS = (
    "first_name",
    "last_name",
    "tier",
    "last_purchase_at",
    "lifetime_value",
    "assigned_associate",
    "assigned_associate__user__first_name",
    "assigned_associate__user__last_name",
    "assigned_associate__user__username",
)


def _visible_customers(request: HtmxHttpRequest):
    return selectors.customers_visible_to(user=request.user, staff=request_staff(request))


def _get_customer_for_staff(request: HtmxHttpRequest, pk: int) -> Customer:
    """The client with this id if the signed-in person may see them; 404 otherwise.

    404 rather than 403: a client of another store must not even be confirmed to exist.
    """
    return selectors.customer_visible_or_404(
        request,
        pk=pk,
        select_related=("home_store", "assigned_associate__user", "contact_preferences"),
    )


def _get_note(customer: Customer, note_pk: int) -> Note:
    return get_object_or_404(Note.objects.select_related("author"), pk=note_pk, customer=customer)


def _zone(request: HtmxHttpRequest):
    staff = request_staff(request)
    return staff.store.zone if staff else timezone.get_current_timezone()


@require_GET
@login_required
def client_list(request: HtmxHttpRequest) -> HttpResponse:
    """My book, or every client of the store, with search as you type and filters."""
    staff = request_staff(request)
    params = request.GET.copy()
    searching = bool(params.get("q", "").strip())
    scope = params.get("scope") or ("mine" if staff and not staff.is_manager else "store")
    queryset = _visible_customers(request)
    if scope == "mine" and staff is not None and not searching:
        queryset = queryset.filter(assigned_associate=staff)
    filterset = ClientFilter(params, queryset=queryset, zone=_zone(request))
    try:
        page = max(1, int(params.get("page", "1")))
    except ValueError:
        page = 1
    rows: list[Customer] = []
    if filterset.is_valid():
        # What a row shows, no more (a phone number parsed for each of 25 rows, and the
        # other columns, cost more than the rows' SQL).
        results = filterset.qs.select_related("assigned_associate__user").only(*LIST_ROW_FIELDS)
        if not results.query.order_by:  # search orders by relevance; otherwise by name
            results = results.order_by("last_name", "first_name", "pk")
        # No COUNT(*): one row more than the page tells whether there is a next page.
        start = (page - 1) * PAGE_SIZE
        rows = list(results[start : start + PAGE_SIZE + 1])
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_params = params.copy()
    next_params["page"] = str(page + 1)
    context = {
        "filter": filterset,
        "customers": rows,
        "scope": scope,
        "searching": searching,
        "filters_active": any(params.get(name) for name in filterset.filters if name != "q"),
        "page": page,
        "next_url": f"{reverse('customers:list')}?{next_params.urlencode()}" if has_next else "",
        "scope_urls": {
            name: f"{reverse('customers:list')}?{urlencode({'scope': name})}"
            for name in ("mine", "store")
        },
    }
    # A "more" request swaps in only the next rows; a search or filter swaps the results.
    partial = "result-rows" if page > 1 else "results"
    return render_page(request, "customers/client_list.html", context, partial=partial)


@require_GET
@login_required
def client_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The client card: everything an associate needs about this person, and why."""
    customer = _get_customer_for_staff(request, pk)
    services.audit_record(request=request, action=AuditEvent.Action.VIEW, customer=customer)
    return render_page(request, "customers/client_detail.html", _card_context(customer))


def _card_context(customer: Customer, **extra) -> dict:
    """What the card's first paint shows: who, the reasons and suggestions with their why,
    the open offers, how to reach, sizes and preferences, the latest purchases, notes. The
    points, the engagement chart and the contact log are sections of their own, loaded
    right after (`client_section`)."""
    orders, next_cursor = selectors.customer_orders_page(customer, size=CARD_ORDERS)
    context = _reach_context(customer)
    loyalty = services.loyalty_card(customer, points=False)
    recommendations = services.recommendations_for(customer)
    for suggestion in recommendations:
        # A suggestion in the category an open offer is about leads to that offer.
        suggestion.offer = loyalty.offer_for_category(suggestion.product.category_id)
    context.update(
        {
            "loyalty": loyalty,
            "orders": orders,
            "next_orders_url": _orders_url(customer, next_cursor),
            **selectors.card_lists(customer),
            "note_form": NoteForm(),
            "recommendations": recommendations,
            "sections": {
                name: reverse(f"customers:{name}", args=[customer.pk]) for name in SECTIONS
            },
        }
    )
    context.update(extra)
    return context


# The card's secondary sections, each loaded after the first paint (htmx, on load) and a
# page of its own without JavaScript: name -> (template, what it reads).
def _points_context(customer: Customer) -> dict:
    balance, movements = services.loyalty_points(customer)
    return {"balance": balance, "movements": movements}


def _engagement_context(customer: Customer) -> dict:
    engagement = selectors.engagement_by_month(customer)
    peak = max((month["total"] for month in engagement), default=0) or 1
    for month in engagement:
        # Bars of a 70-unit-high chart, the busiest month at full height.
        month["height"] = max(2, round(60 * month["total"] / peak)) if month["total"] else 0
        month["y"] = 65 - month["height"]
    return {
        "engagement": engagement,
        "engagement_summary": selectors.engagement_summary(engagement),
    }


def _log_context(customer: Customer) -> dict:
    return {"contact_log": selectors.contact_log_for_card(customer)}


SECTIONS = {
    "points": ("customers/_card_points.html", "Points", _points_context),
    "engagement": ("customers/_card_engagement.html", "Engagement", _engagement_context),
    "log": ("customers/_card_log.html", "Contact log", _log_context),
}
CARD_ORDERS = 3  # purchases in the first paint; older ones load as the list is scrolled


def _client_section(request: HtmxHttpRequest, pk: int, name: str) -> HttpResponse:
    """One of the card's secondary sections: the same access check as the card (a client
    of another store is a 404 and a recorded refusal), each view audited as the card's is.
    htmx swaps the section into the card; without it, it is a page of its own."""
    customer = _get_customer_for_staff(request, pk)
    services.audit_record(
        request=request,
        action=AuditEvent.Action.VIEW,
        customer=customer,
        detail={"section": name},
    )
    template, title, read = SECTIONS[name]
    context = {"customer": customer, "section_template": template, "section_title": title}
    context.update(read(customer))
    if not (request.htmx and not request.htmx.history_restore_request):
        template = "customers/client_section.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@login_required
def client_points(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The client's points: balance and last movements (one query)."""
    return _client_section(request, pk, "points")


@require_GET
@login_required
def client_engagement(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Opens, visits and favourites per month over the last year (one query)."""
    return _client_section(request, pk, "engagement")


@require_GET
@login_required
def client_log(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The contact log: contacts and the messages sent without one (two queries)."""
    return _client_section(request, pk, "log")


def _reach_context(customer: Customer, **extra) -> dict:
    """What the card's "How to reach" section shows (re-rendered alone after an edit)."""
    preferences = getattr(customer, "contact_preferences", None)
    topic_labels = dict(Topic.choices)
    context = {
        "customer": customer,
        "preferences": preferences,
        "topics_declined": [
            topic_labels.get(topic, topic)
            for topic in (preferences.topics_declined if preferences else [])
        ],
        "consents": selectors.consent_badges(customer),
        "consent_form": ConsentInPersonForm(customer=customer),
        "important_dates": customer.upcoming_dates(timezone.localdate()),
    }
    context.update(extra)
    return context


@require_http_methods(["GET", "POST"])
@login_required
def client_details_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Correct or complete the client's details on the card: names, phone, email, dates,
    home store. htmx swaps the form into the card's "How to reach" section and back."""
    customer = _get_customer_for_staff(request, pk)
    card_url = reverse("customers:detail", args=[customer.pk])
    form = CustomerDetailsForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                changed = services.customer_details_update(customer=customer, **form.cleaned_data)
                if changed:
                    # The names of what changed, never the values (the trail is not a copy of PII).
                    services.audit_record(
                        request=request,
                        action=AuditEvent.Action.EDIT,
                        customer=customer,
                        detail={"fields": changed},
                    )
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            if not _visible_customers(request).filter(pk=customer.pk).exists():
                # Moved to a store this person does not see: the card is no longer theirs.
                messages.success(
                    request, f"{customer.full_name} now belongs to {customer.home_store.name}."
                )
                url = reverse("customers:list")
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
            if not request.htmx:
                messages.success(request, f"{customer.first_name}'s details are saved.")
                return redirect(f"{card_url}#reach")
            context = _reach_context(customer, saved=bool(changed))
            return render_page(request, "customers/client_detail.html#reach", context)
    context = {"customer": customer, "form": form, "card_url": card_url}
    if request.htmx:
        return render_page(request, "customers/client_details_form.html#details-form", context)
    return render_page(request, "customers/client_details_form.html", context)


@require_POST
@login_required
def client_consent(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A consent the client gives or withdraws in person: recorded through the consent
    service (with the store's wording, the associate by name, audited)."""
    customer = _get_customer_for_staff(request, pk)
    form = ConsentInPersonForm(request.POST, customer=customer)
    if form.is_valid():
        channel = form.cleaned_data["channel"]
        granted = form.cleaned_data["granted"] == "yes"
        try:
            services.consent_record(
                customer=customer,
                channel=channel,
                granted=granted,
                source=Source.ASSOCIATE,
                wording=services.consent_wording(channel, customer.home_store) if granted else "",
                by=request.user,
            )
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            if not request.htmx:
                return redirect(f"{reverse('customers:detail', args=[customer.pk])}#reach")
            return render_page(
                request,
                "customers/client_detail.html#reach",
                _reach_context(customer, consent_saved=True),
            )
    context = _reach_context(customer, consent_form=form)
    if not request.htmx:
        return render_page(
            request, "customers/client_detail.html", _card_context(customer, consent_form=form)
        )
    return render_page(request, "customers/client_detail.html#reach", context)


def _orders_url(customer: Customer, cursor: tuple[datetime.datetime, int] | None) -> str:
    if cursor is None:
        return ""
    placed_at, pk = cursor
    query = urlencode({"before": placed_at.isoformat(), "id": pk})
    return f"{reverse('customers:orders', args=[customer.pk])}?{query}"


@require_GET
@login_required
def client_orders(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Older purchases, one page at a time (loaded as the associate scrolls)."""
    customer = _get_customer_for_staff(request, pk)
    before_at = parse_datetime(request.GET.get("before", "") or "")
    try:
        before_id = int(request.GET.get("id", ""))
    except ValueError:
        before_id = None
    if before_at is None or before_id is None:
        raise Http404("A page of older orders needs `before` (a date and time) and `id`.")
    services.audit_record(
        request=request,
        action=AuditEvent.Action.VIEW,
        customer=customer,
        detail={"section": "orders"},
    )
    orders, next_cursor = selectors.customer_orders_page(customer, before=(before_at, before_id))
    context = {
        "customer": customer,
        "orders": orders,
        "next_orders_url": _orders_url(customer, next_cursor),
    }
    return render_page(request, "customers/client_detail.html", context, partial="orders-page")


@require_POST
@login_required
@idempotent  # sent again from a phone's offline queue: done once
def note_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    customer = _get_customer_for_staff(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.note_add(
                customer=customer,
                author=request.user,
                text=form.cleaned_data["text"],
                pinned=form.cleaned_data["pinned"],
            )
        except ApplicationError as error:
            form.add_error(error.field, error.message)
    if form.is_valid():
        services.audit_record(request=request, action=AuditEvent.Action.NOTE, customer=customer)
        if not request.htmx:
            return redirect(f"{reverse('customers:detail', args=[customer.pk])}#notes")
        form = NoteForm()
    if not request.htmx:
        # Without htmx the whole card comes back, with the typed text and its error.
        return render_page(
            request, "customers/client_detail.html", _card_context(customer, note_form=form)
        )
    context = {"customer": customer, "notes": list(customer.notes.for_card()), "note_form": form}
    return render_page(request, "customers/client_detail.html", context, partial="notes")


@require_http_methods(["GET", "POST"])
@login_required
def note_edit(request: HtmxHttpRequest, pk: int, note_pk: int) -> HttpResponse:
    """Edit a note in place: GET gives the form, POST saves and gives the note back."""
    customer = _get_customer_for_staff(request, pk)
    note = _get_note(customer, note_pk)
    if request.method == "POST":
        form = NoteForm(request.POST, initial={"pinned": note.pinned})
        if form.is_valid():
            try:
                services.note_update(note=note, text=form.cleaned_data["text"])
            except ApplicationError as error:
                form.add_error(error.field, error.message)
        if form.is_valid():
            if not request.htmx:
                return redirect(f"{reverse('customers:detail', args=[customer.pk])}#notes")
            return render_page(
                request,
                "customers/client_detail.html",
                {"customer": customer, "note": note},
                partial="note",
            )
    else:
        form = NoteForm(initial={"text": note.text, "pinned": note.pinned})
    context = {"customer": customer, "note": note, "form": form}
    if request.htmx:
        return render_page(request, "customers/client_detail.html#note-form", context)
    return render_page(request, "customers/note_edit.html", context)


@require_POST
@login_required
def note_pin(request: HtmxHttpRequest, pk: int, note_pk: int) -> HttpResponse:
    """Pin or unpin a note; pinned notes come first on the card."""
    customer = _get_customer_for_staff(request, pk)
    note = _get_note(customer, note_pk)
    services.note_set_pinned(note=note, pinned=request.POST.get("pinned") == "true")
    if not request.htmx:
        return redirect(f"{reverse('customers:detail', args=[customer.pk])}#notes")
    context = {
        "customer": customer,
        "notes": list(customer.notes.for_card()),
        "note_form": NoteForm(),
    }
    return render_page(request, "customers/client_detail.html", context, partial="notes")


@require_http_methods(["GET", "POST"])
@login_required
@idempotent  # sent again from a phone's offline queue: done once
def client_create(request: HtmxHttpRequest) -> HttpResponse:
    """Quick-add at the counter: name, phone or email, and consent per channel, asked explicitly."""
    staff = staff_or_404(request, message="Only staff of a store can add clients.")
    form = QuickAddForm(request.POST or None, store=staff.store)
    duplicates: list[Customer] = []
    hidden_duplicate_stores: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        found = list(services.customer_duplicates(email=data["email"], phone=data["phone"]))
        visible_ids = set(
            _visible_customers(request)
            .filter(pk__in=[c.pk for c in found])
            .values_list("pk", flat=True)
        )
        duplicates = [c for c in found if c.pk in visible_ids]
        # Clients of other stores are not shown to this associate: only where they are.
        hidden_duplicate_stores = sorted(
            {c.home_store.name for c in found if c.pk not in visible_ids}
        )
        if not found:
            try:
                customer = services.customer_create(
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"],
                    phone=data["phone"],
                    home_store=staff.store,
                    assigned_associate=None if staff.is_manager else staff,
                    consents=form.consent_answers(),
                    recorded_by=request.user,
                )
            except ApplicationError as error:
                form.add_error(error.field, error.message)
            else:
                messages.success(
                    request, f"{customer.full_name} is now a client. Welcome {customer.first_name}!"
                )
                url = reverse("customers:detail", args=[customer.pk])
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = {
        "form": form,
        "duplicates": duplicates,
        "hidden_duplicate_stores": hidden_duplicate_stores,
    }
    return render_page(request, "customers/client_create.html", context, partial="quick-add")


@require_http_methods(["GET", "POST"])
@login_required
@idempotent  # sent again from a phone's offline queue: done once
def contact_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Reach out (a personal message, pre-filled) or log a call or visit; closes the reason it answers."""
    customer = _get_customer_for_staff(request, pk)
    reason = None
    if request.GET.get("reason", "").isdigit():
        reason = (
            customer.reasons.open()
            .select_related("product")
            .filter(pk=request.GET["reason"])
            .first()
        )
    blocked, notes = selectors.message_channel_status(customer, reason)
    sender = request.user.get_full_name() or request.user.get_username()
    # A channel that takes only approved templates now (WhatsApp after its 24-hour
    # window) stays open: the associate picks a template, and reads why free text can't.
    templates = _contact_templates(customer, blocked, reason, sender)
    if templates["template_only"]:
        blocked = {k: v for k, v in blocked.items() if k not in templates["template_only"]}
    if request.method == "POST":
        form = ContactForm(request.POST, customer=customer, blocked=blocked, **templates)
        if form.is_valid():
            data = form.cleaned_data
            template = data.get("template")
            body = data["body"]
            if template is not None:
                # The approved template's words go, not the text box's: the log says so.
                body = render_template_text(
                    template.body,
                    reason_wording_context(
                        customer=customer, reason=data["reason"], associate=sender
                    ),
                )
            try:
                services.contact_log(
                    customer=customer,
                    staff_user=request.user,
                    channel=data["channel"],
                    outcome=data["outcome"],
                    body=body,
                    reason=data["reason"],
                    template=template,
                )
            except ApplicationError as error:
                form.add_error(error.field, error.message)
            else:
                messages.success(request, f"Saved to {customer.first_name}'s contact log.")
                url = reverse("customers:detail", args=[customer.pk])
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    else:
        channel = selectors.message_channel_default(
            customer, blocked, otherwise=Contact.Channel.PHONE
        )
        form = ContactForm(
            customer=customer,
            blocked=blocked,
            **templates,
            initial={
                "channel": channel,
                "outcome": Contact.Outcome.SENT if is_channel(channel) else Contact.Outcome.REACHED,
                "body": draft_message(
                    customer=customer, reason=reason, sender_name=sender, channel=channel
                ),
                "reason": reason,
            },
        )
    context = {
        "customer": customer,
        "form": form,
        "blocked": blocked,
        "notes": notes,
        "template_only": templates["template_only"],
        "reason": reason,
    }
    return render_page(request, "customers/contact_form.html", context, partial="contact-form")


def _contact_templates(customer: Customer, blocked: dict[str, str], reason, sender: str) -> dict:
    """The contact form's approved templates: the channel that sends them (WhatsApp), the
    active templates with an approved version, the client's words for their preview, and
    the channels on which only they can go now (with why free text can't)."""
    channel = next((spec.code for spec in channels() if spec.template_id_attribute), "")
    found = selectors.message_templates_approved(channel) if channel else None
    if found is None or not found.exists():
        return {"template_only": {}}
    return {
        "templates": found,
        "template_channel": channel,
        "template_context": reason_wording_context(
            customer=customer, reason=reason, associate=sender
        ),
        "template_only": selectors.message_channels_template_only(customer, blocked, reason),
    }


@require_http_methods(["GET", "POST"])
@login_required
def questionnaire(request: HtmxHttpRequest, pk: int, step: str) -> HttpResponse:
    """One screen of the preference questionnaire; saving moves to the next screen.

    `?by=client` marks answers as given by the client on the tablet rather than taken
    down by the associate; it is carried from screen to screen.
    """
    customer = _get_customer_for_staff(request, pk)
    current = STEP_BY_SLUG.get(step)
    if current is None:
        raise Http404("No such question.")
    # Handed over (a locked session, customers.handover): the client holds the tablet.
    handed_over = handover_active(request) is not None
    by_client = handed_over or request.GET.get("by") == "client"
    source = Source.CLIENT if by_client else Source.QUESTIONNAIRE
    form = current.form_class(request.POST or None, customer=customer)
    if by_client:
        address_client(form)
    index = STEPS.index(current)
    suffix = "?by=client" if by_client and not handed_over else ""
    if request.method == "POST" and form.is_valid():
        try:
            form.save(customer, source)
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            if index + 1 < len(STEPS):
                url = (
                    reverse("customers:questionnaire", args=[customer.pk, STEPS[index + 1].slug])
                    + suffix
                )
            elif handed_over:
                # The client's last screen thanks them; their staff card stays out of sight.
                url = reverse("customers:handover-thanks", args=[customer.pk])
            else:
                messages.success(
                    request, f"Thank you! {customer.first_name}'s preferences are up to date."
                )
                url = reverse("customers:detail", args=[customer.pk])
            return (
                HttpResponseClientRedirect(url)
                if request.htmx and index + 1 == len(STEPS)
                else redirect(url)
            )
    context = {
        "customer": customer,
        "form": form,
        "step": current,
        "question": current.client_question if by_client else current.question,
        "steps": STEPS,
        "index": index,
        "by_client": by_client,
        "handed_over": handed_over,
        "store": customer.home_store,
        "suffix": suffix,
        "previous_url": (
            reverse("customers:questionnaire", args=[customer.pk, STEPS[index - 1].slug]) + suffix
            if index
            else ""
        ),
    }
    template = "customers/handover.html" if handed_over else "customers/questionnaire.html"
    response = render_page(request, template, context, partial="question")
    if request.htmx and request.method == "GET":
        # After a saved step htmx follows the redirect here: show this step's URL.
        response["HX-Push-Url"] = request.get_full_path()
    return response


CONVERSATION_LENGTH = 50


@require_http_methods(["GET", "POST"])
@login_required
def conversation(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The thread with a client: what we sent and what they answered, oldest first, and a
    reply from the store's number or address. Answering closes their "wrote back" reasons."""
    customer = _get_customer_for_staff(request, pk)
    blocked, notes = selectors.message_channel_status(customer)
    last_inbound = (
        customer.contacts.filter(direction=Contact.Direction.INBOUND)
        .order_by("-occurred_at")
        .first()
    )
    channel = selectors.message_channel_default(
        customer, blocked, wanted=last_inbound.channel if last_inbound else ""
    )
    form = ReplyForm(request.POST or None, blocked=blocked, initial={"channel": channel})
    if request.method == "POST" and form.is_valid():
        try:
            services.conversation_reply(
                customer=customer,
                staff_user=request.user,
                channel=form.cleaned_data["channel"],
                body=form.cleaned_data["body"],
            )
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            url = reverse("customers:conversation", args=[customer.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    thread = list(
        customer.contacts.filter(Q(direction=Contact.Direction.INBOUND) | Q(message__isnull=False))
        .select_related("staff", "message")
        .order_by("-occurred_at")[:CONVERSATION_LENGTH]
    )
    thread.reverse()
    context = {
        "customer": customer,
        "thread": thread,
        "form": form,
        "blocked": blocked,
        "notes": notes,
    }
    return render_page(request, "customers/conversation.html", context, partial="reply-form")


@require_http_methods(["GET", "POST"])
@login_required
def selection_create(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Send the client a few pieces picked for them, as a personal phone page."""
    customer = _get_customer_for_staff(request, pk)
    blocked, notes = selectors.message_channel_status(customer)
    suggestions = Product.objects.filter(
        pk__in=customer.recommendations.order_by("rank").values("product_id")[:10]
    ).order_by("name")
    channel = selectors.message_channel_default(customer, blocked)
    form = SelectionForm(
        request.POST or None, suggestions=suggestions, blocked=blocked, initial={"channel": channel}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.selection_send(
                customer=customer,
                staff_user=request.user,
                product_ids=form.cleaned_data["product_ids"],
                note=form.cleaned_data["note"],
                channel=form.cleaned_data["channel"],
            )
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Your selection is on its way to {customer.first_name}.")
            url = reverse("customers:detail", args=[customer.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = {"customer": customer, "form": form, "blocked": blocked, "notes": notes}
    return render_page(request, "customers/selection_form.html", context, partial="selection-form")
