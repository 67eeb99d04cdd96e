"""Views of the project package: the composing home page ("Today") and a health check."""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from appointments.selectors import appointments_for_today, pager_for
from appointments.views.rooms import poll_state
from clienteling.core.http import HtmxHttpRequest
from clienteling.stores.access import request_staff
from clienteling.stores.refusals import security_alerts_for_store
from customers.models import Customer, Order
from customers.reason_kinds import client_initiated_kinds
from customers.selectors import reasons_for_store_queue, reasons_for_today, top_suggestions_for

RECENT_PURCHASE_DAYS = 7
RECENT_PURCHASE_LIMIT = 10
TODAY_REASON_LIMIT = 30
TODAY_QUEUE_LIMIT = 20


@require_GET
@login_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    """Today: the signed-in staff member's day, in their store's time zone."""
    staff = request_staff(request)
    context: dict = {"staff": staff}
    if staff is not None:
        store = staff.store
        now = timezone.now()
        since = now - datetime.timedelta(days=RECENT_PURCHASE_DAYS)
        # Fitting-room pages waiting for me or taken by me (one query); the section then
        # polls /rooms/pages/ by itself.
        pager = pager_for(staff)
        reasons = reasons_for_today(staff=staff, limit=TODAY_REASON_LIMIT)
        # Clients of the store nobody looks after (online, self sign-ups): one query more.
        queue, queue_more = reasons_for_store_queue(staff=staff, limit=TODAY_QUEUE_LIMIT)
        suggestions = top_suggestions_for([reason.customer_id for reason in reasons + queue])
        for reason in reasons + queue:
            # Something to offer while reaching out: the reason's own product (what runs
            # out, what was left in a cart), else the client's best suggestion.
            top = suggestions.get(reason.customer_id)
            reason.suggested_product = reason.product or (top.product if top else None)
        # Grouped by what to do, in memory (no query): answer the clients who started it
        # (a reply, a sign-up), then reach out to the others. Each keeps the score order.
        initiated = set(client_initiated_kinds())
        context.update(
            store=store,
            local_now=timezone.localtime(now, store.zone),
            book_size=Customer.objects.assigned_to(staff).count(),
            reasons=reasons,
            replies=[reason for reason in reasons if reason.kind in initiated],
            outreach=[reason for reason in reasons if reason.kind not in initiated],
            queue=queue,
            queue_more=queue_more,
            recent_orders=list(
                Order.objects.filter(customer__assigned_associate=staff, placed_at__gte=since)
                .counted()
                .select_related("customer", "store")
                .order_by("-placed_at")[:RECENT_PURCHASE_LIMIT]
            ),
            recent_days=RECENT_PURCHASE_DAYS,
            pager=pager,
            poll=poll_state(pager.version),
            appointments=appointments_for_today(staff, now),
        )
        if staff.is_manager:
            # One query, for managers only: someone of the store probing other stores' records.
            context["security_alerts"] = list(security_alerts_for_store(staff.store_id)[:5])
    return render(request, "clienteling/home.html", context)


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
