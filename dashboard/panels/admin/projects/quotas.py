"""A project's quotas: compute, volume and network limits in one form, for the
services in the catalog."""
from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import reverse

from dashboard import cloud
from dashboard.panels.admin.projects import keystone
from dashboard.panels.admin.quotas import editing, fields


def modify(request: Any, project_id: str) -> HttpResponse:
    conn = cloud.connection(request)
    ks = keystone.v3(request)
    project = ks.get_project(project_id)

    def read(service: fields.Service) -> dict[str, Any]:
        return fields.read_project(conn, service, project.id)

    def write(service: fields.Service, changes: dict[str, int]) -> None:
        fields.write_project(conn, service, project.id, changes)

    return editing.quota_page(
        request, fields.in_catalog(request.stratus_user), read, write,
        "Modify Quotas of %s" % project.name, reverse("admin-projects:index"),
        intro="Limits of project %s; -1 means unlimited." % project.name)
