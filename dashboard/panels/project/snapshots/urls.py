"""Project: Volume Snapshots."""
from django.urls import path

from dashboard.panels.project.snapshots import views

urlpatterns = [
    path("", views.index, name="index"),
    path("<str:snapshot_id>/", views.detail, name="detail"),
    path("<str:snapshot_id>/row/", views.row, name="row"),
    path("<str:snapshot_id>/edit/", views.edit, name="edit"),
    path("<str:snapshot_id>/delete/", views.delete, name="delete"),
]
