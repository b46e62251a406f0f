from django.urls import path

from dashboard.panels.project.overview import views

urlpatterns = [path("", views.index, name="index")]
