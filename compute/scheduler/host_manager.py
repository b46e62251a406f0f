"""The scheduler's view of the compute hosts, read from the compute database.

:class:`HostManager` builds one :class:`HostState` per compute node from

* the ``compute_nodes`` row (size and allocation ratios the node reported),
* the node's ``stratus-compute-node`` service (disabled, forced down, alive
  within ``[DEFAULT] service_down_time``),
* the aggregates of its host (metadata; availability zone, else
  ``[DEFAULT] default_availability_zone``),
* the use: the live instances whose host/node is that node, plus the flavor of
  a pending move (resize, cold or live migration, evacuation) on its other end
  (the new flavor on the destination before the instance moved there, the old
  one on the source after).

Everything but the use may be cached for ``cache_seconds`` (one second by
default: nodes and services change rarely, a busy scheduler decides many times a
second). The use is never cached: it is read on every decision with two
aggregate queries whatever the number of hosts (one GROUP BY over the live
instances, one over the pending moves), so that a decision includes every
placement recorded before it (:meth:`HostManager.claim_instances`,
:meth:`HostManager.claim_migration`). Its cost grows with the number of live
instances (SQLite reads the wide instance rows).

:func:`spec_from_dict` turns the JSON request spec of the RPC contract into the
typed :class:`RequestSpec` of the pure scheduling core.
"""
from __future__ import annotations

import dataclasses
import datetime
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from oslo_config import cfg

from common.db import engine
from common.db import models as base_models
from compute.db import hosts as hosts_db
from compute.db import models
from compute.scheduler import request as request_mod
from compute.scheduler.host_state import Aggregate, HostState
from compute.scheduler.opts import SchedulerOptions
from compute.scheduler.request import Flavor, RequestSpec, ServerGroup

# Migration statuses after which neither end holds the instance's other flavor.
DONE_MIGRATION_STATUSES = ("confirmed", "reverted", "error", "failed", "completed",
                           "done", "cancelled")
MOVE_TYPES = ("resize", "migration", "live-migration", "evacuation")


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def flavor_from_dict(data: Mapping[str, Any]) -> Flavor:
    """The scheduler's :class:`Flavor` from a flavor dict (the API's or an instance's)."""
    extra = data.get("extra_specs") or {}
    return Flavor(vcpus=_int(data.get("vcpus")), memory_mb=_int(data.get("memory_mb")),
                  root_gb=_int(data.get("root_gb")),
                  ephemeral_gb=_int(data.get("ephemeral_gb")), swap=_int(data.get("swap")),
                  extra_specs={str(k): str(v) for k, v in dict(extra).items()})


def _names(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def spec_from_dict(data: Mapping[str, Any], count: int, group: ServerGroup | None = None,
                   same_host: Sequence[str] = (),
                   different_host: Sequence[str] = ()) -> RequestSpec:
    """The typed request for ``count`` instances of the JSON ``data``.

    ``data`` keys (all optional but ``flavor``): ``flavor``, ``availability_zone``
    (``zone``, ``zone:host`` or ``zone:host:node``, the last two forcing the
    host as Nova does), ``project_id``, ``force_hosts``, ``force_nodes``,
    ``ignore_hosts`` and ``retry`` (``{"hosts": [[host, node], ...]}``: hosts
    already tried are ignored). Group and hint hosts are resolved by the caller.
    :raises: ValueError on a spec without a usable flavor.
    """
    flavor = data.get("flavor")
    if not isinstance(flavor, Mapping):
        raise ValueError("the request spec has no flavor")
    zone = data.get("availability_zone") or None
    force_hosts = _names(data.get("force_hosts"))
    force_nodes = _names(data.get("force_nodes"))
    if isinstance(zone, str) and ":" in zone:
        zone, _sep, rest = zone.partition(":")
        host, _sep, node = rest.partition(":")
        force_hosts = [host] if host else force_hosts
        force_nodes = [node] if node else force_nodes
        zone = zone or None
    ignore = _names(data.get("ignore_hosts"))
    retry = data.get("retry") or {}
    for tried in retry.get("hosts") or []:
        if tried and tried[0] and tried[0] not in ignore:
            ignore.append(str(tried[0]))
    return RequestSpec(flavor=flavor_from_dict(flavor), num_instances=max(count, 1),
                       availability_zone=zone, project_id=data.get("project_id"),
                       group=group, same_host=list(same_host),
                       different_host=list(different_host), force_hosts=force_hosts,
                       force_nodes=force_nodes, ignore_hosts=ignore)


@dataclasses.dataclass(frozen=True)
class _Static:
    """What may be cached for a second: one host state per node with its size,
    ratios, service and aggregates but no use, and what it was built with."""

    templates: list[HostState]
    key: tuple[Any, ...]
    read_at: float


# The statements of every decision, built once (building one costs more than
# running it on SQLite): the use per node, the pending moves, a placement.
_INST = models.Instance
_MIG = models.Migration
_USE_BY_NODE = (sa.select(_INST.host, _INST.node, sa.func.count(_INST.id), sa.func.sum(_INST.vcpus),
                          sa.func.sum(_INST.memory_mb),
                          sa.func.sum(_INST.root_gb + _INST.ephemeral_gb))
                .where(_INST.deleted == 0, _INST.host.is_not(None))
                .group_by(_INST.host, _INST.node))
_PENDING_MOVES = (sa.select(_MIG.source_compute, _MIG.source_node, _MIG.dest_compute,
                            _MIG.dest_node, _INST.host, _INST.node, _INST.flavor,
                            _INST.old_flavor, _INST.new_flavor)
                  .join(_INST, _INST.uuid == _MIG.instance_uuid)
                  .where(_INST.deleted == 0, _MIG.status.not_in(DONE_MIGRATION_STATUSES),
                         _MIG.migration_type.in_(MOVE_TYPES)))
_INSTANCES = cast(sa.Table, models.Instance.__table__)
_PLACE = sa.update(_INSTANCES).where(_INSTANCES.c.uuid == sa.bindparam("w_uuid"),
                                     _INSTANCES.c.deleted == 0)


def _clone(template: HostState) -> HostState:
    # A shallow copy in a microsecond: consume() only changes the numbers, and
    # nobody changes the aggregates, metadata, stats or cpu_info it shares.
    state: HostState = HostState.__new__(HostState)
    state.__dict__.update(template.__dict__)
    return state


@dataclasses.dataclass
class _Use:
    vcpus: int = 0
    memory_mb: int = 0
    disk_gb: int = 0
    instances: int = 0

    def add(self, flavor: Mapping[str, Any] | None, instances: int = 0) -> None:
        flavor = flavor or {}
        self.vcpus += _int(flavor.get("vcpus"))
        self.memory_mb += _int(flavor.get("memory_mb"))
        self.disk_gb += _int(flavor.get("root_gb")) + _int(flavor.get("ephemeral_gb"))
        self.instances += instances


class HostManager:
    """Host states for each decision, plus the writes that record a decision."""

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database,
                 cache_seconds: float = 1.0,
                 clock: Callable[[], datetime.datetime] | None = None) -> None:
        self.conf = conf
        self.db = db
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._static: _Static | None = None
        self._lock = threading.Lock()

    # -- host states
    def host_states(self, options: SchedulerOptions) -> list[HostState]:
        """Fresh host states (the caller may consume them), one per compute node."""
        key = (options.cpu_allocation_ratio, options.ram_allocation_ratio,
               options.disk_allocation_ratio, str(self.conf.default_availability_zone))
        static = self._cached_static(key)
        use = self._use()
        now = (self._clock().astimezone(datetime.timezone.utc).replace(tzinfo=None)
               if self._clock is not None else base_models.utcnow())
        # hosts_db.is_up: alive when the last heartbeat is at most
        # service_down_time old (and the service is not forced down).
        cutoff = now - datetime.timedelta(seconds=int(self.conf.service_down_time))
        states = []
        for template in static.templates:
            state = _clone(template)
            used = use.get((state.host, state.node))
            if used is not None:
                state.vcpus_used = used.vcpus
                state.memory_mb_used = used.memory_mb
                state.free_ram_mb = state.memory_mb_total - used.memory_mb
                state.disk_gb_used = float(used.disk_gb)
                state.free_disk_gb = state.disk_gb_total - state.disk_gb_used
                state.num_instances = used.instances
            seen = state.updated_at
            if seen is not None and (state.forced_down or seen < cutoff):
                state.updated_at = None  # down: the ComputeFilter removes it
            states.append(state)
        return states

    def invalidate(self) -> None:
        """Forget the cached nodes, services and aggregates."""
        with self._lock:
            self._static = None

    def _cached_static(self, key: tuple[Any, ...]) -> _Static:
        with self._lock:
            static = self._static
            if (static is None or static.key != key
                    or time.monotonic() - static.read_at >= self.cache_seconds):
                static = self._static = self._read_static(key)
            return static

    def _read_static(self, key: tuple[Any, ...]) -> _Static:
        cpu_ratio, ram_ratio, disk_ratio, default_zone = key
        node = models.ComputeNode
        svc = models.Service
        # Core statements on a plain connection: no ORM row processing per host.
        with self.db.engine.connect() as conn:
            node_rows = conn.execute(sa.select(
                node.host, node.hypervisor_hostname, node.vcpus, node.memory_mb,
                node.local_gb, node.cpu_allocation_ratio, node.ram_allocation_ratio,
                node.disk_allocation_ratio, node.hypervisor_type, node.hypervisor_version,
                node.cpu_info).order_by(node.id)).all()
            service_rows = conn.execute(sa.select(
                svc.host, svc.disabled, svc.disabled_reason, svc.forced_down,
                svc.last_seen_up).where(svc.binary == hosts_db.COMPUTE_BINARY)).all()
            agg_rows = conn.execute(sa.select(
                models.Aggregate.id, models.Aggregate.name)).all()
            member_rows = conn.execute(sa.select(
                models.AggregateHost.aggregate_id, models.AggregateHost.host)).all()
            meta_rows = conn.execute(sa.select(
                models.AggregateMetadata.aggregate_id, models.AggregateMetadata.key,
                models.AggregateMetadata.value)).all()
        services = {r[0]: r for r in service_rows}
        metadata: dict[int, dict[str, str]] = {}
        for agg_id, meta_key, value in meta_rows:
            metadata.setdefault(agg_id, {})[meta_key] = value
        aggregates = {agg_id: Aggregate(name, metadata.get(agg_id, {}))
                      for agg_id, name in agg_rows}
        by_host: dict[str, list[Aggregate]] = {}
        for agg_id, host in member_rows:
            if agg_id in aggregates:
                by_host.setdefault(host, []).append(aggregates[agg_id])
        templates = []
        for (host, hostname, vcpus, memory_mb, local_gb, node_cpu, node_ram, node_disk,
             hv_type, hv_version, cpu_info) in node_rows:
            service = services.get(host)
            state = HostState(
                host=host, node=hostname, vcpus_total=int(vcpus or 0),
                memory_mb_total=int(memory_mb or 0), disk_gb_total=int(local_gb or 0),
                aggregates=by_host.get(host, []),
                enabled=not service[1] if service is not None else True,
                disabled_reason=service[2] if service is not None else None,
                forced_down=bool(service[3]) if service is not None else False,
                updated_at=service[4] if service is not None else None,
                hypervisor_type=hv_type or "", hypervisor_version=int(hv_version or 0),
                cpu_info=dict(cpu_info or {}),
                cpu_allocation_ratio=node_cpu or cpu_ratio,
                ram_allocation_ratio=node_ram or ram_ratio,
                disk_allocation_ratio=node_disk or disk_ratio)
            if "availability_zone" not in state.metadata:
                state.availability_zone = default_zone
            templates.append(state)
        return _Static(templates, key, time.monotonic())

    def _use(self) -> dict[tuple[str, str], _Use]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(_USE_BY_NODE).all()
            moves = conn.execute(_PENDING_MOVES).all()
        use: dict[tuple[str, str], _Use] = {}
        for host, node, count, vcpus, memory_mb, disk_gb in rows:
            use[(str(host), str(node or host))] = _Use(int(vcpus or 0), int(memory_mb or 0),
                                                       int(disk_gb or 0), int(count))
        for (src, src_node, dst, dst_node, host, node, flavor, old, new) in moves:
            if not dst:
                continue  # not scheduled yet
            source = (src, src_node or src)
            dest = (dst, dst_node or dst)
            current = (host, node or host)
            if source == dest:
                other = old if new and flavor == new else new
                use.setdefault(dest, _Use()).add(other or flavor)
            elif current == source:
                use.setdefault(dest, _Use()).add(new or flavor, instances=1)
            elif current == dest:
                use.setdefault(source, _Use()).add(old or flavor, instances=1)
        return use

    # -- what a request refers to
    def server_group(self, group_uuid: str,
                     exclude: Iterable[str] = ()) -> ServerGroup | None:
        """The group with one host entry per placed member (``exclude``: the
        instances being scheduled); None when the group does not exist."""
        group = models.InstanceGroup
        member = models.InstanceGroupMember
        inst = models.Instance
        skip = set(exclude)
        with self.db.reader() as session:
            found = session.execute(sa.select(group.id, group.policy, group.rules)
                                    .where(group.uuid == group_uuid)).first()
            if found is None:
                return None
            members = session.execute(
                sa.select(inst.uuid, inst.host).join(member, member.instance_uuid == inst.uuid)
                .where(member.group_id == found[0], inst.deleted == 0,
                       inst.host.is_not(None))).all()
        hosts = [str(host) for uuid, host in members if uuid not in skip]
        rules = {str(k): _int(v) for k, v in dict(found[2] or {}).items()}
        policy = found[1] if found[1] in request_mod.POLICIES else request_mod.ANTI_AFFINITY
        return ServerGroup(group_uuid, policy, hosts, rules)

    def instance_hosts(self, instance_uuids: Sequence[str]) -> list[str]:
        """The hosts the named live instances run on (for same/different_host)."""
        if not instance_uuids:
            return []
        inst = models.Instance
        with self.db.reader() as session:
            rows = session.execute(sa.select(inst.host).where(
                inst.uuid.in_(list(instance_uuids)), inst.deleted == 0,
                inst.host.is_not(None))).all()
        return sorted({str(r[0]) for r in rows})

    # -- recording a decision
    def claim_instances(self, placements: Sequence[tuple[str, str, str]]) -> set[str]:
        """Write ``(instance_uuid, host, node)`` into the live instance rows, in one
        transaction; returns the uuids that were found (a deleted instance is not)."""
        now = base_models.utcnow()
        found = set()
        with self.db.writer() as session:
            conn = session.connection()
            for instance_uuid, host, node in placements:
                result = conn.execute(_PLACE, {"w_uuid": instance_uuid, "host": host,
                                               "node": node, "updated_at": now})
                if result.rowcount:
                    found.add(instance_uuid)
        return found

    def claim_migration(self, migration_uuid: str, host: str, node: str) -> bool:
        """Write the destination of a move into its migration row; False if missing."""
        mig = models.Migration
        now = base_models.utcnow()
        with self.db.writer() as session:
            result = session.execute(
                sa.update(mig).where(mig.uuid == migration_uuid)
                .values(dest_compute=host, dest_node=node, updated_at=now))
            return bool(getattr(result, "rowcount", 0))
