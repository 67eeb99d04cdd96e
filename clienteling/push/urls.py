from django.urls import path

from . import views

app_name = "push"
urlpatterns = [
    path("subscriptions/", views.subscription_save, name="subscription-save"),
    path("subscriptions/remove/", views.subscription_remove, name="subscription-remove"),
]
