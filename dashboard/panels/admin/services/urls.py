"""Admin: System Information."""
from django.urls import path

from dashboard.panels.admin.services import views

urlpatterns = [
    path("", views.index, name="index"),
    path("compute/<str:host>/<str:binary>/disable/", views.disable, name="disable"),
    path("compute/<str:host>/<str:binary>/enable/", views.enable, name="enable"),
]
