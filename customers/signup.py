"""Self sign-up at the counter: a store's QR code opens a short page on the client's own phone.

Public (no login): the page knows only the store, from the secret token in its link,
and optionally the associate who showed their own QR code (a signed id in the link).
It never says whether the person was already a client.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from clienteling.core.http import absolute_url
from clienteling.core.qr import qr_svg
from clienteling.stores.access import staff_or_404
from clienteling.stores.models import StaffMember, Store

from . import services
from .forms import ContactConsentForm

ASSOCIATE_SALT = "customers.signup.associate"
# Sign-ups from one address per hour. A busy store's counter tablets share an address,
# so this is generous; it stops a script, not a queue of clients.
SIGNUP_RATE = "40/h"


def signup_path(store: Store, associate: StaffMember | None = None) -> str:
    path = reverse("signup", args=[store.signup_token])
    if associate is not None:
        path += "?" + "from=" + signing.dumps(associate.pk, salt=ASSOCIATE_SALT)
    return path


class SignupForm(ContactConsentForm):
    """On the client's own phone: a name, a way to reach them, a box per channel."""

    first_name = forms.CharField(label="First name", max_length=100)
    last_name = forms.CharField(label="Last name", max_length=100, required=False)

    # A box left unticked next to an address given is a "no", recorded as such.
    unticked_is_no = True
    address_required = ("phone", "Give a mobile number or an email, so we can reach you.")

    def __init__(self, *args, store: Store, **kwargs):
        super().__init__(*args, store=store, **kwargs)
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"


def _associate_from_link(request: HttpRequest, store: Store) -> StaffMember | None:
    try:
        staff_id = signing.loads(request.GET.get("from", ""), salt=ASSOCIATE_SALT)
    except signing.BadSignature:
        return None
    return StaffMember.objects.filter(pk=staff_id, store=store, user__is_active=True).first()


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=SIGNUP_RATE, method="POST", block=False)
def signup(request: HttpRequest, token: str) -> HttpResponse:
    store = get_object_or_404(Store, signup_token=token, is_active=True)
    associate = _associate_from_link(request, store)
    form = SignupForm(request.POST or None, store=store)
    status = 200
    if request.method == "POST":
        if getattr(request, "limited", False):
            form.add_error(
                None,
                "Many people signed up from here in the last hour. Please ask an associate to help you.",
            )
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            services.customer_self_signup(
                store=store,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                phone=data["phone"],
                consents=form.consent_answers(),
                associate=associate,
            )
            # Carried in the session, not as a message: a message shows as a banner too.
            request.session["signup_first_name"] = data["first_name"]
            return redirect("signup-thanks", token=store.signup_token)
    context = {"store": store, "associate": associate, "form": form}
    return render(request, "customers/signup.html", context, status=status)


@require_GET
def signup_thanks(request: HttpRequest, token: str) -> HttpResponse:
    store = get_object_or_404(Store, signup_token=token, is_active=True)
    first_name = request.session.pop("signup_first_name", "")
    return render(
        request, "customers/signup_thanks.html", {"store": store, "first_name": first_name}
    )


@require_GET
@login_required
def signup_qr(request: HttpRequest) -> HttpResponse:
    """The associate's own sign-up QR code, to show a client at the counter."""
    staff = staff_or_404(request, message="Only staff of a store have a sign-up code.")
    url = absolute_url(signup_path(staff.store, staff), request)
    return render(
        request,
        "customers/signup_qr.html",
        {"store": staff.store, "qr": qr_svg(url, label="QR code to sign up"), "url": url},
    )
