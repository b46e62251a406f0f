"""Admin: Flavors."""
from django.urls import path

from dashboard.panels.admin.flavors import extras, views

urlpatterns = [
    path("", views.index, name="index"),
    path("-/create/", views.create, name="create"),
    path("<str:flavor_id>/delete/", views.delete, name="delete"),
    path("<str:flavor_id>/extra_specs/", extras.extra_specs, name="extra_specs"),
    path("<str:flavor_id>/extra_specs/delete/", extras.extra_spec_delete,
         name="extra_spec_delete"),
    path("<str:flavor_id>/access/", extras.access, name="access"),
    path("<str:flavor_id>/access/remove/", extras.access_remove, name="access_remove"),
]
