"""Project: Volumes."""
from django.urls import path

from dashboard.panels.project.volumes import actions, views

urlpatterns = [
    path("", views.index, name="index"),
    path("create/", actions.create, name="create"),
    path("<str:volume_id>/", views.detail, name="detail"),
    path("<str:volume_id>/row/", views.row, name="row"),
    path("<str:volume_id>/edit/", actions.edit, name="edit"),
    path("<str:volume_id>/extend/", actions.extend, name="extend"),
    path("<str:volume_id>/attach/", actions.attach, name="attach"),
    path("<str:volume_id>/detach/", views.detach, name="detach"),
    path("<str:volume_id>/snapshot/", actions.snapshot, name="snapshot"),
    path("<str:volume_id>/backup/", actions.backup, name="backup"),
    path("<str:volume_id>/upload/", actions.upload, name="upload"),
    path("<str:volume_id>/delete/", views.delete, name="delete"),
]
