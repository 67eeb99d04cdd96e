from django.urls import path

from . import views, views_handover, views_reasons

app_name = "customers"
urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_create, name="create"),
    path("<int:pk>/", views.client_detail, name="detail"),
    path("<int:pk>/orders/", views.client_orders, name="orders"),
    path("<int:pk>/points/", views.client_points, name="points"),
    path("<int:pk>/engagement/", views.client_engagement, name="engagement"),
    path("<int:pk>/log/", views.client_log, name="log"),
    path("<int:pk>/contact/", views.contact_create, name="contact"),
    path("<int:pk>/conversation/", views.conversation, name="conversation"),
    path("<int:pk>/selection/", views.selection_create, name="selection"),
    path("<int:pk>/preferences/<slug:step>/", views.questionnaire, name="questionnaire"),
    path("<int:pk>/details/", views.client_details_edit, name="details"),
    path("<int:pk>/consent/", views.client_consent, name="consent"),
    path("<int:pk>/handover/", views_handover.handover_begin, name="handover"),
    path("<int:pk>/handover/thanks/", views_handover.handover_thanks, name="handover-thanks"),
    path("<int:pk>/handover/exit/", views_handover.handover_exit, name="handover-exit"),
    path("<int:pk>/claim/", views_reasons.client_claim, name="claim"),
    path("reasons/<int:pk>/", views_reasons.reason_actions, name="reason-actions"),
    path("reasons/<int:pk>/snooze/", views_reasons.reason_snooze, name="reason-snooze"),
    path("reasons/<int:pk>/dismiss/", views_reasons.reason_dismiss, name="reason-dismiss"),
    path("<int:pk>/notes/", views.note_create, name="note-create"),
    path("<int:pk>/notes/<int:note_pk>/edit/", views.note_edit, name="note-edit"),
    path("<int:pk>/notes/<int:note_pk>/pin/", views.note_pin, name="note-pin"),
]
