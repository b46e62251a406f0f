"""Admin: All Volumes."""
from django.urls import path

from dashboard.panels.admin.volumes import views

urlpatterns = [
    path("", views.index, name="index"),
    path("snapshots/<str:snapshot_id>/row/", views.snapshot_row, name="snapshot_row"),
    path("snapshots/<str:snapshot_id>/delete/", views.snapshot_delete, name="snapshot_delete"),
    path("<str:volume_id>/row/", views.row, name="row"),
    path("<str:volume_id>/reset_status/", views.reset_status, name="reset_status"),
    path("<str:volume_id>/delete/", views.delete, name="delete"),
]
