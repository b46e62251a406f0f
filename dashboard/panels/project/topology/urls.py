"""Project: Network Topology."""
from django.urls import path

from dashboard.panels.project.topology import views

urlpatterns = [path("", views.index, name="index")]
