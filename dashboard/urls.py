"""Root URLs: login/logout, then every panel of :mod:`dashboard.panels` under
``/<group>/<slug>/`` (namespace ``<group>-<slug>``)."""
from __future__ import annotations

import importlib
from typing import Any

from django.urls import include, path

from dashboard import panels, views

handler400 = "dashboard.views.bad_request"
handler403 = "dashboard.views.forbidden"
handler404 = "dashboard.views.not_found"
handler500 = "dashboard.views.server_error"


def _panel_urls() -> list[Any]:
    found = []
    for panel in panels.PANELS:
        module = importlib.import_module(panel.module + ".urls")
        found.append(path(panel.prefix.lstrip("/"),
                          include((module.urlpatterns, panel.namespace))))
    return found


urlpatterns = [
    path("", views.home, name="home"),
    path("healthcheck", views.healthcheck, name="healthcheck"),
    path("auth/login/", views.login, name="login"),
    path("auth/logout/", views.logout, name="logout"),
    path("auth/switch/<str:project_id>/", views.switch_project, name="switch-project"),
    *_panel_urls(),
]
