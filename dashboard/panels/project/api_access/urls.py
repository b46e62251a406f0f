from django.urls import path

from dashboard.panels.project.api_access import views

urlpatterns = [
    path("", views.index, name="index"),
    path("openrc/", views.openrc, name="openrc"),
]
