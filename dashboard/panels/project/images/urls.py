"""Project: Images."""
from django.urls import path

from dashboard.panels.project.images import editing, views

urlpatterns = [
    path("", views.index, name="index"),
    path("create/", editing.create, name="create"),
    path("<str:image_id>/", views.detail, name="detail"),
    path("<str:image_id>/row/", views.row, name="row"),
    path("<str:image_id>/edit/", editing.edit, name="edit"),
    path("<str:image_id>/delete/", views.delete, name="delete"),
    path("<str:image_id>/members/", editing.members, name="members"),
    path("<str:image_id>/members/<str:member_id>/delete/", editing.member_delete,
         name="member_delete"),
]
