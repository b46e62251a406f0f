"""The node's resource tracker: claims against the scheduler's limits, and reports.

Every instance placed here holds a *claim* (its flavor's vCPUs, RAM and disk).
A claim is checked, under one lock, against the limits the scheduler computed
for this node (``{"vcpu", "memory_mb", "disk_gb"}``: size × allocation ratio),
so concurrent builds never overbook it even when several schedulers raced. A
resource without a limit is not checked (a forced host), as on Nova.

Claims are keyed: the instance's uuid for the flavor it runs with here, and
``incoming:<migration>`` / ``outgoing:<migration>`` for the new flavor held by
a resize's destination and the old one kept by its source until the resize is
confirmed or reverted (on one host both exist side by side, as on Nova).

The *use* this node reports is the sum of its claims (plus the reserved
amounts), not what the hypervisor sees; the size comes from the driver. A full
resync (:meth:`ResourceTracker.update_available_resource`) rebuilds the
instance claims from the instances the conductor says are on this host:
deleted and shelved-offloaded ones do not count, nor an instance in ERROR whose
guest does not exist (a failed build), nor one released here since (a build
that failed or was rescheduled: its row may still name this host for a while).
Migration claims live in memory only.

Reports go to ``ConductorAPI.compute_node_update``: the driver's
``HostResources`` with the tracked use, ``running_vms`` and the allocation
ratios (0.0 for "not set": the scheduler's defaults apply).
"""
from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from oslo_config import cfg
from oslo_log import log as logging

from compute import exception
from compute import states
from compute.virt import driver as virt_driver
from compute.virt import model

LOG = logging.getLogger(__name__)
_T = TypeVar("_T")

INCOMING = "incoming:"
OUTGOING = "outgoing:"
# Limits the scheduler sends (compute/scheduler/manager.py) -> Usage fields.
_LIMITS = (("vcpu", "vcpus", "vCPU"), ("memory_mb", "memory_mb", "memory"),
           ("disk_gb", "disk_gb", "disk"))
_NOT_COUNTED = (states.DELETED, states.SHELVED_OFFLOADED)
# Migrations in these states hold nothing any more.
MIGRATION_DONE = frozenset(("confirmed", "reverted", "error", "failed", "cancelled",
                            "completed", "done"))


class Reporter(Protocol):
    def compute_node_update(self, ctxt: Any, host: str,
                            resources: dict[str, Any]) -> dict[str, Any]: ...

    def instance_get_all_by_host(self, ctxt: Any, host: str) -> list[dict[str, Any]]: ...

    def migration_update(self, ctxt: Any, migration_uuid: str,
                         values: dict[str, Any]) -> dict[str, Any]: ...


@dataclasses.dataclass(frozen=True)
class Usage:
    vcpus: int = 0
    memory_mb: int = 0
    disk_gb: int = 0

    @classmethod
    def of(cls, sized: Mapping[str, Any]) -> Usage:
        """The usage of a flavor or an instance row (its size columns)."""
        return cls(vcpus=int(sized.get("vcpus") or 0),
                   memory_mb=int(sized.get("memory_mb") or 0),
                   disk_gb=int(sized.get("root_gb") or 0) + int(sized.get("ephemeral_gb") or 0))

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.vcpus + other.vcpus, self.memory_mb + other.memory_mb,
                     self.disk_gb + other.disk_gb)

    def __sub__(self, other: Usage) -> Usage:
        return Usage(self.vcpus - other.vcpus, self.memory_mb - other.memory_mb,
                     self.disk_gb - other.disk_gb)


def incoming(migration_uuid: str) -> str:
    return INCOMING + migration_uuid


def outgoing(migration_uuid: str) -> str:
    return OUTGOING + migration_uuid


def _is_instance_key(key: str) -> bool:
    return not key.startswith((INCOMING, OUTGOING))


class ResourceTracker:
    """Claims and reports of one node (one driver)."""

    def __init__(self, conf: cfg.ConfigOpts, host: str, driver: virt_driver.ComputeDriver,
                 reporter: Reporter) -> None:
        self.conf = conf
        self.host = host
        self.driver = driver
        self.reporter = reporter
        self._lock = threading.Lock()
        # Serializes reports so the conductor never gets an older one last.
        self._report_lock = threading.Lock()
        self._claims: dict[str, Usage] = {}
        # Instance claims released here and not made again (see the module doc).
        self._released: set[str] = set()
        # Keys claimed while a resync was listing instances: the listing may predate them.
        self._claimed_during_sync: set[str] | None = None
        self._resources: model.HostResources | None = None

    # -- claims ---------------------------------------------------------------

    def instance_claim(self, ctxt: Any, instance: Mapping[str, Any],
                       limits: Mapping[str, Any] | None, report: bool = True) -> None:
        """Claim the instance's size (its row's size columns or flavor).

        ``report=False``: the caller sends the report itself, along with its next
        conductor call (:meth:`report_with`), or releases the claim.
        :raises: ComputeResourcesUnavailable when a limit would be exceeded.
        """
        self._claim(ctxt, str(instance["uuid"]), Usage.of(_sized(instance)), limits,
                    report=report)

    def resize_claim(self, ctxt: Any, migration_uuid: str, flavor: Mapping[str, Any],
                     limits: Mapping[str, Any] | None) -> None:
        """Claim ``flavor`` for an incoming resize or migration.

        :raises: ComputeResourcesUnavailable.
        """
        self._claim(ctxt, incoming(migration_uuid), Usage.of(flavor), limits)

    def move_claim(self, ctxt: Any, source: str, dest: str,
                   usage: Usage | None = None) -> None:
        """Re-key a claim (no limit check): the instance's claim becomes the
        outgoing one of a migration, an incoming one becomes the instance's …
        With ``usage``, the moved claim takes that size (default: unchanged)."""
        with self._lock:
            current = self._claims.pop(source, None)
            size = usage if usage is not None else current
            if size is not None:
                self._set(dest, size)
            if _is_instance_key(source):
                self._released.add(source)
        self.report(ctxt)

    def release(self, ctxt: Any, key: str) -> None:
        """Drop a claim (an instance uuid or a migration key); idempotent."""
        with self._lock:
            self._claims.pop(key, None)
            if _is_instance_key(key):
                self._released.add(key)
        self.report(ctxt)

    def claims(self) -> dict[str, Usage]:
        with self._lock:
            return dict(self._claims)

    def _claim(self, ctxt: Any, key: str, usage: Usage,
               limits: Mapping[str, Any] | None, report: bool = True) -> None:
        with self._lock:
            used = self._used() - self._claims.get(key, Usage())
            for limit_key, field, label in _LIMITS:
                limit = (limits or {}).get(limit_key)
                if limit is None:
                    continue
                wanted = getattr(usage, field)
                have = getattr(used, field)
                if have + wanted > float(limit):
                    raise exception.ComputeResourcesUnavailable(
                        reason="free %s %s < requested %s" % (
                            label, _number(float(limit) - have), wanted))
            self._set(key, usage)
        LOG.debug("Claimed %(usage)s for %(key)s on %(host)s",
                  {"usage": usage, "key": key, "host": self.host})
        if report:
            self.report(ctxt)

    def _set(self, key: str, usage: Usage) -> None:
        self._claims[key] = usage
        self._released.discard(key)
        if self._claimed_during_sync is not None:
            self._claimed_during_sync.add(key)

    def _used(self) -> Usage:
        total = Usage(vcpus=self.conf.compute.reserved_host_cpus,
                      memory_mb=self.conf.compute.reserved_host_memory_mb,
                      disk_gb=math.ceil(self.conf.compute.reserved_host_disk_mb / 1024))
        for usage in self._claims.values():
            total = total + usage
        return total

    # -- reports --------------------------------------------------------------

    def update_available_resource(self, ctxt: Any) -> dict[str, Any] | None:
        """Full resync: the driver's size, the claims rebuilt from the host's
        instances, then a report. Returns what was reported (None on failure)."""
        with self._report_lock:
            with self._lock:
                self._claimed_during_sync = set()
            try:
                self._resources = self.driver.get_available_resource()
                instances = self.reporter.instance_get_all_by_host(ctxt, self.host)
                guests = set(self.driver.list_instance_uuids())
                done = self._finished_migrations(ctxt)
            except Exception:
                with self._lock:
                    self._claimed_during_sync = None
                raise
            with self._lock:
                fresh = self._claimed_during_sync or set()
                self._claimed_during_sync = None
                listed = {str(i["uuid"]) for i in instances}
                self._released &= listed
                counted: dict[str, Usage] = {}
                for inst in instances:
                    uuid = str(inst["uuid"])
                    if _counts(inst, guests) and uuid not in self._released:
                        counted[uuid] = Usage.of(_sized(inst))
                for key, usage in self._claims.items():
                    if key in fresh or (not _is_instance_key(key) and key not in done):
                        counted[key] = usage
                self._claims = counted
            return self._send(ctxt)

    def _finished_migrations(self, ctxt: Any) -> set[str]:
        """Migration claims whose migration ended (a failed resize whose claim
        no workflow step released): the resync drops them."""
        with self._lock:
            keys = [key for key in self._claims if not _is_instance_key(key)]
        done = set()
        for key in keys:
            migration_uuid = key.split(":", 1)[1]
            try:
                migration = self.reporter.migration_update(ctxt, migration_uuid, {})
            except exception.MigrationNotFound:
                done.add(key)
                continue
            except Exception as err:  # keep the claim; the next resync asks again
                LOG.warning("Could not read migration %(uuid)s: %(err)s",
                            {"uuid": migration_uuid, "err": err})
                continue
            if migration.get("status") in MIGRATION_DONE:
                done.add(key)
        return done

    def report(self, ctxt: Any) -> dict[str, Any] | None:
        """Send the current use (after a claim or a release); never raises."""
        with self._report_lock:
            try:
                if self._resources is None:
                    self._resources = self.driver.get_available_resource()
                return self._send(ctxt)
            except Exception:
                LOG.exception("Reporting the resources of %s failed", self.host)
                return None

    def report_with(self, send: Callable[[dict[str, Any]], _T]) -> _T:
        """Send the current use inside another conductor call: ``send(report)``
        must record ``report`` as :meth:`report` would (``compute_node_update``
        of this host), e.g. ``ConductorAPI.instance_update(...,
        node_resources=...)``. Serialized with the other reports; raises what
        ``send`` raises."""
        with self._report_lock:
            if self._resources is None:
                self._resources = self.driver.get_available_resource()
            return send(self.snapshot())

    def snapshot(self) -> dict[str, Any]:
        """The report as it would be sent now (needs one driver read before)."""
        with self._lock:
            used = self._used()
            running = sum(1 for key in self._claims if _is_instance_key(key))
        resources = self._resources or self.driver.get_available_resource()
        data = resources.to_dict()
        data.update(vcpus_used=used.vcpus, memory_mb_used=used.memory_mb,
                    local_gb_used=used.disk_gb, running_vms=running)
        for kind in ("cpu", "ram", "disk"):
            ratio = self.conf.compute["%s_allocation_ratio" % kind]
            data["%s_allocation_ratio" % kind] = float(ratio) if ratio is not None else 0.0
        return data

    def _send(self, ctxt: Any) -> dict[str, Any]:
        data = self.snapshot()
        self.reporter.compute_node_update(ctxt, self.host, data)
        return data


def _sized(instance: Mapping[str, Any]) -> Mapping[str, Any]:
    """The size columns of an instance row, else its flavor."""
    if instance.get("memory_mb") or instance.get("vcpus"):
        return instance
    return instance.get("flavor") or {}


def _counts(instance: Mapping[str, Any], guests: set[str]) -> bool:
    if instance.get("deleted") or instance.get("vm_state") in _NOT_COUNTED:
        return False
    if instance.get("vm_state") == states.ERROR and instance["uuid"] not in guests:
        return False
    return True


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else "%.1f" % value
