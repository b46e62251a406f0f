"""An instance's detail tabs (Overview, Log, Console, Action Log), for the
project panel and, with ``admin=True``, for the admin panel."""
from __future__ import annotations

import re
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from dashboard import cloud, errors
from dashboard.panels.project.instances import common, table
from dashboard.ui import format as fmt
from dashboard.ui import tables

TABS = (("overview", "detail", "Overview"), ("log", "log", "Log"),
        ("console", "console", "Console"), ("actions", "actions", "Action Log"))
DEFAULT_LINES = 35
MAX_LINES = 100000
# Terminal escapes (colours, cursor queries) and control characters but tab and newline.
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]")


def _server(request: Any, server_id: str, admin: bool) -> Any:
    if admin:
        return cloud.connection(request).compute.get_server(server_id)
    return common.server_for_project(request, server_id)


def _page(request: Any, server: Any, tab: str, admin: bool, template: str,
          extra: dict[str, Any]) -> HttpResponse:
    """Render a tab: the server's heading, its actions, the tab links, ``extra``."""
    ns = table.ADMIN_NS if admin else table.PROJECT_NS
    acts = table.admin_actions() if admin else table.project_actions()
    context = {
        "title": "Instance %s" % (server.name or server.id), "server": server, "tab": tab,
        "tabs": [{"key": key, "label": label, "active": key == tab,
                  "href": reverse("%s:%s" % (ns, name), args=[server.id])}
                 for key, name, label in TABS],
        "actions": tables.links(acts, server),
        "back": reverse(ns + ":index"), "admin": admin,
    }
    context.update(extra)
    return render(request, template, context)


def _volumes(conn: Any, server: Any) -> list[dict[str, Any]]:
    """The attached volumes: one call each (a server has few)."""
    out = []
    for volume_id in common.volume_ids(server):
        entry: dict[str, Any] = {"id": volume_id, "name": volume_id, "size": None,
                                 "device": None}
        try:
            volume = conn.block_storage.get_volume(volume_id)
        except errors.API_ERRORS:
            out.append(entry)
            continue
        entry.update(name=volume.name or volume_id, size=volume.size)
        for attachment in volume.attachments or []:
            if attachment.get("server_id") == server.id:
                entry["device"] = attachment.get("device")
        out.append(entry)
    return out


def overview(request: Any, server_id: str, admin: bool = False) -> HttpResponse:
    conn = cloud.connection(request)
    server = _server(request, server_id, admin)
    found = common.names_for(conn, server)
    image_id = common.image_id_of(server)
    fault = fmt.get(server, "fault") if server.status == "ERROR" else None
    return _page(request, server, "overview", admin, "project/instances/overview.html", {
        "flavor": common.flavor_of(server, found.flavors),
        "image": {"id": image_id, "name": common.image_name(server, found.images)},
        "addresses": common.addresses_by_network(server),
        "security_groups": sorted({g.get("name", "") for g in server.security_groups or []}),
        "volumes": _volumes(conn, server) if "block-storage" in request.stratus_user.services
        else [{"id": v, "name": v} for v in common.volume_ids(server)],
        "metadata": sorted((server.metadata or {}).items()),
        "power_state": common.power_state(server),
        "fault": fault if isinstance(fault, dict) else None,
        "show_host": request.stratus_user.is_admin,
    })


def _lines(request: Any) -> int | None:
    """?lines=N (default 35); 0 means the whole log (None)."""
    try:
        value = int(request.GET.get("lines", DEFAULT_LINES))
    except ValueError:
        value = DEFAULT_LINES
    if value <= 0:
        return None
    return min(value, MAX_LINES)


def log(request: Any, server_id: str, admin: bool = False) -> HttpResponse:
    server = _server(request, server_id, admin)
    lines = _lines(request)
    output, problem = "", ""
    try:
        found = cloud.connection(request).compute.get_server_console_output(server, length=lines)
        output = _CONTROL.sub("", str((found or {}).get("output") or ""))
    except errors.API_ERRORS as err:
        if errors.status(err) == 404:
            raise
        problem = "The console log is not available: %s" % errors.message(err)
    return _page(request, server, "log", admin, "project/instances/log.html", {
        "output": output, "problem": problem, "lines": lines or 0,
        "shown": lines if lines is not None else DEFAULT_LINES})


def console(request: Any, server_id: str, admin: bool = False) -> HttpResponse:
    server = _server(request, server_id, admin)
    url, problem = "", ""
    try:
        found = cloud.connection(request).compute.create_console(server, console_type="novnc")
        url = str((found or {}).get("url") or "")
    except errors.API_ERRORS as err:
        if errors.status(err) == 404:
            raise
        problem = errors.message(err)
    except ValueError as err:   # the SDK refuses a console type the cloud lacks
        problem = str(err)
    if not url and not problem:
        problem = "the cloud returned no console address"
    return _page(request, server, "console", admin, "project/instances/console.html",
                 {"url": url, "problem": problem})


def actions(request: Any, server_id: str, admin: bool = False) -> HttpResponse:
    server = _server(request, server_id, admin)
    rows = list(cloud.connection(request).compute.server_actions(server))
    rows.sort(key=lambda a: str(a.start_time or ""), reverse=True)
    log_table = tables.Table(
        name="instance-actions", title="", rows=rows,
        columns=[tables.Column("action", "Action"),
                 tables.Column("request_id", "Request ID"),
                 tables.Column("start_time", "Started", display=lambda a: fmt.when(a.start_time)),
                 tables.Column("user_id", "User ID"),
                 tables.Column("message", "Message")],
        row_id=lambda a: str(a.request_id), changing=lambda a: False,
        empty="No actions recorded.")
    return _page(request, server, "actions", admin, "project/instances/actions.html",
                 {"log_table": log_table.context()})
