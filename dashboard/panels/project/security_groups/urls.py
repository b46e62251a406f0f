"""Project: Security Groups."""
from django.urls import path

from dashboard.panels.project.security_groups import views

urlpatterns = [
    path("", views.index, name="index"),
    path("create/", views.create, name="create"),
    path("<str:group_id>/", views.detail, name="detail"),
    path("<str:group_id>/edit/", views.edit, name="edit"),
    path("<str:group_id>/delete/", views.delete, name="delete"),
    path("<str:group_id>/rules/add/", views.rule_add, name="rule-add"),
    path("<str:group_id>/rules/<str:rule_id>/delete/", views.rule_delete, name="rule-delete"),
]
