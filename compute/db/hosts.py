"""Compute services (daemons and their heartbeats) and compute nodes (hypervisors
and their use) in the compute database.

The conductor writes both on behalf of the nodes (heartbeats, resource
reports); the scheduler reads them to build host states; the API lists them
(os-services, os-hypervisors) and disables or forces down services.
"""
from __future__ import annotations

import datetime
import uuid as uuid_mod
from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa

from common.db import engine
from common.db import models as base_models
from compute import exception
from compute.db import models
from compute.db.instances import isotime

COMPUTE_BINARY = "stratus-compute-node"
# Nova's binary names, which clients filter on (os-services?binary=nova-compute).
NOVA_BINARIES = {"stratus-compute-node": "nova-compute",
                 "stratus-compute-conductor": "nova-conductor",
                 "stratus-compute-scheduler": "nova-scheduler"}
_NODE_FIELDS = ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used",
                "local_gb_used", "running_vms", "hypervisor_type", "hypervisor_version",
                "disk_available_least", "cpu_info", "host_ip", "cpu_allocation_ratio",
                "ram_allocation_ratio", "disk_allocation_ratio")
_NODE_COLUMNS = _NODE_FIELDS + ("id", "uuid", "host", "hypervisor_hostname", "created_at",
                                "updated_at")
# A node's report updates its row in plain statements (built once): the columns
# set come from the parameters of each execution.
_NODES = cast(sa.Table, models.ComputeNode.__table__)
_NODE_BY_NAME = sa.select(_NODES).where(_NODES.c.host == sa.bindparam("w_host"),
                                        _NODES.c.hypervisor_hostname == sa.bindparam("w_name"))
_NODE_UPDATE = sa.update(_NODES).where(_NODES.c.id == sa.bindparam("w_id"))
# Columns a report must leave set (a driver that does not know them).
_NODE_REQUIRED = (("hypervisor_type", "unknown"), ("vcpus", 0), ("memory_mb", 0),
                  ("local_gb", 0))


class ServiceNotFound(exception.ComputeHostNotFound):
    msg_fmt = "Service %(service_id)s could not be found."


def service_dict(row: models.Service) -> dict[str, Any]:
    return {"id": row.id, "uuid": row.uuid, "host": row.host, "binary": row.binary,
            "topic": row.topic, "report_count": row.report_count,
            "disabled": row.disabled, "disabled_reason": row.disabled_reason,
            "forced_down": row.forced_down, "last_seen_up": isotime(row.last_seen_up),
            "created_at": isotime(row.created_at), "updated_at": isotime(row.updated_at)}


def node_dict(row: models.ComputeNode | Mapping[str, Any]) -> dict[str, Any]:
    """A compute node as a dict, from its ORM row or a mapping of its columns."""
    values: Mapping[str, Any] = (row if isinstance(row, Mapping)
                                 else {name: getattr(row, name) for name in _NODE_COLUMNS})
    data: dict[str, Any] = {name: values[name] for name in _NODE_FIELDS}
    data.update({"id": values["id"], "uuid": values["uuid"], "host": values["host"],
                 "hypervisor_hostname": values["hypervisor_hostname"],
                 "free_ram_mb": values["memory_mb"] - values["memory_mb_used"],
                 "free_disk_gb": values["local_gb"] - values["local_gb_used"],
                 "created_at": isotime(values["created_at"]),
                 "updated_at": isotime(values["updated_at"])})
    return data


def is_up(service: Mapping[str, Any], down_time: float,
          now: datetime.datetime | None = None) -> bool:
    """Whether a service's last heartbeat is recent enough (and it is not forced down)."""
    if service.get("forced_down"):
        return False
    seen = service.get("last_seen_up")
    if not seen:
        return False
    if isinstance(seen, str):
        seen = datetime.datetime.strptime(seen, "%Y-%m-%dT%H:%M:%S.%f")
    now = now or base_models.utcnow()
    return (now - seen).total_seconds() <= down_time


class HostStore:
    def __init__(self, db: engine.Database) -> None:
        self.db = db

    # -- services
    def service_report(self, binary: str, host: str, topic: str | None) -> dict[str, Any]:
        """One heartbeat: create the service on its first report."""
        now = base_models.utcnow()
        with self.db.writer() as session:
            row = session.scalars(sa.select(models.Service).where(
                models.Service.host == host, models.Service.binary == binary)).first()
            if row is None:
                row = models.Service(uuid=str(uuid_mod.uuid4()), host=host, binary=binary,
                                     topic=topic, report_count=0, disabled=False,
                                     forced_down=False)
                session.add(row)
            row.report_count = (row.report_count or 0) + 1
            row.last_seen_up = now
            row.topic = topic
            session.flush()
            return service_dict(row)

    def service_list(self, binary: str | None = None,
                     host: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(models.Service).order_by(models.Service.id)
        if binary is not None:
            query = query.where(models.Service.binary == binary)
        if host is not None:
            query = query.where(models.Service.host == host)
        with self.db.reader() as session:
            return [service_dict(r) for r in session.scalars(query)]

    def _service_row(self, session: Any, service_id: int | str) -> models.Service:
        column = models.Service.id if isinstance(service_id, int) else models.Service.uuid
        row = session.scalars(sa.select(models.Service).where(column == service_id)).first()
        if row is None:
            raise ServiceNotFound(service_id=service_id)
        return row

    def service_get(self, service_id: int | str) -> dict[str, Any]:
        """By integer id or uuid. :raises: ServiceNotFound."""
        with self.db.reader() as session:
            return service_dict(self._service_row(session, service_id))

    def service_update(self, service_id: int | str,
                       values: Mapping[str, Any]) -> dict[str, Any]:
        """Set ``disabled``, ``disabled_reason`` and/or ``forced_down``."""
        allowed = {"disabled", "disabled_reason", "forced_down"}
        bad = set(values) - allowed
        if bad:
            raise ValueError("cannot update service fields: %s" % ", ".join(sorted(bad)))
        with self.db.writer() as session:
            row = self._service_row(session, service_id)
            for key, value in values.items():
                setattr(row, key, value)
            session.flush()
            return service_dict(row)

    def service_delete(self, service_id: int | str) -> None:
        """Remove a service and, for a compute node, its hypervisor rows."""
        with self.db.writer() as session:
            row = self._service_row(session, service_id)
            if row.binary == COMPUTE_BINARY:
                session.execute(sa.delete(models.ComputeNode).where(
                    models.ComputeNode.host == row.host))
            session.delete(row)

    # -- compute nodes
    def compute_node_update(self, host: str, resources: Mapping[str, Any]) -> dict[str, Any]:
        """Create or update the node ``(host, resources["hypervisor_hostname"])``."""
        hostname = str(resources.get("hypervisor_hostname") or host)
        values = {name: resources[name] for name in _NODE_FIELDS
                  if name in resources and resources[name] is not None}
        with self.db.writer() as session:
            conn = session.connection()
            current = conn.execute(_NODE_BY_NAME, {"w_host": host, "w_name": hostname}).first()
            if current is not None:  # every report but the first
                found = dict(current._mapping)
                for name, default in _NODE_REQUIRED:
                    if values.get(name, found[name]) is None:
                        values[name] = default
                values["updated_at"] = base_models.utcnow()
                conn.execute(_NODE_UPDATE, dict(values, w_id=found["id"]))
                found.update(values)
                return node_dict(found)
            row = session.scalars(sa.select(models.ComputeNode).where(
                models.ComputeNode.host == host,
                models.ComputeNode.hypervisor_hostname == hostname)).first()
            if row is None:
                row = models.ComputeNode(uuid=str(uuid_mod.uuid4()), host=host,
                                         hypervisor_hostname=hostname)
                session.add(row)
            for name in _NODE_FIELDS:
                if name in resources and resources[name] is not None:
                    setattr(row, name, resources[name])
            for name in ("hypervisor_type", "vcpus", "memory_mb", "local_gb"):
                if getattr(row, name, None) is None:
                    setattr(row, name, "unknown" if name == "hypervisor_type" else 0)
            row.updated_at = base_models.utcnow()
            session.flush()
            return node_dict(row)

    def compute_node_list(self, host: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(models.ComputeNode).order_by(models.ComputeNode.id)
        if host is not None:
            query = query.where(models.ComputeNode.host == host)
        with self.db.reader() as session:
            return [node_dict(r) for r in session.scalars(query)]

    def compute_node_get(self, node_id: int | str) -> dict[str, Any]:
        """By integer id or uuid. :raises: ComputeHostNotFound."""
        column = models.ComputeNode.id if isinstance(node_id, int) else models.ComputeNode.uuid
        with self.db.reader() as session:
            row = session.scalars(sa.select(models.ComputeNode).where(column == node_id)).first()
            if row is None:
                raise exception.ComputeHostNotFound(host=node_id)
            return node_dict(row)
