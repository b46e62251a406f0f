"""Project: Floating IPs."""
from django.urls import path

from dashboard.panels.project.floating_ips import views

urlpatterns = [
    path("", views.index, name="index"),
    path("allocate/", views.allocate, name="allocate"),
    path("associate/", views.associate, name="associate"),
    path("<str:fip_id>/disassociate/", views.disassociate, name="disassociate"),
    path("<str:fip_id>/release/", views.release, name="release"),
]
