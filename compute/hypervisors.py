"""Hypervisors (compute nodes) with the state of their compute service, the
servers on them, the statistics over all of them and a host's uptime, asked
of its node over RPC (os-hypervisors)."""
from __future__ import annotations

from typing import Any

import oslo_messaging as messaging
import sqlalchemy as sa
from oslo_config import cfg
from oslo_log import log as logging

from common import exception as common_exception
from common import rpc
from common.db import engine
from compute import exception
from compute import rpcapi
from compute import services as services_api
from compute.db import hosts as hosts_db
from compute.db import models
from compute.virt import exception as virt_exception

LOG = logging.getLogger(__name__)

# What a node older than the RPC method (or one missing it) answers with.
_TOO_OLD = ("UnsupportedVersion", "NoSuchMethod")


class HostUnavailable(exception.ComputeServiceUnavailable):
    """A down compute service, in Nova's uptime answer: a 400."""
    code, title = 400, "Bad Request"


class UptimeNotImplemented(virt_exception.HostUptimeNotSupported):
    """A node whose RPC API predates ``get_host_uptime``: a 501, as a driver
    without it."""
    msg_fmt = "The compute node of %(host)s does not implement the host's uptime."


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

    def uptime(self, ctxt: Any, node: dict[str, Any]) -> str:
        """The uptime(1) line of a hypervisor's host (``node`` as :meth:`get` gives
        it), asked of its compute node.

        :raises: HostUnavailable (400) when the compute service is down, does not
            answer or fails, HostUptimeNotSupported (501) when its driver cannot
            tell or the node is older than the RPC method.
        """
        host = str(node["host"])
        if node["service"]["state"] != "up":
            raise HostUnavailable(host=host)
        try:
            return rpcapi.ComputeNodeAPI().get_host_uptime(ctxt, host)
        except rpc.UNAVAILABLE as err:
            LOG.warning("Compute host %(host)s did not answer for its uptime: %(err)s",
                        {"host": host, "err": err})
            raise HostUnavailable(host=host) from err
        except messaging.RemoteError as err:
            if err.exc_type in _TOO_OLD:
                raise UptimeNotImplemented(host=host) from err
            failure: Exception = err
        except common_exception.Error:
            raise
        except Exception as err:  # a builtin error of the node comes back as itself
            failure = err
        LOG.warning("Compute host %(host)s failed to tell its uptime: %(err)s",
                    {"host": host, "err": failure})
        raise HostUnavailable(host=host) from failure
