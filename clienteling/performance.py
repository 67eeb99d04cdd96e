"""The managers' performance page: one store's clienteling over a period, per associate.

Reads only, composed from both apps (this is the top layer): reasons to contact and the
outbox (`customers`), appointments and fitting-room pages (`appointments`). Every figure
comes from a grouped query, so the page costs the same few queries whatever the number
of associates, clients and orders (tests/clienteling/test_performance.py counts them).

Sales attributed to outreach: an order counts for the associate whose contact with the
client came last before it, within ATTRIBUTION_WINDOW_DAYS (a contact they logged, or a
message they sent). One order is credited once, to one person.
"""

from __future__ import annotations

import datetime
import math
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from appointments.models import Appointment, Page
from appointments.selectors import page_response_times
from clienteling.stores.models import StaffMember, Store
from customers.models import (
    AutomationRule,
    Contact,
    Message,
    MessageTemplateVariant,
    Order,
    Reason,
)

from .performance_holdout import store_holdouts

SENT_STATUSES = (Message.Status.SENT, Message.Status.DELIVERED)
# The page lists the most frequent reasons a message was not sent; the rest are "other".
TOP_SUPPRESSION_REASONS = 8
# z for a two-sided 95% interval.
Z_95 = 1.959963984540054
# Below this many clients in a wording, the page does not compare conversion rates.
MIN_CLIENTS_PER_VARIANT = 30


# --- Period ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    """A bar of a chart: one day, or seven (the oldest may be shorter)."""

    first_day: datetime.date
    last_day: datetime.date

    @property
    def label(self) -> str:
        if self.first_day == self.last_day:
            return f"{self.first_day:%-d %b}"
        return f"{self.first_day:%-d %b}–{self.last_day:%-d %b}"


@dataclass(frozen=True)
class Period:
    """Whole days in the store's time zone, first and last day included."""

    first_day: datetime.date
    last_day: datetime.date
    zone: zoneinfo.ZoneInfo

    @property
    def start(self) -> datetime.datetime:
        return datetime.datetime.combine(self.first_day, datetime.time(), tzinfo=self.zone)

    @property
    def end(self) -> datetime.datetime:
        """The midnight after the last day (excluded)."""
        next_day = self.last_day + datetime.timedelta(days=1)
        return datetime.datetime.combine(next_day, datetime.time(), tzinfo=self.zone)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def bucket_days(self) -> int:
        # Up to two weeks a bar per day, beyond a bar per week.
        return 1 if self.days <= 14 else 7

    def buckets(self) -> list[Bucket]:
        """The chart's bars, oldest first, counted back from the last day so that the
        most recent week is a whole one."""
        size = self.bucket_days
        count = math.ceil(self.days / size)
        result = []
        for back in reversed(range(count)):
            last = self.last_day - datetime.timedelta(days=back * size)
            first = max(self.first_day, last - datetime.timedelta(days=size - 1))
            result.append(Bucket(first_day=first, last_day=last))
        return result

    def bucket_index(self, day: datetime.date) -> int:
        count = math.ceil(self.days / self.bucket_days)
        return count - 1 - (self.last_day - day).days // self.bucket_days

    def in_period(self, field_name: str) -> Q:
        return Q(**{f"{field_name}__gte": self.start, f"{field_name}__lt": self.end})


def period_ending(last_day: datetime.date, days: int, zone: zoneinfo.ZoneInfo) -> Period:
    return Period(
        first_day=last_day - datetime.timedelta(days=days - 1), last_day=last_day, zone=zone
    )


# --- Conversion rates -----------------------------------------------------------------


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default).

    With p = successes / trials and n = trials:

        centre    = (p + z²/2n) / (1 + z²/n)
        half-width = z / (1 + z²/n) * sqrt(p(1 - p)/n + z²/4n²)

    Unlike p ± z·sqrt(p(1-p)/n), it stays within [0, 1] and does not shrink to nothing
    when nobody (or everybody) bought. No trials: anything is possible, (0, 1).
    """
    if trials < 0 or not 0 <= successes <= max(trials, 0):
        raise ValueError("successes must be between 0 and trials")
    if trials == 0:
        return (0.0, 1.0)
    n = trials
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half_width = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # At 0 or n successes a bound is exactly 0 or 1 (floating point would miss it).
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == n else min(1.0, centre + half_width)
    return (low, high)


@dataclass
class VariantResult:
    letter: str
    messages: int = 0
    clients: int = 0
    buyers: int = 0

    @property
    def rate(self) -> float | None:
        return self.buyers / self.clients if self.clients else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.buyers, self.clients)

    @property
    def rate_label(self) -> str:
        return "—" if self.rate is None else f"{self.rate:.1%}"

    @property
    def interval_label(self) -> str:
        """The 95% range, e.g. "8.1% to 15.3%" ("—" before anyone got the wording)."""
        if not self.clients:
            return "—"
        low, high = self.interval
        return f"{low:.1%} to {high:.1%}"


@dataclass
class Experiment:
    """A rule whose template has two wordings, and how each did in the period."""

    rule: AutomationRule
    a: VariantResult
    b: VariantResult

    @property
    def variants(self) -> list[VariantResult]:
        return [self.a, self.b]

    @property
    def verdict(self) -> str:
        """A plain sentence: is one wording clearly better, or not yet?"""
        if min(self.a.clients, self.b.clients) < MIN_CLIENTS_PER_VARIANT:
            return (
                f"Not yet: too few clients to compare (at least {MIN_CLIENTS_PER_VARIANT} "
                "per wording). Keep both running."
            )
        a_low, a_high = self.a.interval
        b_low, b_high = self.b.interval
        if b_low > a_high or a_low > b_high:
            best, other = (self.b, self.a) if b_low > a_high else (self.a, self.b)
            return (
                f"Clear: wording {best.letter} does better ({best.rate:.0%} of clients "
                f"bought, against {other.rate:.0%}). You could keep only {best.letter}."
            )
        return (
            "Not clear yet: the two ranges overlap, so the difference may be chance. "
            "Keep both running."
        )


# --- Figures --------------------------------------------------------------------------


@dataclass
class Figures:
    """One associate's figures, or the whole store's."""

    label: str
    staff: StaffMember | None = None
    reasons_opened: int = 0
    reasons_done: int = 0
    reasons_dismissed: int = 0
    reasons_resolved: int = 0
    messages_sent: int = 0
    messages_suppressed: int = 0
    appointments_booked: int = 0
    appointments_kept: int = 0
    appointments_missed: int = 0
    appointments_cancelled: int = 0
    pages_acknowledged: int = 0
    median_acknowledge: datetime.timedelta | None = None
    attributed_orders: int = 0
    attributed_sales: Decimal = Decimal("0")

    @property
    def reasons_closed(self) -> int:
        return self.reasons_done + self.reasons_dismissed + self.reasons_resolved

    @property
    def has_outreach(self) -> bool:
        return bool(
            self.reasons_opened
            or self.reasons_closed
            or self.messages_sent
            or self.messages_suppressed
            or self.attributed_orders
        )

    @property
    def has_appointments(self) -> bool:
        return bool(
            self.appointments_booked
            or self.appointments_kept
            or self.appointments_missed
            or self.appointments_cancelled
        )


@dataclass
class Performance:
    store: Store
    period: Period
    window_days: int
    total: Figures
    associates: list[Figures]
    suppressed_reasons: list[tuple[str, int]]
    sales_by_bucket: list[tuple[Bucket, Decimal]]
    messages_by_bucket: list[tuple[Bucket, int]]
    experiments: list[Experiment] = field(default_factory=list)
    currencies: list[str] = field(default_factory=list)
    # Each offer and automation against its holdout (clienteling.performance_holdout).
    holdouts: list = field(default_factory=list)

    @property
    def holdout_window_days(self) -> int:
        return settings.HOLDOUT_WINDOW_DAYS

    @property
    def currency(self) -> str:
        """The attributed orders' currency when there is one (amounts are not converted)."""
        return self.currencies[0] if len(self.currencies) == 1 else ""

    @property
    def outreach_rows(self) -> list[Figures]:
        """Associates and stylists, and anyone else of the store who reached out."""
        return [row for row in self.associates if _serves_clients(row) or row.has_outreach]

    @property
    def appointment_rows(self) -> list[Figures]:
        return [row for row in self.associates if row.has_appointments]

    @property
    def fitting_room_rows(self) -> list[Figures]:
        return [row for row in self.associates if row.pages_acknowledged]


def _serves_clients(row: Figures) -> bool:
    staff = row.staff
    return (
        staff is not None
        and staff.user.is_active
        and staff.role in (StaffMember.Role.ASSOCIATE, StaffMember.Role.STYLIST)
    )


def store_performance(*, store: Store, period: Period) -> Performance:
    """Every figure of the page for one store and period.

    Thirteen queries whatever the data: the store's staff, reasons, messages, reasons not
    sent, appointments, fitting-room medians (store, then per associate), attributed
    sales, the A/B wordings (results, then rules), and the holdouts (sums, offers,
    rules).
    """
    window = datetime.timedelta(days=settings.ATTRIBUTION_WINDOW_DAYS)
    staff_members = list(StaffMember.objects.filter(store=store).select_related("user"))
    by_staff = {
        member.pk: Figures(label=member.display_name, staff=member) for member in staff_members
    }
    by_user = {member.user_id: by_staff[member.pk] for member in staff_members}
    total = Figures(label=store.name)

    _add_reasons(store, period, total, by_staff)
    messages_by_day = _add_messages(store, period, total, by_user)
    suppressed_reasons = _suppressed_reasons(store, period, total.messages_suppressed)
    _add_appointments(store, period, total, by_staff)
    _add_fitting_room(store, period, total, by_staff)
    sales_by_day, currencies = _add_attributed_sales(store, period, window, total, by_user)
    experiments = _experiments(store, period, window)
    holdouts = store_holdouts(store=store, period=period)

    buckets = period.buckets()
    sales = [Decimal("0")] * len(buckets)
    for day, amount in sales_by_day.items():
        sales[period.bucket_index(day)] += amount
    sent = [0] * len(buckets)
    for day, count in messages_by_day.items():
        sent[period.bucket_index(day)] += count
    return Performance(
        store=store,
        period=period,
        window_days=settings.ATTRIBUTION_WINDOW_DAYS,
        total=total,
        associates=list(by_staff.values()),
        suppressed_reasons=suppressed_reasons,
        sales_by_bucket=list(zip(buckets, sales, strict=True)),
        messages_by_bucket=list(zip(buckets, sent, strict=True)),
        experiments=experiments,
        currencies=sorted(currencies),
        holdouts=holdouts,
    )


def _add_reasons(store: Store, period: Period, total: Figures, by_staff: dict) -> None:
    """Reasons about the store's clients opened, and closed, in the period, per the
    client's associate (their book)."""
    opened = period.in_period("created_at")
    closed = period.in_period("closed_at")
    rows = (
        Reason.objects.filter(customer__home_store=store)
        .filter(opened | closed)
        .order_by()
        .values("customer__assigned_associate_id")
        .annotate(
            opened=Count("pk", filter=opened),
            done=Count("pk", filter=closed & Q(state=Reason.State.DONE)),
            dismissed=Count("pk", filter=closed & Q(state=Reason.State.DISMISSED)),
            resolved=Count("pk", filter=closed & Q(state=Reason.State.RESOLVED)),
        )
    )
    for row in rows:
        for figures in _targets(total, by_staff, row["customer__assigned_associate_id"]):
            figures.reasons_opened += row["opened"]
            figures.reasons_done += row["done"]
            figures.reasons_dismissed += row["dismissed"]
            figures.reasons_resolved += row["resolved"]


def _add_messages(
    store: Store, period: Period, total: Figures, by_user: dict
) -> dict[datetime.date, int]:
    """Messages to the store's clients sent, and not sent, in the period, per sender
    (automations have none: they count for the store only). Returns sent per day."""
    sent = Q(status__in=SENT_STATUSES) & period.in_period("sent_at")
    suppressed = Q(status=Message.Status.SUPPRESSED) & period.in_period("created_at")
    rows = (
        Message.objects.filter(store=store)
        .filter(sent | suppressed)
        .annotate(day=TruncDate(Coalesce("sent_at", "created_at"), tzinfo=period.zone))
        .order_by()
        .values("sender_id", "day")
        .annotate(sent=Count("pk", filter=sent), suppressed=Count("pk", filter=suppressed))
    )
    by_day: dict[datetime.date, int] = defaultdict(int)
    for row in rows:
        by_day[row["day"]] += row["sent"]
        for figures in _targets(total, by_user, row["sender_id"]):
            figures.messages_sent += row["sent"]
            figures.messages_suppressed += row["suppressed"]
    return by_day


def _suppressed_reasons(store: Store, period: Period, suppressed: int) -> list[tuple[str, int]]:
    """Why messages were not sent (the policy's sentence), most frequent first."""
    rows = list(
        Message.objects.filter(store=store, status=Message.Status.SUPPRESSED)
        .filter(period.in_period("created_at"))
        .order_by()
        .values("suppressed_reason")
        .annotate(count=Count("pk"))
        .order_by("-count", "suppressed_reason")[:TOP_SUPPRESSION_REASONS]
    )
    result = [(row["suppressed_reason"], row["count"]) for row in rows]
    other = suppressed - sum(count for _, count in result)
    if other:
        result.append(("Other reasons", other))
    return result


def _add_appointments(store: Store, period: Period, total: Figures, by_staff: dict) -> None:
    """Per stylist: appointments booked in the period (made then, whenever they are),
    kept and missed among those that were due in it, and those cancelled in it."""
    booked = period.in_period("created_at") & ~Q(status=Appointment.Status.REQUESTED)
    due = period.in_period("starts_at")
    cancelled = period.in_period("cancelled_at") & Q(status=Appointment.Status.CANCELLED)
    rows = (
        Appointment.objects.filter(store=store)
        .filter(booked | due | cancelled)
        .order_by()
        .values("stylist_id")
        .annotate(
            booked=Count("pk", filter=booked),
            kept=Count("pk", filter=due & Q(status=Appointment.Status.COMPLETED)),
            missed=Count("pk", filter=due & Q(status=Appointment.Status.NO_SHOW)),
            cancelled=Count("pk", filter=cancelled),
        )
    )
    for row in rows:
        for figures in _targets(total, by_staff, row["stylist_id"]):
            figures.appointments_booked += row["booked"]
            figures.appointments_kept += row["kept"]
            figures.appointments_missed += row["missed"]
            figures.appointments_cancelled += row["cancelled"]


def _add_fitting_room(store: Store, period: Period, total: Figures, by_staff: dict) -> None:
    """Median time to acknowledge fitting-room pages: the rooms' own selector, once for
    the store and once per associate (a median of medians would not be a median)."""
    pages = Page.objects.filter(store=store).filter(period.in_period("created_at"))
    for row in page_response_times(pages=pages, group_by="store"):
        total.pages_acknowledged = row["acknowledged"]
        total.median_acknowledge = row["median_acknowledge"]
    for row in page_response_times(pages=pages, group_by="acknowledged_by"):
        figures = by_staff.get(row["key"])
        if figures is not None:
            figures.pages_acknowledged = row["acknowledged"]
            figures.median_acknowledge = row["median_acknowledge"]


def _add_attributed_sales(
    store: Store, period: Period, window: datetime.timedelta, total: Figures, by_user: dict
) -> tuple[dict[datetime.date, Decimal], set[str]]:
    """Orders placed in the period credited to the store's associates (see the module's
    docstring), per associate; returns the store's attributed sales per day, and the
    currencies seen.

    One query: for each candidate order, correlated subqueries find the latest contact
    and the latest sent message before it within the window (both on indexes that start
    with the client), and the later of the two names who gets the credit. Candidates are
    the orders of clients the store's staff reached since the window before the period
    (two uncorrelated IN lists), so other stores' orders never run the subqueries. The
    CASE runs a handful of index probes per candidate order; grouping by (person, day,
    currency) leaves at most a row per associate and day.
    """
    store_users = StaffMember.objects.filter(store=store).values("user_id")
    reach_from = period.start - window
    reached = Q(
        customer_id__in=Contact.objects.filter(
            direction=Contact.Direction.OUTBOUND,
            staff_id__in=store_users,
            occurred_at__gte=reach_from,
            occurred_at__lt=period.end,
        ).values("customer_id")
    ) | Q(
        customer_id__in=Message.objects.filter(
            sender_id__in=store_users,
            status__in=SENT_STATUSES,
            sent_at__gte=reach_from,
            sent_at__lt=period.end,
        ).values("customer_id")
    )
    contacts = Contact.objects.filter(
        customer_id=OuterRef("customer_id"),
        direction=Contact.Direction.OUTBOUND,
        staff__isnull=False,
        occurred_at__lt=OuterRef("placed_at"),
        occurred_at__gte=OuterRef("placed_at") - window,
    ).order_by("-occurred_at", "-pk")
    messages = Message.objects.filter(
        customer_id=OuterRef("customer_id"),
        sender__isnull=False,
        status__in=SENT_STATUSES,
        sent_at__lt=OuterRef("placed_at"),
        sent_at__gte=OuterRef("placed_at") - window,
    ).order_by("-sent_at", "-pk")
    rows = (
        Order.objects.counted()
        .filter(period.in_period("placed_at"))
        .filter(reached)
        .annotate(
            contact_at=Subquery(contacts.values("occurred_at")[:1]),
            contact_by=Subquery(contacts.values("staff_id")[:1], output_field=IntegerField()),
            message_at=Subquery(messages.values("sent_at")[:1]),
            message_by=Subquery(messages.values("sender_id")[:1], output_field=IntegerField()),
        )
        .annotate(
            credited_to=Case(
                When(message_at__isnull=True, then=F("contact_by")),
                When(contact_at__isnull=True, then=F("message_by")),
                When(contact_at__gte=F("message_at"), then=F("contact_by")),
                default=F("message_by"),
                output_field=IntegerField(),
            ),
            day=TruncDate("placed_at", tzinfo=period.zone),
        )
        .order_by()
        .values("credited_to", "day", "currency")
        .annotate(orders=Count("pk"), sales=Sum("total"))
    )
    by_day: dict[datetime.date, Decimal] = defaultdict(Decimal)
    currencies: set[str] = set()
    for row in rows:
        figures = by_user.get(row["credited_to"])
        if figures is None:  # nobody reached them in the window, or someone of another store
            continue
        for target in (figures, total):
            target.attributed_orders += row["orders"]
            target.attributed_sales += row["sales"]
        by_day[row["day"]] += row["sales"]
        currencies.add(row["currency"])
    return by_day, currencies


def _experiments(store: Store, period: Period, window: datetime.timedelta) -> list[Experiment]:
    """For each rule whose template has wordings A and B: messages sent in the period to
    the store's clients with each, the clients they reached, and how many of those
    bought within the window after their message."""
    bought = Exists(
        Order.objects.counted().filter(
            customer_id=OuterRef("customer_id"),
            placed_at__gt=OuterRef("sent_at"),
            placed_at__lte=OuterRef("sent_at") + window,
        )
    )
    results = {
        (row["template_id"], row["purpose"], row["variant"]): row
        for row in Message.objects.filter(
            store=store, status__in=SENT_STATUSES, template__isnull=False
        )
        .exclude(variant="")
        .filter(period.in_period("sent_at"))
        .order_by()
        .values("template_id", "purpose", "variant")
        .annotate(
            messages=Count("pk"),
            clients=Count("customer_id", distinct=True),
            buyers=Count("customer_id", distinct=True, filter=Q(bought)),
        )
    }
    has_letter = {
        letter: Exists(
            MessageTemplateVariant.objects.filter(
                template_id=OuterRef("template_id"), letter=letter
            )
        )
        for letter in ("A", "B")
    }
    rules = AutomationRule.objects.filter(has_letter["A"], has_letter["B"]).select_related(
        "template"
    )
    experiments = []
    for rule in rules:
        variants = []
        for letter in ("A", "B"):
            row = results.get((rule.template_id, rule.reason_kind, letter), {})
            variants.append(
                VariantResult(
                    letter=letter,
                    messages=row.get("messages", 0),
                    clients=row.get("clients", 0),
                    buyers=row.get("buyers", 0),
                )
            )
        experiments.append(Experiment(rule=rule, a=variants[0], b=variants[1]))
    return experiments


def _targets(total: Figures, by_key: dict, key) -> list[Figures]:
    """The store's figures, and the person's when they work in the store."""
    figures = by_key.get(key)
    return [total, figures] if figures is not None else [total]


def holdouts_as_rows(performance: Performance) -> list[list]:
    """Each offer and automation against its holdout as table rows (the CSV export's
    second table): the groups, both measures with their 95% intervals, the verdict."""
    header = [
        "kind",
        "name",
        "holdout %",
        "clients in the offer group",
        "clients held out",
    ]
    for measure in ("purchases", "revenue"):
        header += [
            f"{measure} per client, offer group",
            f"{measure} per client, holdout",
            f"{measure} difference",
            f"{measure} 95% low",
            f"{measure} 95% high",
        ]
    header += ["verdict", "below zero since", "paused on", "why paused"]
    rows = [header]

    def number(value: float | None) -> str:
        return "" if value is None else f"{value:.2f}"

    for row in performance.holdouts:
        line = [
            row.kind,
            row.name,
            row.holdout_percent,
            row.result.offer_clients,
            row.result.holdout_clients,
        ]
        for difference in (row.result.purchases, row.result.revenue):
            line += [
                number(difference.offer_mean),
                number(difference.holdout_mean),
                number(difference.difference),
                number(difference.low),
                number(difference.high),
            ]
        line += [
            row.verdict,
            row.below_zero_since.isoformat() if row.below_zero_since else "",
            row.paused_at.date().isoformat() if row.paused_at else "",
            row.pause_reason,
        ]
        rows.append(line)
    return rows


def figures_as_rows(performance: Performance) -> list[list]:
    """The per-associate figures as table rows (the CSV export), the store's last."""
    header = [
        "associate",
        "role",
        "reasons opened",
        "reasons done",
        "reasons dismissed",
        "reasons closed by themselves",
        "messages sent",
        "messages not sent",
        "appointments booked",
        "appointments kept",
        "appointments missed",
        "appointments cancelled",
        "fitting-room pages taken",
        "median seconds to acknowledge",
        "attributed orders",
        "attributed sales",
    ]
    rows = [header]
    for figures in [*performance.associates, performance.total]:
        median = figures.median_acknowledge
        rows.append(
            [
                figures.label,
                figures.staff.get_role_display() if figures.staff else "Store total",
                figures.reasons_opened,
                figures.reasons_done,
                figures.reasons_dismissed,
                figures.reasons_resolved,
                figures.messages_sent,
                figures.messages_suppressed,
                figures.appointments_booked,
                figures.appointments_kept,
                figures.appointments_missed,
                figures.appointments_cancelled,
                figures.pages_acknowledged,
                "" if median is None else round(median.total_seconds()),
                figures.attributed_orders,
                f"{figures.attributed_sales:.2f}",
            ]
        )
    return rows
