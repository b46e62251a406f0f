"""Admin: Roles."""
from django.urls import path

from dashboard.panels.admin.roles import views

urlpatterns = [
    path("", views.index, name="index"),
    path("create/", views.create, name="create"),
    path("assignments/", views.assignments, name="assignments"),
    path("<str:role_id>/delete/", views.delete, name="delete"),
]
