from __future__ import annotations

import segno
from django.contrib import admin
from django.db.models import DurationField, ExpressionWrapper, F, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from clienteling.core.http import LinkRootAdminMixin, row_link
from clienteling.stores.scoping import (
    ReadOnlyAdminMixin,
    StoreScopedAdmin,
    StoreScopedStackedInline,
    StoreScopedTabularInline,
)

from . import versions
from .models import (
    Appointment,
    AppointmentKind,
    CalendarFeed,
    Chapter,
    MakeoverMedia,
    MakeoverSession,
    Page,
    ProductUse,
    Reservation,
    Room,
    Sample,
    ShareLink,
    StagedItem,
    StylingEnrollment,
    TimeOff,
    Visit,
    WorkingHours,
)
from .templatetags.rooms import duration


def tablet_url(room: Room) -> str:
    """The room tablet's link, on the host serving the admin page (`LinkRootAdminMixin`)."""
    return row_link(room, reverse("room-tablet", args=[room.tablet_token]))


def tablet_qr(room: Room, *, scale: int = 4) -> SafeString:
    """The tablet link as an inline SVG QR code (segno's output is markup it generated)."""
    svg = segno.make(tablet_url(room), error="m").svg_inline(scale=scale)
    return mark_safe(  # noqa: S308
        svg.replace("<svg ", f'<svg role="img" aria-label="QR code of {room.name}" ', 1)
    )


@admin.register(Room)
class RoomAdmin(LinkRootAdminMixin, StoreScopedAdmin):
    store_path = "store"
    list_display = ["name", "store", "position", "status", "is_active", "tablet_link"]
    list_filter = ["store", "status", "is_active"]
    list_select_related = ["store"]
    list_editable = ["position"]
    search_fields = ["name", "store__name"]
    autocomplete_fields = ["store"]
    readonly_fields = ["tablet_code", "status_changed_at", "created_at"]
    fields = [
        "store",
        "name",
        "position",
        "status",
        "is_active",
        "tablet_code",
        "status_changed_at",
        "created_at",
    ]
    actions = ["rotate_tablet_links", "print_tablet_codes"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        # Phones and the board learn of a status or name set here too.
        versions.bump_on_commit(store_id=obj.store_id, room_ids=[obj.pk])

    @admin.display(description="tablet")
    def tablet_link(self, obj: Room) -> str:
        return format_html('<a href="{}" target="_blank" rel="noopener">open</a>', tablet_url(obj))

    @admin.display(description="tablet link and QR code (print it for the room's tablet)")
    def tablet_code(self, obj: Room) -> str:
        if not obj.pk:
            return "Save the room first."
        url = tablet_url(obj)
        return format_html('<div>{}</div><p><a href="{}">{}</a></p>', tablet_qr(obj), url, url)

    @admin.action(description="Rotate the tablet link (the old link and QR code stop working)")
    def rotate_tablet_links(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        rooms = list(queryset)
        for room in rooms:
            room.rotate_tablet_token()
        self.message_user(
            request,
            f"New tablet links for {len(rooms)} room(s). Open the new link on each tablet.",
        )

    @admin.action(description="Print the tablet QR codes")
    def print_tablet_codes(self, request: HttpRequest, queryset: QuerySet[Room]):
        rooms = queryset.select_related("store").order_by("store__name", "position", "name")
        codes = [{"room": room, "url": tablet_url(room), "qr": tablet_qr(room)} for room in rooms]
        return TemplateResponse(request, "appointments/room_codes.html", {"codes": codes})


class StagedItemInline(ReadOnlyAdminMixin, StoreScopedTabularInline):
    model = StagedItem
    extra = 0
    fields = ["product", "description", "size", "staged_at", "staged_by"]
    readonly_fields = fields


@admin.register(Reservation)
class ReservationAdmin(StoreScopedAdmin):
    store_path = "room__store"
    list_display = [
        "room",
        "store",
        "starts_at",
        "ends_at",
        "customer",
        "associate",
        "cancelled_at",
    ]
    list_filter = ["room__store", ("cancelled_at", admin.EmptyFieldListFilter)]
    list_select_related = ["room__store", "customer", "associate__user"]
    date_hierarchy = "starts_at"
    search_fields = ["room__name", "customer__last_name", "customer__first_name"]
    inlines = [StagedItemInline]
    show_full_result_count = False
    actions = ["cancel_reservations"]
    # Made by the app (a room staged for a try-on, overlaps refused): read here; a
    # manager may cancel one, through the same service as the board.

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description="Cancel (frees the room)", permissions=["change"])
    def cancel_reservations(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> None:
        from .services import reservation_cancel

        cancelled = sum(
            reservation_cancel(reservation=reservation)
            for reservation in queryset.select_related("room")
        )
        self.message_user(request, f"{cancelled} reservation(s) cancelled.")

    @admin.display(description="store", ordering="room__store__name")
    def store(self, obj: Reservation) -> str:
        return obj.room.store.name


@admin.register(Visit)
class VisitAdmin(StoreScopedAdmin):
    store_path = "room__store"
    """Visits are made by the tablet and associates; here for reading and fixing a link."""

    list_display = ["room", "started_at", "ended_at", "associate", "customer"]
    list_filter = ["room__store"]
    list_select_related = ["room", "associate__user", "customer"]
    date_hierarchy = "started_at"
    raw_id_fields = ["customer", "reservation"]
    autocomplete_fields = ["associate"]
    readonly_fields = ["room", "started_at", "checked_in_at", "ended_at"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


def _seconds_between(end: str, start: str = "created_at") -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


@admin.register(Page)
class PageAdmin(StoreScopedAdmin):
    store_path = "store"
    """Pages are an audit trail with their response times: read-only."""

    list_display = [
        "created_at",
        "room",
        "kind",
        "target",
        "acknowledged_by",
        "to_acknowledge",
        "to_resolve",
        "escalated",
    ]
    list_filter = ["store", "kind", ("escalated_at", admin.EmptyFieldListFilter)]
    list_select_related = ["room", "target__user", "acknowledged_by__user"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = [
        "store",
        "room",
        "visit",
        "kind",
        "staged_item",
        "product",
        "sku",
        "size",
        "colour",
        "target",
        "created_at",
        "escalated_at",
        "acknowledged_by",
        "acknowledged_at",
        "resolved_by",
        "resolved_at",
        "cancelled_at",
        "to_acknowledge",
        "to_resolve",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Page]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                acknowledge_delay=_seconds_between("acknowledged_at"),
                resolve_delay=_seconds_between("resolved_at"),
            )
        )

    @admin.display(description="to acknowledge", ordering="acknowledge_delay")
    def to_acknowledge(self, obj: Page) -> str:
        return duration(obj.time_to_acknowledge)

    @admin.display(description="to resolve", ordering="resolve_delay")
    def to_resolve(self, obj: Page) -> str:
        return duration(obj.time_to_resolve)

    @admin.display(description="escalated", boolean=True, ordering="escalated_at")
    def escalated(self, obj: Page) -> bool:
        return bool(obj.escalated_at and obj.target_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Page | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Page | None = None) -> bool:
        return False


# --- Appointments: kinds, stylists' hours and time off, appointments, personal styling ------


@admin.register(AppointmentKind)
class AppointmentKindAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "place",
        "default_minutes",
        "travel_minutes",
        "buffer_minutes",
        "uses_fitting_room",
        "is_makeover",
        "online_needs_approval",
        "is_active",
        "position",
    ]
    list_editable = ["position", "is_active"]
    list_filter = ["place", "is_active", "online_stores"]
    search_fields = ["name"]
    filter_horizontal = ["online_stores"]
    fieldsets = [
        (None, {"fields": ["name", "place", "default_minutes", "position", "is_active"]}),
        ("Time held around it", {"fields": ["travel_minutes", "buffer_minutes"]}),
        ("What it involves", {"fields": ["uses_fitting_room", "is_makeover"]}),
        (
            "Booking online",
            {"fields": ["online_stores", "online_needs_approval", "online_min_notice_hours"]},
        ),
    ]


@admin.register(WorkingHours)
class WorkingHoursAdmin(StoreScopedAdmin):
    store_path = "stylist__store"
    list_display = ["stylist", "store", "weekday", "starts", "ends"]
    list_filter = ["weekday", "stylist__store"]
    list_select_related = ["stylist__user", "stylist__store"]
    search_fields = ["stylist__user__first_name", "stylist__user__last_name"]
    autocomplete_fields = ["stylist"]

    @admin.display(description="store", ordering="stylist__store__name")
    def store(self, obj: WorkingHours) -> str:
        return obj.stylist.store.name


@admin.register(TimeOff)
class TimeOffAdmin(StoreScopedAdmin):
    store_path = "stylist__store"
    list_display = ["stylist", "starts_at", "ends_at", "note"]
    list_filter = ["stylist__store"]
    list_select_related = ["stylist__user"]
    search_fields = ["stylist__user__first_name", "stylist__user__last_name", "note"]
    autocomplete_fields = ["stylist"]
    date_hierarchy = "starts_at"


class AppointmentWhenFilter(admin.SimpleListFilter):
    """Upcoming by default: what a manager looks at most."""

    title = "when"
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("upcoming", "Upcoming"), ("past", "Past"), ("all", "All")]

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": (self.value() or "upcoming") == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        now = timezone.now()
        value = self.value() or "upcoming"
        if value == "upcoming":
            return queryset.filter(ends_at__gte=now)
        if value == "past":
            return queryset.filter(ends_at__lt=now)
        return queryset


@admin.register(Appointment)
class AppointmentAdmin(StoreScopedAdmin):
    store_path = "store"
    list_display = ["starts_at", "kind", "stylist", "client", "store", "status", "booked_through"]
    list_filter = [AppointmentWhenFilter, "status", "kind", "store", "booked_through"]
    list_select_related = ["kind", "stylist__user", "customer", "store"]
    search_fields = ["customer__last_name", "customer__email", "stylist__user__first_name"]
    raw_id_fields = ["customer", "reservation"]
    autocomplete_fields = ["stylist", "store"]
    date_hierarchy = "starts_at"
    ordering = ["starts_at"]
    show_full_result_count = False
    # One write path: booking, moving, cancelling and every change of status go through
    # the app's services (free slots, the room, the client's messages and reminders), on
    # the appointment's page in the app. Here a manager reads it and may correct the
    # stylist's notes; nothing else is written.
    fields = [
        "in_the_app",
        "store",
        "customer",
        "stylist",
        "kind",
        "starts_at",
        "ends_at",
        "status",
        "booked_through",
        "room",
        "reservation",
        "address",
        "video_link",
        "notes",
        "cancel_reason",
        "cancelled_at",
        "checked_in_at",
        "completed_at",
        "booked_by",
        "revision",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [field for field in fields if field != "notes"]
    actions = ["cancel_appointments"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # booked from the client card, the agenda or the public booking page

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # cancelled (the client is told), never deleted

    @admin.display(description="in the app")
    def in_the_app(self, obj: Appointment) -> str:
        url = reverse("appointments:appointment", args=[obj.pk])
        return format_html('<a href="{}">Move, cancel or change its status</a>', url)

    @admin.action(description="Cancel (the client is told)", permissions=["change"])
    def cancel_appointments(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        from .services import appointment_cancel

        cancelled = sum(
            appointment_cancel(
                appointment=appointment,
                reason=f"Cancelled by the store ({request.user.get_full_name() or 'manager'})",
                by=getattr(request.user, "staff", None),
            )
            for appointment in queryset.select_related("store", "kind", "stylist__user")
        )
        self.message_user(request, f"{cancelled} appointment(s) cancelled; the clients are told.")

    @admin.display(description="client", ordering="customer__last_name")
    def client(self, obj: Appointment) -> str:
        return obj.customer.full_name if obj.customer_id else "—"


@admin.register(StylingEnrollment)
class StylingEnrollmentAdmin(StoreScopedAdmin):
    store_path = "stylist__store"
    list_display = ["customer", "stylist", "started_at", "ended_at", "goals"]
    list_filter = ["stylist__store", "ended_at"]
    list_select_related = ["customer", "stylist__user"]
    raw_id_fields = ["customer"]
    autocomplete_fields = ["stylist"]
    search_fields = ["customer__last_name", "stylist__user__first_name"]


# --- Stylists' calendar feeds ---------------------------------------------------------------


def _feed_url(feed: CalendarFeed) -> str:
    return row_link(feed, reverse("calendar-feed", args=[feed.token]))


@admin.register(CalendarFeed)
class CalendarFeedAdmin(LinkRootAdminMixin, StoreScopedAdmin):
    store_path = "stylist__store"
    """Each stylist's private calendar address. Rotate it when a phone is lost or a stylist
    leaves: the old address stops working at once."""

    list_display = ["stylist", "store", "created_at", "feed_link"]
    list_filter = ["stylist__store"]
    list_select_related = ["stylist__user", "stylist__store"]
    search_fields = ["stylist__user__first_name", "stylist__user__last_name"]
    autocomplete_fields = ["stylist"]
    fields = ["stylist", "feed_address", "created_at"]
    readonly_fields = ["feed_address", "created_at"]
    actions = ["rotate_feeds"]

    def get_readonly_fields(self, request: HttpRequest, obj: CalendarFeed | None = None):
        # A feed belongs to its stylist for good: rotate it rather than hand it to another.
        return [*self.readonly_fields, "stylist"] if obj else self.readonly_fields

    @admin.display(description="store", ordering="stylist__store__name")
    def store(self, obj: CalendarFeed) -> str:
        return obj.stylist.store.name

    @admin.display(description="feed")
    def feed_link(self, obj: CalendarFeed) -> str:
        return format_html('<a href="{}">.ics</a>', _feed_url(obj))

    @admin.display(description="feed address (the stylist subscribes to it on their phone)")
    def feed_address(self, obj: CalendarFeed) -> str:
        if not obj.pk:
            return "Save the feed first."
        url = _feed_url(obj)
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.action(description="Rotate the feed address (the old one stops working at once)")
    def rotate_feeds(self, request: HttpRequest, queryset: QuerySet[CalendarFeed]) -> None:
        feeds = list(queryset)
        for feed in feeds:
            feed.rotate()
        self.message_user(
            request,
            f"New addresses for {len(feeds)} calendar feed(s). "
            "Each stylist subscribes again with the new address.",
        )


# --- Makeovers: sessions with their chapters, products and samples; media and links read --


class ChapterInline(StoreScopedStackedInline):
    """Chapters of a session; their products are edited on the chapter (change link)."""

    model = Chapter
    extra = 0
    fields = ["position", "area", "custom_title", "steps"]
    show_change_link = True


class SampleInline(StoreScopedTabularInline):
    model = Sample
    extra = 0
    autocomplete_fields = ["product"]
    fields = ["product", "shade", "quantity"]


class ProductUseInline(StoreScopedTabularInline):
    model = ProductUse
    extra = 0
    autocomplete_fields = ["product"]
    fields = ["product", "shade", "quantity", "note"]


@admin.register(MakeoverSession)
class MakeoverSessionAdmin(StoreScopedAdmin):
    store_path = "appointment__store"
    list_display = ["__str__", "client", "stylist", "store", "created_at", "completed_at"]
    list_filter = ["appointment__store", ("completed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["customer", "stylist__user", "appointment__store"]
    search_fields = [
        "title",
        "customer__last_name",
        "customer__first_name",
        "stylist__user__first_name",
    ]
    raw_id_fields = ["appointment", "customer"]
    autocomplete_fields = ["stylist"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    # Completion raises replenishment reasons: it happens in the editor, through the service.
    readonly_fields = ["products_used", "created_at", "updated_at", "completed_at"]
    inlines = [ChapterInline, SampleInline]

    @admin.display(description="client", ordering="customer__last_name")
    def client(self, obj: MakeoverSession) -> str:
        return obj.customer.full_name if obj.customer_id else "—"

    @admin.display(description="store", ordering="appointment__store__name")
    def store(self, obj: MakeoverSession) -> str:
        return obj.appointment.store.name

    @admin.display(description="products used (edit them on each chapter)")
    def products_used(self, obj: MakeoverSession) -> str:
        uses = ProductUse.objects.filter(chapter__session=obj).select_related("product", "chapter")
        lines = [f"{use.chapter.title}: {use}" for use in uses]
        return "; ".join(lines) or "—"


@admin.register(Chapter)
class ChapterAdmin(StoreScopedAdmin):
    store_path = "session__appointment__store"
    list_display = ["title", "session", "area", "position"]
    list_select_related = ["session"]
    list_filter = ["area"]
    search_fields = ["custom_title", "session__title", "session__customer__last_name"]
    raw_id_fields = ["session"]
    inlines = [ProductUseInline]
    show_full_result_count = False


class _ReadOnlyAdmin(ReadOnlyAdminMixin, StoreScopedAdmin):
    store_path = "session__appointment__store"
    """Written by the app's services (files cleaned, secrets hashed): read here, not edited."""


@admin.register(MakeoverMedia)
class MakeoverMediaAdmin(_ReadOnlyAdmin):
    list_display = ["__str__", "session", "chapter", "kind", "shared", "created_at"]
    list_filter = ["kind", "shared"]
    list_select_related = ["session", "chapter"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    # No file links: the files are private, served only to staff of the store and the
    # client's link (the editor and the client's page).
    fields = [
        "session",
        "chapter",
        "kind",
        "caption",
        "shared",
        "content_type",
        "width",
        "height",
        "link",
        "stored_as",
        "uploaded_by",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description="stored as")
    def stored_as(self, obj: MakeoverMedia) -> str:
        return obj.file.name or "—"


@admin.register(ShareLink)
class ShareLinkAdmin(_ReadOnlyAdmin):
    """Links sent to clients. Only a digest of each secret exists, and it is not shown:
    nothing here can open a client's page."""

    list_display = ["session", "created_at", "expires_at", "revoked_at", "open_count", "state"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["session"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = [
        "session",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_opened_at",
        "open_count",
    ]
    readonly_fields = fields
    actions = ["revoke_links"]

    @admin.display(description="state")
    def state(self, obj: ShareLink) -> str:
        if obj.revoked_at:
            return "Revoked"
        return "Works" if obj.is_usable() else "Expired"

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("appointments.change_sharelink")

    @admin.action(
        description="Revoke the selected links (they stop working at once)", permissions=["revoke"]
    )
    def revoke_links(self, request: HttpRequest, queryset: QuerySet[ShareLink]) -> None:
        from .services import share_link_revoke

        revoked = sum(share_link_revoke(link=link) for link in queryset)
        self.message_user(request, f"{revoked} link(s) revoked.")
