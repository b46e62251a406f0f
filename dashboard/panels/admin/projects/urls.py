"""Admin: Projects."""
from django.urls import path

from dashboard.panels.admin.projects import members, quotas, views

urlpatterns = [
    path("", views.index, name="index"),
    path("create/", views.create, name="create"),
    path("<str:project_id>/", views.detail, name="detail"),
    path("<str:project_id>/edit/", views.edit, name="edit"),
    path("<str:project_id>/delete/", views.delete, name="delete"),
    path("<str:project_id>/quotas/", quotas.modify, name="quotas"),
    path("<str:project_id>/members/", members.index, name="members"),
    path("<str:project_id>/members/add/", members.add, name="add_member"),
    path("<str:project_id>/members/<str:user_id>/remove/<str:role_id>/", members.remove,
         name="remove_member"),
]
