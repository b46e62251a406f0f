"""Admin: All Instances."""
from django.urls import path

from dashboard.panels.admin.instances import views

urlpatterns = [
    path("", views.index, name="index"),
    path("<str:server_id>/", views.overview, name="detail"),
    path("<str:server_id>/row/", views.row, name="row"),
    path("<str:server_id>/log/", views.log, name="log"),
    path("<str:server_id>/console/", views.console, name="console"),
    path("<str:server_id>/actions/", views.actions, name="actions"),
    path("<str:server_id>/delete/", views.delete, name="delete"),
]
