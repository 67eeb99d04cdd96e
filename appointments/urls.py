from django.urls import path

from .views import makeovers, rooms, schedule

app_name = "appointments"
# Mounted at the site root: fitting rooms under rooms/, appointments under appointments/.
urlpatterns = [
    path("rooms/", rooms.board, name="board"),
    path("rooms/pages/", rooms.pages, name="pages"),
    path("rooms/pages/<int:pk>/acknowledge/", rooms.page_acknowledge, name="page-acknowledge"),
    path("rooms/pages/<int:pk>/resolve/", rooms.page_resolve, name="page-resolve"),
    path("rooms/metrics/", rooms.metrics, name="metrics"),
    path("rooms/reservations/new/", rooms.reservation_create, name="reservation-create"),
    path("rooms/reservations/<int:pk>/", rooms.reservation_detail, name="reservation"),
    path(
        "rooms/reservations/<int:pk>/cancel/", rooms.reservation_cancel, name="reservation-cancel"
    ),
    path("rooms/reservations/<int:pk>/items/", rooms.staged_item_add, name="staged-item-add"),
    path(
        "rooms/reservations/<int:pk>/items/<int:item_pk>/check/",
        rooms.staged_item_check,
        name="staged-item-check",
    ),
    path("rooms/<int:pk>/", rooms.room_detail, name="room"),
    path("rooms/<int:pk>/status/", rooms.room_status, name="room-status"),
    path("rooms/<int:pk>/visit/", rooms.visit_start, name="visit-start"),
    path("rooms/<int:pk>/visit/end/", rooms.visit_end, name="visit-end"),
    # Appointments: the agenda, booking, one appointment, a client's, personal styling.
    path("appointments/", schedule.agenda, name="agenda"),
    path("appointments/new/", schedule.appointment_new, name="appointment-new"),
    path("appointments/styling/", schedule.styling, name="styling"),
    path("appointments/<int:pk>/", schedule.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/step/", schedule.appointment_step, name="appointment-step"),
    path("appointments/<int:pk>/cancel/", schedule.appointment_cancel, name="appointment-cancel"),
    path(
        "appointments/<int:pk>/move/",
        schedule.appointment_reschedule,
        name="appointment-reschedule",
    ),
    path(
        "appointments/client/<int:customer_pk>/",
        schedule.client_appointments,
        name="client-appointments",
    ),
    path(
        "appointments/client/<int:customer_pk>/styling/",
        schedule.styling_enroll,
        name="styling-enroll",
    ),
    # Makeover notes of an appointment (pk: the appointment's).
    path("appointments/<int:pk>/makeover/", makeovers.makeover, name="makeover"),
    path(
        "appointments/<int:pk>/makeover/start/",
        makeovers.makeover_start,
        name="makeover-start",
    ),
    path(
        "appointments/<int:pk>/makeover/notes/",
        makeovers.makeover_notes,
        name="makeover-notes",
    ),
    path(
        "appointments/<int:pk>/makeover/complete/",
        makeovers.makeover_complete,
        name="makeover-complete",
    ),
    path(
        "appointments/<int:pk>/makeover/share/",
        makeovers.makeover_share,
        name="makeover-share",
    ),
    path(
        "appointments/<int:pk>/makeover/share/<int:link_pk>/revoke/",
        makeovers.makeover_share_revoke,
        name="makeover-share-revoke",
    ),
    path(
        "appointments/<int:pk>/makeover/chapters/",
        makeovers.chapter_add,
        name="makeover-chapter-add",
    ),
    path(
        "appointments/<int:pk>/makeover/chapters/<int:chapter_pk>/",
        makeovers.chapter_detail,
        name="makeover-chapter",
    ),
    path(
        "appointments/<int:pk>/makeover/chapters/<int:chapter_pk>/remove/",
        makeovers.chapter_remove,
        name="makeover-chapter-remove",
    ),
    path(
        "appointments/<int:pk>/makeover/chapters/<int:chapter_pk>/move/",
        makeovers.chapter_move,
        name="makeover-chapter-move",
    ),
    path(
        "appointments/<int:pk>/makeover/chapters/<int:chapter_pk>/products/",
        makeovers.product_use_add,
        name="makeover-product-add",
    ),
    path(
        "appointments/<int:pk>/makeover/chapters/<int:chapter_pk>/products/<int:use_pk>/remove/",
        makeovers.product_use_remove,
        name="makeover-product-remove",
    ),
    path(
        "appointments/<int:pk>/makeover/chapters/<int:chapter_pk>/photos/",
        makeovers.photo_add,
        name="makeover-photo-add",
    ),
    path(
        "appointments/<int:pk>/makeover/chapters/<int:chapter_pk>/videos/",
        makeovers.video_add,
        name="makeover-video-add",
    ),
    path(
        "appointments/<int:pk>/makeover/samples/",
        makeovers.sample_add,
        name="makeover-sample-add",
    ),
    path(
        "appointments/<int:pk>/makeover/samples/<int:sample_pk>/remove/",
        makeovers.sample_remove,
        name="makeover-sample-remove",
    ),
    path(
        "appointments/<int:pk>/makeover/media/<str:token>/",
        makeovers.media_file,
        name="makeover-media",
    ),
    path(
        "appointments/<int:pk>/makeover/media/<str:token>/thumb/",
        makeovers.media_file,
        {"thumbnail": True},
        name="makeover-media-thumb",
    ),
    path(
        "appointments/<int:pk>/makeover/media/<str:token>/remove/",
        makeovers.media_remove,
        name="makeover-media-remove",
    ),
    path(
        "appointments/<int:pk>/makeover/media/<str:token>/shared/",
        makeovers.media_shared,
        name="makeover-media-shared",
    ),
]
