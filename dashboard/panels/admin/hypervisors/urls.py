"""Admin: Hypervisors."""
from django.urls import path

from dashboard.panels.admin.hypervisors import views

urlpatterns = [
    path("", views.index, name="index"),
    path("<str:hypervisor_id>/", views.detail, name="detail"),
]
