"""Project: Networks."""
from django.urls import path

from dashboard.panels.project.networks import parts, views

urlpatterns = [
    path("", views.index, name="index"),
    path("create/", views.create, name="create"),
    path("<str:network_id>/", views.detail, name="detail"),
    path("<str:network_id>/edit/", views.edit, name="edit"),
    path("<str:network_id>/delete/", views.delete, name="delete"),
    path("<str:network_id>/subnets/create/", parts.subnet_create, name="subnet-create"),
    path("<str:network_id>/subnets/<str:subnet_id>/edit/", parts.subnet_edit,
         name="subnet-edit"),
    path("<str:network_id>/subnets/<str:subnet_id>/delete/", parts.subnet_delete,
         name="subnet-delete"),
    path("<str:network_id>/ports/create/", parts.port_create, name="port-create"),
    path("<str:network_id>/ports/<str:port_id>/delete/", parts.port_delete,
         name="port-delete"),
]
