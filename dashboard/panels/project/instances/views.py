"""The project's instances table and its self-refreshing rows."""
from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from dashboard import cloud
from dashboard.panels.project.instances import common, table
from dashboard.ui import tables


def index(request: Any) -> HttpResponse:
    """One list call each: servers (with details), flavors, images."""
    conn = cloud.connection(request)
    servers = list(conn.compute.servers(details=True))
    built = table.build(servers, common.names(conn))
    return tables.page(request, "Instances", built)


def row(request: Any, server_id: str) -> HttpResponse:
    """The server's ``<tr>`` alone, polled while it builds or is in a task."""
    conn = cloud.connection(request)
    server = common.server_for_project(request, server_id)
    built = table.build([], common.names_for(conn, server))
    return tables.row_response(request, built, server)
