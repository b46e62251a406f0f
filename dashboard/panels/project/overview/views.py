"""Project overview: what the project uses against its quotas, as charts."""
from __future__ import annotations

import logging
from typing import Any, Callable

from django.http import HttpResponse
from django.shortcuts import render

from dashboard import cloud, errors

LOG = logging.getLogger(__name__)


def _chart(label: str, used: Any, limit: Any, unit: str = "") -> dict[str, Any]:
    used_n = int(used or 0)
    limit_n = int(limit) if limit is not None else -1
    pct = 0 if limit_n <= 0 else min(100, round(100 * used_n / limit_n))
    return {"label": label, "used": used_n, "unit": unit,
            "limit": "unlimited" if limit_n < 0 else limit_n, "pct": pct,
            "level": "bad" if pct >= 90 else "busy" if pct >= 70 else "ok"}


def _compute(conn: Any, project_id: str) -> list[dict[str, Any]]:
    limits = conn.compute.get_limits().absolute
    return [_chart("Instances", limits.instances_used, limits.instances),
            _chart("VCPUs", limits.total_cores_used, limits.total_cores),
            _chart("RAM", limits.total_ram_used, limits.total_ram, "MiB")]


def _volume(conn: Any, project_id: str) -> list[dict[str, Any]]:
    limits = conn.block_storage.get_limits().absolute
    return [_chart("Volumes", limits.total_volumes_used, limits.max_total_volumes),
            _chart("Volume Storage", limits.total_gigabytes_used,
                   limits.max_total_volume_gigabytes, "GiB"),
            _chart("Volume Snapshots", limits.total_snapshots_used, limits.max_total_snapshots)]


def _network(conn: Any, project_id: str) -> list[dict[str, Any]]:
    quota = conn.network.get_quota(project_id, details=True)
    out = []
    for label, attr in (("Floating IPs", "floating_ips"), ("Security Groups", "security_groups"),
                        ("Networks", "networks"), ("Ports", "ports"), ("Routers", "routers")):
        detail = getattr(quota, attr, None) or {}
        out.append(_chart(label, detail.get("used"), detail.get("limit")))
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
