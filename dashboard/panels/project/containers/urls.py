"""Project: Containers (Swift). Container names are one path segment (they hold
no '/'); object names and folders travel as ``?name=`` and ``?prefix=``.

Page-level actions live under ``-/``, so no container name can shadow them.
"""
from django.urls import path

from dashboard.panels.project.containers import objects, views

urlpatterns = [
    path("", views.index, name="index"),
    path("-/create/", views.create, name="create"),
    path("<str:container>/", objects.browse, name="browse"),
    path("<str:container>/delete/", views.delete, name="delete"),
    path("<str:container>/make_public/", views.make_public, name="make_public"),
    path("<str:container>/make_private/", views.make_private, name="make_private"),
    path("<str:container>/upload/", objects.upload, name="upload"),
    path("<str:container>/create_folder/", objects.create_folder, name="create_folder"),
    path("<str:container>/delete_folder/", objects.delete_folder, name="delete_folder"),
    path("<str:container>/object/download/", objects.download, name="download"),
    path("<str:container>/object/delete/", objects.delete_object, name="delete_object"),
]
