from django.urls import path

from dashboard.panels.project.keypairs import views

urlpatterns = [
    path("", views.index, name="index"),
    path("create/", views.create, name="create"),
    path("import/", views.import_key, name="import"),
    path("<str:name>/", views.detail, name="detail"),
    path("<str:name>/created/", views.created, name="created"),
    path("<str:name>/download/", views.download, name="download"),
    path("<str:name>/delete/", views.delete, name="delete"),
]
