from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from customers import signup

from . import views

admin.site.site_header = "Clienteling administration"
admin.site.site_title = "Clienteling"
admin.site.index_title = "Stores, clients and automation"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("clients/", include("customers.urls")),
    path("join/<str:token>/", signup.signup, name="signup"),
    path("join/<str:token>/thanks/", signup.signup_thanks, name="signup-thanks"),
    path("sign-up-code/", signup.signup_qr, name="signup-qr"),
    path("livez/", views.livez, name="livez"),
    path("healthz/", views.healthz, name="healthz"),
    path("api/v1/", include("clienteling.api")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
