"""Hypervisors (compute nodes) with the state of their compute service, the
servers on them and the statistics over all of them (os-hypervisors)."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from common.db import engine
from compute import exception
from compute import services as services_api
from compute.db import hosts as hosts_db
from compute.db import models

STATISTICS = ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used",
              "local_gb_used", "free_ram_mb", "free_disk_gb", "running_vms",
              "disk_available_least")


class HypervisorAPI:
    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database) -> None:
        self.conf = conf
        self.db = db
        self.store = hosts_db.HostStore(db)
        self.services = services_api.ServiceAPI(conf, db)

    def _with_services(self, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Nodes with their compute service as ``service`` (nodes whose service is
        gone are left out, as Nova does)."""
        by_host = {s["host"]: s for s in self.services.get_all(binary=hosts_db.COMPUTE_BINARY)}
        found = []
        for node in nodes:
            service = by_host.get(node["host"])
            if service is not None:
                found.append(dict(node, service=service))
        return found

    def get_all(self, pattern: str | None = None) -> list[dict[str, Any]]:
        """Hypervisors in id order; ``pattern``: those whose hostname contains it.

        :raises: HypervisorPatternNotFound when a pattern matches none.
        """
        nodes = self._with_services(self.store.compute_node_list())
        if pattern is not None:
            nodes = [n for n in nodes if pattern in n["hypervisor_hostname"]]
            if not nodes:
                raise exception.HypervisorPatternNotFound(pattern=pattern)
        return nodes

    def get(self, node_id: int | str) -> dict[str, Any]:
        """By integer id or uuid. :raises: HypervisorNotFound."""
        try:
            node = self.store.compute_node_get(node_id)
        except exception.ComputeHostNotFound:
            raise exception.HypervisorNotFound(hypervisor_id=node_id)
        found = self._with_services([node])
        if not found:
            raise exception.HypervisorNotFound(hypervisor_id=node_id)
        return found[0]

    def servers(self, nodes: list[dict[str, Any]]) -> dict[int, list[dict[str, str]]]:
        """``{node id: [{"uuid", "name"}]}``: the live servers on each node."""
        wanted = {(n["host"], n["hypervisor_hostname"]): n["id"] for n in nodes}
        result: dict[int, list[dict[str, str]]] = {n["id"]: [] for n in nodes}
        if not nodes:
            return result
        cols = models.Instance
        query = (sa.select(cols.uuid, cols.display_name, cols.host, cols.node)
                 .where(cols.deleted == 0, cols.host.in_({n["host"] for n in nodes}))
                 .order_by(cols.id))
        with self.db.reader() as session:
            for uuid, name, host, node in session.execute(query):
                node_id = wanted.get((host, node))
                if node_id is not None:
                    result[node_id].append({"uuid": uuid, "name": name})
        return result

    def statistics(self) -> dict[str, int]:
        """Sums over every hypervisor that has a compute service."""
        nodes = self._with_services(self.store.compute_node_list())
        stats = {name: 0 for name in STATISTICS}
        for node in nodes:
            for name in STATISTICS:
                stats[name] += int(node.get(name) or 0)
        stats["count"] = len(nodes)
        stats["current_workload"] = 0
        return stats
