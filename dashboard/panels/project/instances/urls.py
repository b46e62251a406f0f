"""Project: Instances."""
from django.urls import path

from dashboard.panels.project.instances import actions, detail, launch, views

urlpatterns = [
    path("", views.index, name="index"),
    path("launch/", launch.launch, name="launch"),
    path("<str:server_id>/", detail.overview, name="detail"),
    path("<str:server_id>/row/", views.row, name="row"),
    path("<str:server_id>/log/", detail.log, name="log"),
    path("<str:server_id>/console/", detail.console, name="console"),
    path("<str:server_id>/actions/", detail.actions, name="actions"),
    path("<str:server_id>/resize/", actions.resize, name="resize"),
    path("<str:server_id>/snapshot/", actions.snapshot, name="snapshot"),
    path("<str:server_id>/attach_volume/", actions.attach_volume, name="attach_volume"),
    path("<str:server_id>/detach_volume/", actions.detach_volume, name="detach_volume"),
    path("<str:server_id>/action/<str:name>/", actions.action, name="action"),
]
