"""Admin: Default Quotas."""
from django.urls import path

from dashboard.panels.admin.quotas import views

urlpatterns = [
    path("", views.index, name="index"),
    path("update/", views.update, name="update"),
]
