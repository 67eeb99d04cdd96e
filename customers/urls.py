from django.urls import path

from . import views, views_reasons

app_name = "customers"
urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_create, name="create"),
    path("<int:pk>/", views.client_detail, name="detail"),
    path("<int:pk>/orders/", views.client_orders, name="orders"),
    path("<int:pk>/contact/", views.contact_create, name="contact"),
    path("<int:pk>/conversation/", views.conversation, name="conversation"),
    path("<int:pk>/selection/", views.selection_create, name="selection"),
    path("<int:pk>/preferences/<slug:step>/", views.questionnaire, name="questionnaire"),
    path("<int:pk>/claim/", views_reasons.client_claim, name="claim"),
    path("reasons/<int:pk>/snooze/", views_reasons.reason_snooze, name="reason-snooze"),
    path("reasons/<int:pk>/dismiss/", views_reasons.reason_dismiss, name="reason-dismiss"),
    path("<int:pk>/notes/", views.note_create, name="note-create"),
    path("<int:pk>/notes/<int:note_pk>/edit/", views.note_edit, name="note-edit"),
    path("<int:pk>/notes/<int:note_pk>/pin/", views.note_pin, name="note-pin"),
]
