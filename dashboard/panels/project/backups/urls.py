"""Project: Volume Backups."""
from django.urls import path

from dashboard.panels.project.backups import views

urlpatterns = [
    path("", views.index, name="index"),
    path("<str:backup_id>/", views.detail, name="detail"),
    path("<str:backup_id>/row/", views.row, name="row"),
    path("<str:backup_id>/restore/", views.restore, name="restore"),
    path("<str:backup_id>/delete/", views.delete, name="delete"),
]
