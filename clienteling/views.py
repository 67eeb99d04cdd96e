"""Views of the project package: the composing home page ("Today") and a health check."""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from appointments.selectors import appointments_for_today, pager_for
from appointments.views.rooms import poll_state
from clienteling.core.http import HtmxHttpRequest
from clienteling.stores.access import request_staff
from clienteling.stores.refusals import security_alerts_for_store
from customers.reason_kinds import client_initiated_kinds
from customers.selectors import (
    book_size,
    reasons_for_today_and_queue,
    recent_orders_for,
    top_suggestions_for,
)

RECENT_PURCHASE_DAYS = 7
RECENT_PURCHASE_LIMIT = 10
TODAY_REASON_LIMIT = 30
TODAY_QUEUE_LIMIT = 20
# Rows of each group on the first screen (about a phone's screen of reasons); "Show N more"
# brings the rest of a group.
TODAY_FIRST_ROWS = 6


@require_GET
@login_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    """Today: the signed-in staff member's day, in their store's time zone.

    Each group of reasons shows its first TODAY_FIRST_ROWS rows; `?more=<group>` shows a
    group whole (with htmx, only its other rows, swapped in under the first ones).
    """
    staff = request_staff(request)
    context: dict = {"staff": staff}
    if staff is None:
        return render(request, "clienteling/home.html", context)
    store = staff.store
    now = timezone.now()
    # Mine, and the store queue's (clients of the store nobody looks after: online, self
    # sign-ups), read together: two queries.
    reasons, queue, queue_more = reasons_for_today_and_queue(
        staff=staff, limit=TODAY_REASON_LIMIT, queue_limit=TODAY_QUEUE_LIMIT
    )
    # Grouped by what to do, in memory (no query): answer the clients who started it
    # (a reply, a sign-up), then reach out to the others. Each keeps the score order.
    initiated = set(client_initiated_kinds())
    groups = {
        "replies": [reason for reason in reasons if reason.kind in initiated],
        "outreach": [reason for reason in reasons if reason.kind not in initiated],
        "queue": queue,
    }
    whole = request.GET.get("more", "")
    more_rows = whole in groups and request.htmx and not request.htmx.history_restore_request
    # The first screen: rendering a row costs more than reading it (issue 20), so each
    # group renders its first rows and says how many more there are; "Show more" of one
    # group renders its other rows, and nothing else.
    if more_rows:
        shown = {whole: groups[whole][TODAY_FIRST_ROWS:]}
    else:
        shown = {
            name: rows if name == whole else rows[:TODAY_FIRST_ROWS]
            for name, rows in groups.items()
        }
    rendered = [reason for rows in shown.values() for reason in rows]
    # Something to offer while reaching out, for the rows shown (one query): the reason's
    # own product (what runs out, what was left in a cart), else the client's best suggestion.
    suggestions = top_suggestions_for([reason.customer_id for reason in rendered])
    for reason in rendered:
        top = suggestions.get(reason.customer_id)
        reason.suggested_product = reason.product or (top.product if top else None)
    if more_rows:
        response = render(
            request,
            "clienteling/home.html#more-rows",
            {
                "rows": shown[whole],
                "action": "Reply" if whole == "replies" else "Reach out",
                "in_queue": whole == "queue",
            },
        )
        # The same URL answers with a page or (htmx) some rows: caches keep them apart.
        patch_vary_headers(response, ["HX-Request"])
        return response
    for name, rows in groups.items():
        context[f"{name}_shown"] = shown[name]
        context[f"{name}_hidden"] = len(rows) - len(shown[name])
    since = now - datetime.timedelta(days=RECENT_PURCHASE_DAYS)
    # Fitting-room pages waiting for me or taken by me (one query); the section then
    # polls /rooms/pages/ by itself.
    pager = pager_for(staff)
    context.update(
        store=store,
        local_now=timezone.localtime(now, store.zone),
        book_size=book_size(staff),
        reasons=reasons,
        replies=groups["replies"],
        outreach=groups["outreach"],
        queue=queue,
        queue_more=queue_more,
        recent_orders=recent_orders_for(staff, since=since, limit=RECENT_PURCHASE_LIMIT),
        recent_days=RECENT_PURCHASE_DAYS,
        pager=pager,
        poll=poll_state(pager.version),
        appointments=appointments_for_today(staff, now),
    )
    if staff.is_manager:
        # One query, for managers only: someone of the store probing other stores' records.
        context["security_alerts"] = list(security_alerts_for_store(staff.store_id)[:5])
    response = render(request, "clienteling/home.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@login_required
def more(request: HtmxHttpRequest) -> HttpResponse:
    """The "More" tab: the pages used less often than the four others, and a
    manager's own (performance, response times, the admin). A plain page: no JS needed."""
    return render(request, "clienteling/more.html", {"staff": request_staff(request)})


@require_GET
def livez(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers, nothing else is checked. Also the benchmark's ceiling."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: answers 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
