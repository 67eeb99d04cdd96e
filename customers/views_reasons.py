"""What a person does to a reason without reaching out: snooze it, dismiss it with why, or
take on a client nobody looks after (the store queue).

Its own module, next to views.py: the card's and Today's rows post here, and views.py is
near the size where STYLE.md splits a module.

Every action works as a plain form (redirect back to `next`, a page with the error for bad
input); with htmx the row swaps itself away and a status line says what happened.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from clienteling.core import formats
from clienteling.core.errors import ApplicationError
from clienteling.core.http import HtmxHttpRequest
from clienteling.stores.access import request_staff
from clienteling.stores.refusals import get_visible_or_404

from . import selectors, services
from .forms import ReasonDismissForm, ReasonSnoozeForm
from .models import Reason


def _get_reason_for_staff(request: HtmxHttpRequest, pk: int) -> Reason:
    """A reason about a client the signed-in person may see; 404 (and a recorded refusal
    when it exists elsewhere) otherwise."""
    visible = selectors.customers_visible_to(user=request.user, staff=request_staff(request))
    return get_visible_or_404(
        request,
        Reason.objects.filter(customer__in=visible).select_related(
            "customer__assigned_associate__user"
        ),
        target="reason",
        everyone=Reason.objects.all(),
        message="No such reason.",
        pk=pk,
    )


def _next_url(request: HtmxHttpRequest, fallback: str) -> str:
    """Where the plain form goes back to: the page it came from, on this site only."""
    wanted = (request.POST if request.method == "POST" else request.GET).get("next", "")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return fallback


def _row_gone(request: HtmxHttpRequest, said: str) -> HttpResponse:
    """htmx: no content for the row (hx-swap="outerHTML" removes it), and the status line
    (out of band) says what happened, for screen readers and the eye."""
    return render(request, "customers/_reason_status.html", {"said": said})


def _refused(
    request: HtmxHttpRequest, reason: Reason, form: ReasonSnoozeForm | ReasonDismissForm
) -> HttpResponse:
    """Bad input: the menu again, open, with the error (status 200 so htmx swaps it); a
    page holding the same menu without htmx."""
    context = {
        "reason": reason,
        "customer": reason.customer,
        "form": form,
        "next": _next_url(request, reverse("customers:detail", args=[reason.customer_id])),
        "menu_open": True,
    }
    if request.htmx:
        response = render(request, "customers/_reason_menu.html", context)
        return reswap(retarget(response, f"#reason-menu-{reason.pk}"), "outerHTML")
    return render(request, "customers/reason_actions.html", context)


def _done(request: HtmxHttpRequest, reason: Reason, said: str) -> HttpResponse:
    if request.htmx:
        return _row_gone(request, said)
    messages.success(request, said)
    return redirect(_next_url(request, reverse("customers:detail", args=[reason.customer_id])))


@require_GET
@login_required
def reason_actions(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A reason's menu (snooze, dismiss, and claim in the store queue), asked for when it
    opens: with htmx the panel alone (Today's rows do not render three forms each); without,
    a page holding the same choices as plain forms that go back to `next`."""
    reason = _get_reason_for_staff(request, pk)
    associate = reason.customer.assigned_associate
    context = {
        "reason": reason,
        "customer": reason.customer,
        "next": _next_url(request, reverse("customers:detail", args=[reason.customer_id])),
        # Only for a client nobody (active) looks after: the store queue's rows ask for it.
        "claim": request.GET.get("claim") == "1"
        and (associate is None or not associate.user.is_active),
        "menu_open": True,
    }
    if request.htmx:
        return render(request, "customers/_reason_menu_panel.html", context)
    return render(request, "customers/reason_actions.html", context)


@require_POST
@login_required
def reason_snooze(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Hide a reason from Today until tomorrow, next week or a day picked."""
    reason = _get_reason_for_staff(request, pk)
    form = ReasonSnoozeForm(request.POST)
    if form.is_valid():
        until = form.cleaned_data["until"]
        try:
            services.reason_snooze(reason=reason, until=until)
        except ApplicationError as error:
            form.add_error("on" if error.field == "until" else None, error.message)
        else:
            # Already closed by someone else: it leaves the list all the same.
            return _done(
                request, reason, f"{reason.customer.first_name}: back on {formats.day(until)}."
            )
    return _refused(request, reason, form)


@require_POST
@login_required
def reason_dismiss(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Close a reason as dismissed, with why (not relevant, already in touch, asked not to)."""
    reason = _get_reason_for_staff(request, pk)
    form = ReasonDismissForm(request.POST)
    if form.is_valid():
        services.reason_close(
            reason=reason, by=request.user, state=Reason.State.DISMISSED, closed_note=form.note
        )
        return _done(
            request, reason, f"{reason.customer.first_name}: dismissed ({form.note.lower()})."
        )
    return _refused(request, reason, form)


@require_POST
@login_required
def client_claim(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Take on a client nobody looks after: they, and their reasons, become mine."""
    customer = selectors.customer_visible_or_404(request, pk=pk)
    staff = request_staff(request)
    back = _next_url(request, reverse("customers:detail", args=[customer.pk]))
    if staff is None:
        messages.error(request, "Only someone of a store can take on a client.")
    else:
        try:
            claimed = services.customer_claim(customer=customer, staff=staff)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            if claimed:
                messages.success(request, f"{customer.first_name} is your client now.")
            else:
                messages.info(request, f"Someone already looks after {customer.first_name}.")
    # The client moves from the store queue to my own groups: the page shows both again.
    return HttpResponseClientRedirect(back) if request.htmx else redirect(back)
