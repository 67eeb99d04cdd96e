from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from health_check.views import HealthCheckView

from appointments.views import booking, calendar_feed, makeover_pages, tablet
from clienteling.ops.health import WEB_CHECKS
from customers import hooks, selection_pages, signup

from . import accounts, performance_views, views
from .integrations.shopify import views as shopify_views
from .push import views as push_views

admin.site.site_header = "Clienteling administration"
admin.site.site_title = "Clienteling"
admin.site.index_title = "Stores, clients and automation"

urlpatterns = [
    path("", views.home, name="home"),
    path("more/", views.more, name="more"),
    # The service worker, at the root so its scope covers Today and the associate pages.
    path("sw.js", push_views.service_worker, name="service-worker"),
    path("push/", include("clienteling.push.urls")),
    # Managers: clienteling per store and associate over a period, and its CSV export.
    path("performance/", performance_views.performance, name="performance"),
    path("performance/export/", performance_views.performance_csv, name="performance-csv"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/two-factor/", accounts.two_factor_verify, name="two-factor-verify"),
    path("account/two-factor/setup/", accounts.two_factor_setup, name="two-factor-setup"),
    path("clients/", include("customers.urls")),
    path("", include("appointments.urls")),
    # The fitting-room tablets: public, known by the secret token in their link.
    path("fitting-room/<str:token>/", tablet.tablet, name="room-tablet"),
    path("fitting-room/<str:token>/check-in/", tablet.tablet_check_in, name="room-tablet-check-in"),
    path("fitting-room/<str:token>/page/", tablet.tablet_page, name="room-tablet-page"),
    # A store's public booking page: a kind, a day and time, a few details (no login).
    path("book/<slug:store_code>/", booking.book, name="book"),
    path("book/<slug:store_code>/<int:kind_id>/", booking.book_times, name="book-times"),
    path(
        "book/<slug:store_code>/<int:kind_id>/details/",
        booking.book_details,
        name="book-details",
    ),
    # A client's own appointment: see, move or cancel it (known by the token in its link).
    path(
        "my-appointment/<str:token>/",
        booking.appointment_manage,
        name="appointment-manage",
    ),
    path(
        "my-appointment/<str:token>/booked/",
        booking.appointment_booked,
        name="appointment-booked",
    ),
    path(
        "my-appointment/<str:token>/cancel/",
        booking.appointment_cancel_page,
        name="appointment-manage-cancel",
    ),
    path(
        "my-appointment/<str:token>/move/",
        booking.appointment_move,
        name="appointment-manage-move",
    ),
    path(
        "my-appointment/<str:token>/move/confirm/",
        booking.appointment_move_confirm,
        name="appointment-manage-move-confirm",
    ),
    # A stylist's calendar feed (.ics): known by its secret token, rotated in the admin.
    path("calendar/<str:token>.ics", calendar_feed.calendar_feed, name="calendar-feed"),
    path("join/<str:token>/", signup.signup, name="signup"),
    path("join/<str:token>/thanks/", signup.signup_thanks, name="signup-thanks"),
    path("sign-up-code/", signup.signup_qr, name="signup-qr"),
    path("s/<str:token>/", selection_pages.selection_page, name="selection"),
    path(
        "s/<str:token>/hold/<int:item_id>/",
        selection_pages.selection_hold_view,
        name="selection-hold",
    ),
    # A client's makeover page: public, known by the secret in the link they were sent.
    path("m/<str:token>/", makeover_pages.makeover_page, name="makeover-page"),
    path("m/<str:token>/ask/", makeover_pages.makeover_ask, name="makeover-ask"),
    path(
        "m/<str:token>/media/<str:media_token>/",
        makeover_pages.makeover_page_media,
        name="makeover-page-media",
    ),
    path(
        "m/<str:token>/media/<str:media_token>/thumb/",
        makeover_pages.makeover_page_media,
        {"thumbnail": True},
        name="makeover-page-media-thumb",
    ),
    path("hooks/sms/", hooks.sms_webhook, name="sms-webhook"),
    # Twilio: texts from clients, and the delivery status of ours (signed by Twilio).
    path("hooks/twilio/sms/", hooks.twilio_sms_webhook, name="twilio-sms"),
    path("hooks/twilio/status/", hooks.twilio_status_webhook, name="twilio-status"),
    path("hooks/email/", hooks.email_webhook, name="email-webhook"),
    path("hooks/shopify/", shopify_views.webhook, name="shopify-webhook"),
    # The email provider's tracking and inbound webhooks (django-anymail's views, basic
    # auth from ANYMAIL_WEBHOOK_SECRET), e.g. /hooks/anymail/postmark/tracking/.
    path("hooks/anymail/", include("anymail.urls")),
    path("unsubscribe/<str:token>/", hooks.unsubscribe, name="unsubscribe"),
    path("livez/", views.livez, name="livez"),
    path("healthz/", views.healthz, name="healthz"),
    # For load balancers and orchestrators: database, cache, broker (django-health-check;
    # "?format=json" or Accept: application/json). Workers: `manage.py health --worker`.
    path("health/", HealthCheckView.as_view(checks=WEB_CHECKS), name="health"),
    path("api/v1/", include("clienteling.api")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
