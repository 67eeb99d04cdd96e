"""Sessions on shared store devices, and the second factor for managers and superusers.

- `IdleTimeoutMiddleware`: a session unused for SESSION_IDLE_TIMEOUT_SECONDS ends (a
  tablet left on the counter signs itself out). Background polls (the fitting-room pager)
  do not count as use, so a phone left open does not stay signed in for ever. The last
  use is kept in the shared cache, not in the session, and written at most once a
  minute: pages cost no extra SQL query (sessions are read from the cache too). If the
  cache lost it, the session goes on (fail-open) and the clock starts again.
- `SecondFactorMiddleware`: with TWO_FACTOR_REQUIRED on (production settings), anyone
  who can reach the admin or manage a store (superusers, staff users, store managers)
  must verify a one-time code (django-otp, TOTP) after the password before any other page;
  without a device yet, they are sent to set one up first.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from clienteling.stores.access import request_staff

LAST_SEEN_PREFIX = "last-seen:"
# The last use is written to the session at most this often (seconds).
LAST_SEEN_RESOLUTION = 60


def _sign_in_again(request: HttpRequest, message: str) -> HttpResponse:
    url = f"{reverse('login')}?next={request.get_full_path()}"
    if getattr(request, "htmx", False):
        # A swap would put the login page inside a region: reload the whole page instead.
        return HttpResponseClientRedirect(url)
    messages.info(request, message)
    return redirect(url)


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timeout = settings.SESSION_IDLE_TIMEOUT_SECONDS
        session_key = request.session.session_key
        if timeout and session_key and request.user.is_authenticated:
            key = LAST_SEEN_PREFIX + session_key
            now = int(time.time())
            last_seen = cache.get(key)
            if last_seen is not None and now - last_seen > timeout:
                cache.delete(key)
                logout(request)  # flushes the session on the server
                return _sign_in_again(
                    request, "You were signed out after a while without use. Sign in again."
                )
            background = any(
                request.path.startswith(prefix) for prefix in settings.SESSION_IDLE_IGNORE_PATHS
            )
            if last_seen is None or (not background and now - last_seen >= LAST_SEEN_RESOLUTION):
                # Kept as long as a session can live at all.
                cache.set(key, now, timeout=settings.SESSION_COOKIE_AGE)
        return self.get_response(request)


def needs_second_factor(request: HttpRequest) -> bool:
    """Who must verify a one-time code: superusers and anyone who can reach the admin or
    manage a store. The staff record is the one every page loads anyway (no extra query)."""
    user = request.user
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    staff = request_staff(request)
    return bool(staff and staff.is_manager)


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.TWO_FACTOR_REQUIRED
            and needs_second_factor(request)
            and not request.user.is_verified()
            and not any(request.path.startswith(path) for path in _open_paths())
        ):
            from django_otp import devices_for_user

            has_device = any(devices_for_user(request.user, confirmed=True))
            target = "two-factor-verify" if has_device else "two-factor-setup"
            url = f"{reverse(target)}?next={request.get_full_path()}"
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(url)
            return redirect(url)
        return self.get_response(request)


def _open_paths() -> list[str]:
    """What a signed-in but not yet verified person may open: the second-factor pages,
    signing out, static files, and the public pages (which need no sign-in at all)."""
    return [
        reverse("two-factor-setup"),
        reverse("two-factor-verify"),
        reverse("logout"),
        settings.STATIC_URL if settings.STATIC_URL.startswith("/") else f"/{settings.STATIC_URL}",
    ]


class PermissionsPolicyMiddleware:
    """Send PERMISSIONS_POLICY as the Permissions-Policy header (Django has no setting)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
