"""The service worker (served from the site root) and a device's notification switch."""

from __future__ import annotations

import hashlib
import json

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.views.decorators.http import require_GET, require_POST

from . import services

# Files the worker keeps for offline use (the pages' own assets).
OFFLINE_ASSETS = [
    "css/app.css",
    "css/device.css",
    "js/device.js",
    "js/offline.js",
    "icons/icon-192.png",
]


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """/sw.js: at the root, so its scope can cover Today ("/") and the associate pages.

    Served by Django (not as a static file) for the root scope and so the browser checks
    for a new version on each visit (no-cache). Its first line tells it the current
    names of the assets to keep offline (hashed in production); its version changes
    whenever they or the worker change, which replaces the old caches.
    """
    path = finders.find("js/sw.js")
    if path:
        with open(path, encoding="utf-8") as source:
            code = source.read()
    else:  # a deployment with collected static files only
        with staticfiles_storage.open("js/sw.js") as source:
            code = source.read().decode()
    assets = [static(name) for name in OFFLINE_ASSETS]
    version = hashlib.sha256((code + "".join(assets)).encode()).hexdigest()[:12]
    config = json.dumps({"version": version, "assets": assets})
    response = HttpResponse(
        f"self.CONFIG = {config};\n{code}", content_type="application/javascript; charset=utf-8"
    )
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


def _json(request: HttpRequest) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@require_POST
@login_required
def subscription_save(request: HttpRequest) -> HttpResponse:
    """This device said yes: remember its push subscription for the signed-in person."""
    if not services.push_enabled():
        return JsonResponse({"error": "Notifications are not set up for this store."}, status=404)
    data = _json(request)
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    endpoint, p256dh, auth = data.get("endpoint"), keys.get("p256dh"), keys.get("auth")
    if not all(isinstance(value, str) and value for value in (endpoint, p256dh, auth)):
        return JsonResponse(
            {"error": "A push subscription needs an endpoint and keys."}, status=400
        )
    if not endpoint.startswith("https://"):
        return JsonResponse({"error": "A push endpoint is an https address."}, status=400)
    services.subscription_save(
        user=request.user,
        endpoint=endpoint[:1000],
        p256dh=p256dh[:200],
        auth=auth[:100],
        label=request.headers.get("User-Agent", "")[:200],
    )
    return JsonResponse({"ok": True}, status=201)


@require_POST
@login_required
def subscription_remove(request: HttpRequest) -> HttpResponse:
    """This device turned notifications off, or its person is signing out of it."""
    endpoint = _json(request).get("endpoint")
    removed = services.subscription_remove(user=request.user, endpoint=str(endpoint or ""))
    return JsonResponse({"removed": removed})
