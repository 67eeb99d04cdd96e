"""The managers' performance page and its CSV export (figures: clienteling.performance)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from clienteling.core.http import HtmxHttpRequest, render_page
from clienteling.ops.router import reads_from_replica
from clienteling.stores.access import request_staff
from clienteling.stores.models import Store

from .performance import (
    Bucket,
    Performance,
    figures_as_rows,
    holdouts_as_rows,
    store_performance,
)
from .performance_forms import PRESET_DAYS, PerformanceFilterForm

# The export's tables: `?table=` names one (the associates' by default).
CSV_TABLES = {"associates": figures_as_rows, "holdouts": holdouts_as_rows}


def _stores_for_performance(request: HtmxHttpRequest) -> list[Store]:
    """The stores whose figures this person may see: a superuser every store, a manager
    their own. Anyone else gets a 404 (the page does not exist for them), as does a
    manager asking for another store."""
    if request.user.is_superuser:
        stores = list(Store.objects.order_by("name"))
        if stores:
            return stores
        raise Http404("No store yet.")
    staff = request_staff(request)
    if staff is None or not staff.is_manager:
        raise Http404("The performance page is for store managers.")
    if request.GET.get("store") not in (None, "", str(staff.store_id)):
        raise Http404("That store is not yours.")
    return [staff.store]


def _filter_and_store(request: HtmxHttpRequest) -> tuple[PerformanceFilterForm, Store]:
    stores = _stores_for_performance(request)
    form = PerformanceFilterForm(request.GET, stores=stores if len(stores) > 1 else None)
    store = form.cleaned_data.get("store") if form.is_valid() else None
    if store is None:
        staff = request_staff(request)
        own = [s for s in stores if staff is not None and s.pk == staff.store_id]
        store = (own or stores)[0]
    return form, store


@require_GET
@login_required
@reads_from_replica  # a report over weeks: a replica's moment of lag does not show
def performance(request: HtmxHttpRequest) -> HttpResponse:
    """Clienteling per store and associate over a period: outreach, attributed sales,
    appointments, fitting-room response, and A/B wordings."""
    form, store = _filter_and_store(request)
    context: dict = {"form": form, "store": store, "performance": None}
    if form.is_valid():
        period = form.period(today=timezone.localdate(timezone=store.zone), zone=store.zone)
        figures = store_performance(store=store, period=period)
        context.update(
            performance=figures,
            sales_chart=_sales_chart(figures),
            messages_chart=_messages_chart(figures),
            csv_url=_url("performance-csv", store, form),
        )
        csv_url = context["csv_url"]
        context["holdouts_csv_url"] = f"{csv_url}{'&' if '?' in csv_url else '?'}table=holdouts"
    context["presets"] = [
        {
            "days": days,
            "url": _url("performance", store, form, {"days": days}),
            "current": form.preset == days,
        }
        for days in PRESET_DAYS
    ]
    return render_page(request, "clienteling/performance.html", context, partial="performance")


@require_GET
@login_required
@reads_from_replica
def performance_csv(request: HtmxHttpRequest) -> HttpResponse:
    """The page's figures per associate as CSV (one row each, the store's total last), or
    with `?table=holdouts` each offer and automation against its holdout."""
    form, store = _filter_and_store(request)
    table = request.GET.get("table", "associates")
    if table not in CSV_TABLES:
        return HttpResponse(
            f"Unknown table “{table[:40]}”: choose {' or '.join(CSV_TABLES)}.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    if not form.is_valid():
        return HttpResponse(
            "Check the period: " + " ".join(e for errors in form.errors.values() for e in errors),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    period = form.period(today=timezone.localdate(timezone=store.zone), zone=store.zone)
    figures = store_performance(store=store, period=period)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = "performance" if table == "associates" else f"performance-{table}"
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{store.code}-{period.first_day}-{period.last_day}.csv"'
    )
    writer = csv.writer(response)
    for row in CSV_TABLES[table](figures):
        writer.writerow([_spreadsheet_safe(value) for value in row])
    return response


def _spreadsheet_safe(value: object) -> object:
    """A name typed as "=HYPERLINK(…)" must stay text in a spreadsheet, not a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _url(name: str, store: Store, form: PerformanceFilterForm, override: dict | None = None) -> str:
    """This page (or the export) for the same store and period, with `override`."""
    params: dict = {}
    if "store" in form.fields:
        params["store"] = store.pk
    if override is None and form.is_valid():
        data = form.cleaned_data
        if data.get("start") and data.get("end"):
            params.update(start=data["start"].isoformat(), end=data["end"].isoformat())
        elif data.get("days"):
            params["days"] = data["days"]
    params.update(override or {})
    query = urlencode(params)
    return reverse(name) + (f"?{query}" if query else "")


# --- Charts: inline SVG drawn here, styled by app.css (no inline style, no script) -------

CHART_WIDTH = 320
CHART_HEIGHT = 140
CHART_TOP = 8
CHART_BASELINE = 112


@dataclass
class ChartBar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass
class Chart:
    slug: str
    title: str
    description: str
    bars: list[ChartBar]
    first_label: str
    last_label: str
    peak_label: str
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    baseline: int = CHART_BASELINE

    @property
    def label_y(self) -> int:
        return self.baseline + 20


def bar_chart(
    *, slug: str, title: str, points: list[tuple[Bucket, Decimal | int]], unit: str = ""
) -> Chart:
    """Bars for (bucket, value) points, scaled to the largest value; each bar says its
    bucket and value in a tooltip, and the description lists them all for screen readers."""
    slot = CHART_WIDTH / max(len(points), 1)
    peak = max((value for _, value in points), default=0)
    tallest = float(peak) or 1.0
    room = CHART_BASELINE - CHART_TOP
    bars = []
    described = []
    for index, (bucket, value) in enumerate(points):
        text = f"{bucket.label}: {_amount(value)}{unit}"
        described.append(text)
        height = round(float(value) / tallest * room, 1)
        if value and height < 1:
            height = 1.0  # a small value still shows
        bars.append(
            ChartBar(
                x=round(index * slot + slot * 0.15, 1),
                y=round(CHART_BASELINE - height, 1),
                width=round(slot * 0.7, 1),
                height=height,
                title=text,
            )
        )
    return Chart(
        slug=slug,
        title=title,
        description="; ".join(described) + ".",
        bars=bars,
        first_label=points[0][0].label if points else "",
        last_label=points[-1][0].label if len(points) > 1 else "",
        peak_label=f"{_amount(peak)}{unit}",
    )


def _amount(value: Decimal | int) -> str:
    return f"{value:,.0f}" if isinstance(value, Decimal) else f"{value:,}"


def _per(performance: Performance) -> str:
    return "day" if performance.period.bucket_days == 1 else "week"


def _sales_chart(performance: Performance) -> Chart:
    currency = f" {performance.currency}" if performance.currency else ""
    return bar_chart(
        slug="sales",
        title=f"Sales attributed to outreach, per {_per(performance)}",
        points=performance.sales_by_bucket,
        unit=currency,
    )


def _messages_chart(performance: Performance) -> Chart:
    return bar_chart(
        slug="messages",
        title=f"Messages sent, per {_per(performance)}",
        points=performance.messages_by_bucket,
        unit=" sent",
    )
