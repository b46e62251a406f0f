"""API Access: the services and endpoints of the user's catalog, and an openrc
file for the command-line clients (it asks for the password; none is stored)."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse

from dashboard import auth
from dashboard.ui import tables


def _endpoints(request: Any) -> list[dict[str, str]]:
    info = auth.access(request.session[auth.SESSION_KEY])
    rows = []
    for service in info.service_catalog.catalog or []:
        urls = {e.get("interface"): e.get("url") for e in service.get("endpoints", [])
                if e.get("region_id", e.get("region")) in (None, settings.STRATUS_REGION)}
        rows.append({"id": service.get("id", service.get("type")),
                     "name": service.get("name", ""), "type": service.get("type", ""),
                     "public": urls.get("public", ""), "internal": urls.get("internal", "")})
    return sorted(rows, key=lambda r: r["type"])


def index(request: Any) -> HttpResponse:
    table = tables.Table(
        name="api_access", title="Service Endpoints",
        columns=[tables.Column("type", "Service type"), tables.Column("name", "Name"),
                 tables.Column("public", "Public endpoint"),
                 tables.Column("internal", "Internal endpoint")],
        rows=_endpoints(request),
        table_actions=[tables.Action("Download OpenStack RC File",
                                     reverse("project-api_access:openrc"), "get")],
        empty="The catalog of your token lists no service.")
    return tables.page(request, "API Access", table)


def _quote(value: str) -> str:
    return "'%s'" % value.replace("'", "'\\''")


def openrc(request: Any) -> HttpResponse:
    user = request.stratus_user
    lines = [
        "#!/usr/bin/env bash",
        "# OpenStack RC file for %s in project %s (from the Stratus dashboard)."
        % (user.user_name, user.project_name),
        "# Use: source this file; it asks for your password (none is stored here).",
        "export OS_AUTH_URL=%s" % _quote(settings.STRATUS_AUTH_URL),
        "export OS_IDENTITY_API_VERSION=3",
        "export OS_PROJECT_ID=%s" % _quote(user.project_id),
        "export OS_PROJECT_NAME=%s" % _quote(user.project_name),
        "export OS_USER_DOMAIN_NAME=%s" % _quote(user.domain_name or "Default"),
        "export OS_PROJECT_DOMAIN_NAME=%s" % _quote(user.domain_name or "Default"),
        "export OS_USERNAME=%s" % _quote(user.user_name),
        'echo "Please enter your password for project %s as user %s: "'
        % (user.project_name.replace('"', ""), user.user_name.replace('"', "")),
        "read -sr OS_PASSWORD_INPUT",
        'export OS_PASSWORD="$OS_PASSWORD_INPUT"',
        "export OS_REGION_NAME=%s" % _quote(settings.STRATUS_REGION),
        "export OS_INTERFACE=%s" % _quote(settings.STRATUS_INTERFACE),
    ]
    resp = HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    safe = "".join(c for c in user.project_name if c.isalnum() or c in "-_.") or "project"
    resp["Content-Disposition"] = 'attachment; filename="%s-openrc.sh"' % safe
    return resp
