"""Hand-over mode's own pages: start it, the client's thank-you, the staff sign-in that ends it.

The questionnaire itself (views.questionnaire) shows its client-facing face while the
session is handed over; `customers.handover` holds the lock.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate, get_user_model, login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clienteling.core.http import HtmxHttpRequest, render_page
from clienteling.stores.access import staff_or_404
from clienteling.stores.models import StaffMember, Store

from . import selectors
from .handover import Handover, handover_active, handover_end, handover_start
from .models import Customer


class StaffSignInForm(forms.Form):
    """The staff member who takes the tablet back: their own password (or another staff
    member of the store, by username and password)."""

    username = forms.CharField(
        label="Username",
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
        help_text="Leave empty if you handed over the tablet.",
    )
    password = forms.CharField(
        label="Password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


def _handover_for(request: HtmxHttpRequest, pk: int) -> tuple[Handover, Customer, Store]:
    """The hand-over of this session, for this client; 404 for anything else."""
    handover = handover_active(request)
    if handover is None or handover.customer_id != pk:
        raise Http404("This tablet is not handed over to this client.")
    customer = Customer.objects.select_related("home_store").get(pk=pk)
    store = Store.objects.get(pk=handover.store_id)
    return handover, customer, store


@require_POST
@login_required
def handover_begin(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Hand the tablet to the client: the session is locked to their questionnaire."""
    staff = staff_or_404(request, message="Only staff of a store can hand a tablet over.")
    customer = selectors.customer_visible_or_404(request, pk=pk)
    handover_start(request, customer_id=customer.pk, store_id=staff.store_id)
    return redirect(reverse("customers:questionnaire", args=[customer.pk, "sizes"]))


@require_GET
@login_required
def handover_thanks(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The client's last screen: a thank-you in the store's name, nothing of the record."""
    _, customer, store = _handover_for(request, pk)
    context = {"customer": customer, "store": store, "client_facing": True}
    return render_page(request, "customers/handover_thanks.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def handover_exit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A staff member takes the tablet back by signing in: the password of who handed it
    over, or username and password of any active staff member of that store."""
    handover, customer, store = _handover_for(request, pk)
    form = StaffSignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip()
        if not username:
            username = (
                get_user_model()
                .objects.filter(pk=handover.staff_user_id)
                .values_list("username", flat=True)
                .first()
                or ""
            )
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        allowed = (
            user is not None
            and user.is_active
            and (
                user.pk == handover.staff_user_id
                or StaffMember.objects.active().filter(user=user, store_id=store.pk).exists()
            )
        )
        if allowed:
            handover_end(request)
            if user.pk != request.user.pk:
                login(request, user)  # the one who took the tablet back is signed in now
            return redirect(reverse("customers:detail", args=[customer.pk]))
        form.add_error("password", "That is not the password of a staff member of this store.")
    context = {"customer": customer, "store": store, "form": form, "client_facing": True}
    return render_page(request, "customers/handover_exit.html", context)
