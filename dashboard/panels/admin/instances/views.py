"""All projects' instances (admins only: the middleware answers 403 to others);
the detail tabs are the project panel's, without its own-project check."""
from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import reverse

from dashboard import cloud
from dashboard.panels.project.instances import common, detail, table
from dashboard.ui import forms as ui_forms
from dashboard.ui import tables


def index(request: Any) -> HttpResponse:
    """One list call each: servers of all projects, flavors, images, projects."""
    conn = cloud.connection(request)
    servers = list(conn.compute.servers(details=True, all_projects=True))
    built = table.build(servers, common.names(conn, projects=True), admin=True)
    return tables.page(request, "All Instances", built)


def row(request: Any, server_id: str) -> HttpResponse:
    conn = cloud.connection(request)
    server = conn.compute.get_server(server_id)
    built = table.build([], common.names_for(conn, server, projects=True), admin=True)
    return tables.row_response(request, built, server)


def overview(request: Any, server_id: str) -> HttpResponse:
    return detail.overview(request, server_id, admin=True)


def log(request: Any, server_id: str) -> HttpResponse:
    return detail.log(request, server_id, admin=True)


def console(request: Any, server_id: str) -> HttpResponse:
    return detail.console(request, server_id, admin=True)


def actions(request: Any, server_id: str) -> HttpResponse:
    return detail.actions(request, server_id, admin=True)


def delete(request: Any, server_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    conn = cloud.connection(request)
    server = conn.compute.get_server(server_id)

    def apply() -> str:
        conn.compute.delete_server(server)
        return "Deleting instance %s." % (server.name or server.id)

    return ui_forms.act(request, apply, reverse("admin-instances:index"))
