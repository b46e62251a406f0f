"""Project: Routers."""
from django.urls import path

from dashboard.panels.project.routers import interfaces, views

urlpatterns = [
    path("", views.index, name="index"),
    path("create/", views.create, name="create"),
    path("<str:router_id>/", interfaces.detail, name="detail"),
    path("<str:router_id>/gateway/", views.gateway, name="gateway"),
    path("<str:router_id>/gateway/clear/", views.gateway_clear, name="gateway-clear"),
    path("<str:router_id>/delete/", views.delete, name="delete"),
    path("<str:router_id>/interfaces/add/", interfaces.interface_add, name="interface-add"),
    path("<str:router_id>/interfaces/<str:port_id>/remove/", interfaces.interface_remove,
         name="interface-remove"),
]
