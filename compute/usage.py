"""Simple tenant usage: for a period, each project's servers with the hours they
ran in it and their size, and the project's totals (hours, vCPU-, MiB- and
GiB-hours). A server counts from ``launched_at`` to ``terminated_at`` (deleted
servers included), clipped to the period.
"""
from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

from common import exception as common_exception
from common.db import engine
from common.db import models as base_models
from compute import exception
from compute.db import models

_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")


def parse_time(value: str | None, now: datetime.datetime) -> datetime.datetime:
    """A period bound as Nova reads it (absent: now). :raises: Invalid."""
    if not value:
        return now
    for fmt in _FORMATS:
        try:
            return datetime.datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise common_exception.Invalid("Datetime is in invalid format")


def _server_usage(row: models.Instance, start: datetime.datetime, stop: datetime.datetime,
                  now: datetime.datetime) -> dict[str, Any]:
    assert row.launched_at is not None
    ended = row.terminated_at if row.terminated_at and row.terminated_at <= stop else None
    begin = max(row.launched_at, start)
    end = min(row.terminated_at or stop, stop)
    hours = max((end - begin).total_seconds(), 0.0) / 3600.0
    uptime = ((ended or now) - row.launched_at).total_seconds()
    return {"instance_id": row.uuid, "name": row.display_name, "tenant_id": row.project_id,
            "hours": hours, "memory_mb": row.memory_mb, "vcpus": row.vcpus,
            "local_gb": row.root_gb + row.ephemeral_gb,
            "flavor": str((row.flavor or {}).get("name", "")),
            "started_at": row.launched_at.isoformat(),
            "ended_at": ended.isoformat() if ended is not None else None,
            "state": "terminated" if ended is not None or row.deleted else row.vm_state,
            "uptime": int(uptime)}


class UsageService:
    def __init__(self, db: engine.Database) -> None:
        self.db = db

    def get(self, start: datetime.datetime, stop: datetime.datetime,
            project_id: str | None = None, limit: int | None = None,
            marker: str | None = None) -> list[dict[str, Any]]:
        """Per project (sorted by id) usage between ``start`` and ``stop``, each with
        ``server_usages``; ``limit``/``marker`` (an instance uuid) page the servers.

        :raises: MarkerNotFound.
        """
        cols = models.Instance
        query = (sa.select(cols)
                 .where(cols.launched_at.is_not(None), cols.launched_at < stop,
                        sa.or_(cols.terminated_at.is_(None), cols.terminated_at > start))
                 .order_by(cols.id))
        if project_id is not None:
            query = query.where(cols.project_id == project_id)
        now = base_models.utcnow()
        with self.db.reader() as session:
            if marker is not None:
                marker_id = session.scalar(sa.select(cols.id).where(cols.uuid == marker))
                if marker_id is None:
                    raise exception.MarkerNotFound(marker=marker)
                query = query.where(cols.id > marker_id)
            if limit is not None:
                query = query.limit(limit)
            servers = [_server_usage(r, start, stop, now) for r in session.scalars(query)]
        tenants: dict[str, dict[str, Any]] = {}
        for server in servers:
            tenant = tenants.setdefault(server["tenant_id"], {
                "tenant_id": server["tenant_id"], "start": start.isoformat(),
                "stop": stop.isoformat(), "total_hours": 0.0, "total_vcpus_usage": 0.0,
                "total_memory_mb_usage": 0.0, "total_local_gb_usage": 0.0,
                "server_usages": []})
            hours = server["hours"]
            tenant["total_hours"] += hours
            tenant["total_vcpus_usage"] += server["vcpus"] * hours
            tenant["total_memory_mb_usage"] += server["memory_mb"] * hours
            tenant["total_local_gb_usage"] += server["local_gb"] * hours
            tenant["server_usages"].append(server)
        return [tenants[key] for key in sorted(tenants)]
