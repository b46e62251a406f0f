"""The scheduler's in-memory view of one compute node.

The scheduler daemon builds a :class:`HostState` per compute node from the
resources the node last reported and the aggregates it belongs to. Placing an
instance calls :meth:`HostState.consume`, so the next instance of the same request
(and the next request, until the node reports again) sees the host fuller.
"""
from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Iterable, Mapping

from compute.scheduler import opts
from compute.scheduler.request import RequestSpec

DEFAULT_AVAILABILITY_ZONE = "nova"


@dataclasses.dataclass(frozen=True)
class Aggregate:
    """A host aggregate: a name, its metadata, and optionally an availability zone."""

    name: str
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def availability_zone(self) -> str | None:
        return self.metadata.get("availability_zone")


@dataclasses.dataclass(eq=False)
class HostState:
    """Resources, placement attributes and liveness of one compute node.

    ``free_ram_mb`` and ``free_disk_gb`` default to total minus used; a node may
    report less (reserved memory, a filesystem fuller than the instances explain).
    When ``availability_zone`` is not given it comes from the aggregates, then
    falls back to ``nova``.
    """

    host: str
    node: str
    vcpus_total: int = 0
    vcpus_used: int = 0
    memory_mb_total: int = 0
    memory_mb_used: int = 0
    disk_gb_total: int = 0
    disk_gb_used: float = 0.0
    free_ram_mb: int | None = None
    free_disk_gb: float | None = None
    cpu_allocation_ratio: float = opts.DEFAULT_CPU_ALLOCATION_RATIO
    ram_allocation_ratio: float = opts.DEFAULT_RAM_ALLOCATION_RATIO
    disk_allocation_ratio: float = opts.DEFAULT_DISK_ALLOCATION_RATIO
    num_instances: int = 0
    availability_zone: str | None = None
    aggregates: list[Aggregate] = dataclasses.field(default_factory=list)
    enabled: bool = True
    disabled_reason: str | None = None
    forced_down: bool = False
    updated_at: datetime.datetime | None = None
    hypervisor_type: str = ""
    hypervisor_version: int = 0
    cpu_info: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    stats: dict[str, Any] = dataclasses.field(default_factory=dict)
    metadata: dict[str, set[str]] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        if self.free_ram_mb is None:
            self.free_ram_mb = self.memory_mb_total - self.memory_mb_used
        if self.free_disk_gb is None:
            self.free_disk_gb = self.disk_gb_total - self.disk_gb_used
        self.metadata = aggregate_metadata(self.aggregates)
        if self.availability_zone is None:
            zones = self.metadata.get("availability_zone")
            self.availability_zone = (min(zones) if zones else DEFAULT_AVAILABILITY_ZONE)

    def __repr__(self) -> str:
        return "HostState(%s/%s ram:%s disk:%s vcpus:%s/%s instances:%d)" % (
            self.host, self.node, self.free_ram_mb, self.free_disk_gb, self.vcpus_used,
            self.vcpus_total, self.num_instances)

    @property
    def free_ram(self) -> int:
        """Free RAM in MiB (never None once built)."""
        return self.free_ram_mb if self.free_ram_mb is not None else 0

    @property
    def free_disk_mb(self) -> float:
        """Free local disk in MiB."""
        return (self.free_disk_gb or 0.0) * 1024

    @property
    def free_vcpus(self) -> float:
        """vCPUs still allocatable, allocation ratio included."""
        return self.vcpus_total * self.cpu_allocation_ratio - self.vcpus_used

    def is_alive(self, now: datetime.datetime, service_down_time: int) -> bool:
        """True when the node's service reported within ``service_down_time`` seconds."""
        if self.forced_down or self.updated_at is None:
            return False
        updated = self.updated_at
        if updated.tzinfo is None:
            updated = updated.replace(tzinfo=datetime.timezone.utc)
        return (now - updated).total_seconds() <= service_down_time

    def consume(self, spec: RequestSpec) -> None:
        """Account one instance of ``spec`` as placed on this host."""
        flavor = spec.flavor
        disk_gb = flavor.disk_mb / 1024
        self.vcpus_used += flavor.vcpus
        self.memory_mb_used += flavor.memory_mb
        self.free_ram_mb = self.free_ram - flavor.memory_mb
        self.disk_gb_used += disk_gb
        self.free_disk_gb = (self.free_disk_gb or 0.0) - disk_gb
        self.num_instances += 1

    def release(self, spec: RequestSpec) -> None:
        """Undo one :meth:`consume` of ``spec`` (a request that failed as a whole)."""
        flavor = spec.flavor
        disk_gb = flavor.disk_mb / 1024
        self.vcpus_used -= flavor.vcpus
        self.memory_mb_used -= flavor.memory_mb
        self.free_ram_mb = self.free_ram + flavor.memory_mb
        self.disk_gb_used -= disk_gb
        self.free_disk_gb = (self.free_disk_gb or 0.0) + disk_gb
        self.num_instances -= 1


def aggregate_metadata(aggregates: Iterable[Aggregate]) -> dict[str, set[str]]:
    """Merge the metadata of several aggregates: each key maps to all its values."""
    merged: dict[str, set[str]] = {}
    for aggregate in aggregates:
        for key, value in aggregate.metadata.items():
            merged.setdefault(key, set()).add(value)
    return merged


def with_defaults(host: HostState, options: opts.SchedulerOptions,
                  reported: Mapping[str, float | None]) -> HostState:
    """Set the allocation ratios a node did not report from the config defaults.

    ``reported`` maps ``cpu``/``ram``/``disk`` to the node's own ratio or None (or
    0.0, which Nova also treats as "not set").
    """
    defaults = {"cpu": options.cpu_allocation_ratio, "ram": options.ram_allocation_ratio,
                "disk": options.disk_allocation_ratio}
    for kind, default in defaults.items():
        value = reported.get(kind)
        setattr(host, "%s_allocation_ratio" % kind, value if value else default)
    return host
