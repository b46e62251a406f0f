"""Admin: Users."""
from django.urls import path

from dashboard.panels.admin.users import edit, views

urlpatterns = [
    path("", views.index, name="index"),
    path("create/", edit.create, name="create"),
    path("<str:user_id>/", views.detail, name="detail"),
    path("<str:user_id>/edit/", edit.edit, name="edit"),
    path("<str:user_id>/password/", edit.password, name="password"),
    path("<str:user_id>/enable/", views.enable, name="enable"),
    path("<str:user_id>/disable/", views.disable, name="disable"),
    path("<str:user_id>/delete/", views.delete, name="delete"),
]
