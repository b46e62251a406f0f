"""Project overview: what the project uses against its quotas, as charts."""
from __future__ import annotations

import logging
from typing import Any, Callable

from django.http import HttpResponse
from django.shortcuts import render

from dashboard import cloud, errors
from dashboard.ui import charts

LOG = logging.getLogger(__name__)


def _compute(conn: Any, project_id: str) -> list[dict[str, Any]]:
    limits = conn.compute.get_limits().absolute
    return [charts.chart("Instances", limits.instances_used, limits.instances),
            charts.chart("VCPUs", limits.total_cores_used, limits.total_cores),
            charts.chart("RAM", limits.total_ram_used, limits.total_ram, "MiB")]


def _volume(conn: Any, project_id: str) -> list[dict[str, Any]]:
    limits = conn.block_storage.get_limits().absolute
    return [charts.chart("Volumes", limits.total_volumes_used, limits.max_total_volumes),
            charts.chart("Volume Storage", limits.total_gigabytes_used,
                         limits.max_total_volume_gigabytes, "GiB"),
            charts.chart("Volume Snapshots", limits.total_snapshots_used,
                         limits.max_total_snapshots)]


def _network(conn: Any, project_id: str) -> list[dict[str, Any]]:
    quota = conn.network.get_quota(project_id, details=True)
    out = []
    for label, attr in (("Floating IPs", "floating_ips"), ("Security Groups", "security_groups"),
                        ("Networks", "networks"), ("Ports", "ports"), ("Routers", "routers")):
        detail = getattr(quota, attr, None) or {}
        out.append(charts.chart(label, detail.get("used"), detail.get("limit")))
    return out


_SOURCES: list[tuple[str, str, Callable[[Any, str], list[dict[str, Any]]]]] = [
    ("compute", "Compute", _compute), ("block-storage", "Volumes", _volume),
    ("network", "Network", _network)]


def index(request: Any) -> HttpResponse:
    user = request.stratus_user
    conn = cloud.connection(request)
    groups, problems = [], []
    for service, title, source in _SOURCES:
        if service not in user.services:
            continue
        try:
            groups.append({"title": title, "charts": source(conn, user.project_id)})
        except errors.API_ERRORS as err:
            problems.append("%s: %s" % (title, errors.message(err)))
    return render(request, "project/overview/index.html",
                  {"title": "Overview", "groups": groups, "problems": problems})
