"""The RPC endpoint of ``stratus-compute-scheduler`` (topic ``compute-scheduler``).

:meth:`SchedulerManager.select_destinations` is one decision: under one lock it
reads the host states from the database (:mod:`compute.scheduler.host_manager`),
runs the filter scheduler (:mod:`compute.scheduler.filter_scheduler`) and
records the chosen host/node of every instance (or the destination of a move in
its migration row) before it answers. The next decision therefore sees those
placements in its use sums, and concurrent boots never overbook a host. One
scheduler process serialises all decisions; the DB reads of a decision are a
handful of aggregate queries whatever the number of hosts.

The JSON request spec (see ``ConductorAPI.build_instances``) is read with these
keys: ``flavor``, ``num_instances``, ``availability_zone``, ``project_id``,
``group`` or ``scheduler_hints.group`` (a server group uuid),
``scheduler_hints.same_host``/``different_host`` (instance uuids),
``force_hosts``, ``force_nodes``, ``ignore_hosts``, ``retry.hosts``, and for a
move (set by the conductor): ``requested_host``/``requested_node`` (only that
host is considered, the filters still run) and ``migration_uuid`` (where the
destination is recorded instead of the instance row).
"""
from __future__ import annotations

import dataclasses
import datetime
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from common import rpc
from common.db import engine
from compute import exception
from compute.scheduler import exception as scheduler_exception
from compute.scheduler import host_manager as host_manager_mod
from compute.scheduler.filter_scheduler import FilterScheduler, Selection
from compute.scheduler.host_state import HostState
from compute.scheduler.opts import SchedulerOptions
from compute.scheduler.request import RequestSpec

LOG = logging.getLogger(__name__)
BINARY = "stratus-compute-scheduler"


def selection_dict(selection: Selection) -> dict[str, Any]:
    """The JSON form of one selection (the RPC answer)."""
    return {"host": selection.host, "node": selection.node,
            "limits": dict(selection.limits),
            "alternates": [{"host": alt.host, "node": alt.node, "limits": dict(alt.limits)}
                           for alt in selection.alternates]}


def _hint_list(value: Any) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


class SchedulerManager:
    """Serves ``select_destinations`` for the conductor."""

    RPC_API_VERSION = "1.0"
    target = messaging.Target(version=RPC_API_VERSION)

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database,
                 host_manager: host_manager_mod.HostManager | None = None,
                 rng: random.Random | None = None,
                 clock: Callable[[], datetime.datetime] | None = None) -> None:
        self.conf = conf
        self.db = db
        self.host_manager = host_manager or host_manager_mod.HostManager(conf, db,
                                                                         clock=clock)
        self._rng = rng or random.Random()
        self._clock = clock
        self._lock = threading.Lock()
        self._scheduler: FilterScheduler | None = None

    def _filter_scheduler(self) -> FilterScheduler:
        options = SchedulerOptions.from_conf(self.conf)
        # Liveness is the services' one ([DEFAULT] service_down_time, as os-services).
        options = dataclasses.replace(options,
                                      service_down_time=int(self.conf.service_down_time))
        if self._scheduler is None or self._scheduler.options != options:
            self._scheduler = FilterScheduler(options, self._rng, clock=self._clock)
        return self._scheduler

    @rpc.expected(exception.NoValidHost)
    def select_destinations(self, ctxt: Any, request_spec: dict[str, Any],
                            instance_uuids: list[str]) -> list[dict[str, Any]]:
        """One selection per instance (see ``SchedulerAPI.select_destinations``).

        :raises: NoValidHost, naming the filters that removed hosts.
        """
        uuids = [str(u) for u in instance_uuids or []]
        with self._lock:
            scheduler = self._filter_scheduler()
            try:
                spec = self._spec(request_spec, uuids)
            except (ValueError, TypeError, AttributeError) as err:
                raise exception.NoValidHost(reason="Invalid request: %s." % err) from err
            hosts = self.host_manager.host_states(scheduler.options)
            hosts = self._requested(hosts, request_spec)
            try:
                selections = scheduler.select_destinations(hosts, spec)
            except scheduler_exception.NoValidHost as err:
                LOG.info("No valid host for %(uuids)s: %(msg)s",
                         {"uuids": uuids, "msg": err.message})
                raise exception.NoValidHost(reason=err.kwargs.get("reason", "")) from err
            self._record(request_spec, uuids, selections)
        LOG.info("Scheduled %(uuids)s on %(hosts)s",
                 {"uuids": uuids, "hosts": [s.host for s in selections]})
        return [selection_dict(s) for s in selections]

    def _spec(self, data: Mapping[str, Any], uuids: list[str]) -> RequestSpec:
        hints = data.get("scheduler_hints") or {}
        count = len(uuids) or int(data.get("num_instances") or 1)
        exclude = list(uuids)
        if data.get("instance_uuid"):
            exclude.append(str(data["instance_uuid"]))
        group_ref = data.get("group") or hints.get("group")
        if isinstance(group_ref, Mapping):
            group_ref = group_ref.get("uuid")
        if isinstance(group_ref, list):
            group_ref = group_ref[0] if group_ref else None
        group = None
        if group_ref:
            group = self.host_manager.server_group(str(group_ref), exclude)
        same_host = self._hint_hosts(hints.get("same_host"))
        different_host = self._hint_hosts(hints.get("different_host"))
        spec = host_manager_mod.spec_from_dict(data, count, group, same_host or (),
                                               different_host or ())
        spec.instance_uuids = uuids
        return spec

    def _hint_hosts(self, value: Any) -> list[str] | None:
        wanted = _hint_list(value)
        if not wanted:
            return None
        # Named instances that run nowhere: no host is "the same" as them.
        return self.host_manager.instance_hosts(wanted) or [""]

    @staticmethod
    def _requested(hosts: list[HostState], data: Mapping[str, Any]) -> list[HostState]:
        host = data.get("requested_host")
        node = data.get("requested_node")
        if host:
            hosts = [h for h in hosts if h.host == host]
        if node:
            hosts = [h for h in hosts if h.node == node]
        return hosts

    def _record(self, data: Mapping[str, Any], uuids: list[str],
                selections: list[Selection]) -> None:
        migration_uuid = data.get("migration_uuid")
        if migration_uuid:
            chosen = selections[0]
            if not self.host_manager.claim_migration(str(migration_uuid), chosen.host,
                                                     chosen.node):
                LOG.warning("Migration %(uuid)s vanished while scheduling",
                            {"uuid": migration_uuid})
            return
        placements = [(u, s.host, s.node) for u, s in zip(uuids, selections, strict=False)]
        found = self.host_manager.claim_instances(placements)
        for instance_uuid in set(uuids) - found:
            LOG.info("Instance %(uuid)s was deleted while it was scheduled",
                     {"uuid": instance_uuid})
