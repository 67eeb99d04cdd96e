"""Small request/response helpers shared by the page views."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import CharField, QuerySet, Value
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def render_page(
    request: HtmxHttpRequest,
    template: str,
    context: dict,
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the whole page, or only `partial` of it for an htmx request.

    A history-restore request (the user went back and htmx lost its cache) gets the
    whole page, as a plain request does: every screen works without htmx.
    """
    if partial and request.htmx and not request.htmx.history_restore_request:
        template = f"{template}#{partial}"
    response = render(request, template, context, status=status)
    # The same URL answers with a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


# Links built with no request (messages the worker sends) in development, SITE_URL unset.
DEVELOPMENT_SITE_URL = "http://127.0.0.1:8000"


def site_root(request: HttpRequest | None = None) -> str:
    """Scheme, host and port that absolute links start with (no trailing slash).

    SITE_URL when it is set (production: required with DEBUG off). Otherwise the host and
    port serving `request` (the demo on any port); `build_absolute_uri` reads the Host
    header only through `get_host()`, so ALLOWED_HOSTS still refuses a forged one.
    With no request (the worker) and no SITE_URL, only development has a fallback.
    """
    if settings.SITE_URL:
        return settings.SITE_URL.rstrip("/")
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    if settings.DEBUG:
        return DEVELOPMENT_SITE_URL
    raise ImproperlyConfigured("SITE_URL must be set when DEBUG is off.")


def absolute_url(path: str, request: HttpRequest | None = None) -> str:
    """`path` (from `reverse()`) as a full link: see `site_root` for the host it gets."""
    return site_root(request) + path


class LinkRootAdminMixin:
    """Give every row of an admin page `link_root`: the `site_root` of the request.

    Django calls display methods and read-only fields with the row alone, never the
    request; the row carrying the root lets a QR code or a link shown in the admin follow
    the host and port serving the page, without keeping the request on the shared
    ModelAdmin instance (not thread-safe). Lists, change pages and actions all read rows
    through `get_queryset`.
    """

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        root = Value(site_root(request), output_field=CharField())
        return super().get_queryset(request).annotate(link_root=root)  # type: ignore[misc]


def row_link(obj: object, path: str) -> str:
    """`path` as a full link on the root `LinkRootAdminMixin` gave the row."""
    root = getattr(obj, "link_root", None)
    return (root or site_root()) + path
