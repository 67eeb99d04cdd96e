from django.urls import path

from . import schedule, views

app_name = "appointments"
# Mounted at the site root: fitting rooms under rooms/, appointments under appointments/.
urlpatterns = [
    path("rooms/", views.board, name="board"),
    path("rooms/pages/", views.pages, name="pages"),
    path("rooms/pages/<int:pk>/acknowledge/", views.page_acknowledge, name="page-acknowledge"),
    path("rooms/pages/<int:pk>/resolve/", views.page_resolve, name="page-resolve"),
    path("rooms/metrics/", views.metrics, name="metrics"),
    path("rooms/reservations/new/", views.reservation_create, name="reservation-create"),
    path("rooms/reservations/<int:pk>/", views.reservation_detail, name="reservation"),
    path(
        "rooms/reservations/<int:pk>/cancel/", views.reservation_cancel, name="reservation-cancel"
    ),
    path("rooms/reservations/<int:pk>/items/", views.staged_item_add, name="staged-item-add"),
    path(
        "rooms/reservations/<int:pk>/items/<int:item_pk>/check/",
        views.staged_item_check,
        name="staged-item-check",
    ),
    path("rooms/<int:pk>/", views.room_detail, name="room"),
    path("rooms/<int:pk>/status/", views.room_status, name="room-status"),
    path("rooms/<int:pk>/visit/", views.visit_start, name="visit-start"),
    path("rooms/<int:pk>/visit/end/", views.visit_end, name="visit-end"),
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
]
