from django.urls import path

from . import views

app_name = "appointments"
urlpatterns = [
    path("", views.board, name="board"),
    path("pages/", views.pages, name="pages"),
    path("pages/<int:pk>/acknowledge/", views.page_acknowledge, name="page-acknowledge"),
    path("pages/<int:pk>/resolve/", views.page_resolve, name="page-resolve"),
    path("metrics/", views.metrics, name="metrics"),
    path("reservations/new/", views.reservation_create, name="reservation-create"),
    path("reservations/<int:pk>/", views.reservation_detail, name="reservation"),
    path("reservations/<int:pk>/cancel/", views.reservation_cancel, name="reservation-cancel"),
    path("reservations/<int:pk>/items/", views.staged_item_add, name="staged-item-add"),
    path(
        "reservations/<int:pk>/items/<int:item_pk>/check/",
        views.staged_item_check,
        name="staged-item-check",
    ),
    path("<int:pk>/", views.room_detail, name="room"),
    path("<int:pk>/status/", views.room_status, name="room-status"),
    path("<int:pk>/visit/", views.visit_start, name="visit-start"),
    path("<int:pk>/visit/end/", views.visit_end, name="visit-end"),
]
