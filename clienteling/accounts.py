"""The second factor: setting up an authenticator app (TOTP) and entering its code.

Managers and superusers reach these after their password when TWO_FACTOR_REQUIRED is on
(see `clienteling.security.SecondFactorMiddleware`); anyone else may set one up too.
"""

from __future__ import annotations

import base64

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_ratelimit.decorators import ratelimit

DEVICE_NAME = "Authenticator app"


class CodeForm(forms.Form):
    code = forms.CharField(
        label="6-digit code",
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*"}
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if not code.isdigit() or len(code) != 6:
            raise forms.ValidationError("Enter the 6 digits your authenticator app shows.")
        return code


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


def _user_key(group: str, request: HttpRequest) -> str:
    return str(request.user.pk)


@require_http_methods(["GET", "POST"])
@login_required
@ratelimit(key=_user_key, rate="10/5m", method="POST", block=False)
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Scan a QR code with an authenticator app, then type its code to confirm."""
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect(f"{reverse('two-factor-verify')}?next={_next(request)}")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name=DEVICE_NAME, confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if getattr(request, "limited", False):
            form.add_error("code", "Too many tries: wait a few minutes and try again.")
        elif not device.verify_is_allowed()[0]:
            form.add_error("code", "Wait a few seconds before trying another code.")
        elif device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, "Your authenticator app is set up.")
            return redirect(_next(request))
        else:
            form.add_error("code", "That code does not match. Check the app's clock and try again.")
    qr = segno.make(device.config_url, error="m").svg_inline(scale=5)
    context = {
        "form": form,
        # segno's output is markup it generated from the otpauth URL.
        "qr": mark_safe(  # noqa: S308
            qr.replace(
                "<svg ", '<svg role="img" aria-label="QR code for your authenticator app" ', 1
            )
        ),
        "secret": base64.b32encode(device.bin_key).decode(),
        "next": _next(request),
    }
    return render(request, "registration/two_factor_setup.html", context)


@require_http_methods(["GET", "POST"])
@login_required
@ratelimit(key=_user_key, rate="10/5m", method="POST", block=False)
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """After the password: the code from the authenticator app."""
    if not TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect(f"{reverse('two-factor-setup')}?next={_next(request)}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if getattr(request, "limited", False):
            form.add_error("code", "Too many tries: wait a few minutes and try again.")
        else:
            device = match_token(request.user, form.cleaned_data["code"])
            if device is not None:
                otp_login(request, device)
                return redirect(_next(request))
            form.add_error("code", "That code does not match. Try the newest one.")
    return render(
        request, "registration/two_factor_verify.html", {"form": form, "next": _next(request)}
    )
