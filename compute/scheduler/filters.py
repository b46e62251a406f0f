"""Host filters: each decides whether one host may take one instance of a request.

A filter is a small class with ``host_passes(host_state, spec)``. The manager runs
the filters named in ``[filter_scheduler] enabled_filters`` in order, and skips a
filter for the whole request when ``relevant(spec)`` says it has nothing to check
(no availability zone asked for, no server group...), which keeps a request over
a thousand hosts cheap.
"""
from __future__ import annotations

import datetime
from typing import Any, Callable, ClassVar, Iterable, Sequence

from compute.scheduler import exception
from compute.scheduler import extra_specs_ops
from compute.scheduler import request
from compute.scheduler.host_state import HostState
from compute.scheduler.opts import SchedulerOptions
from compute.scheduler.request import RequestSpec

Clock = Callable[[], datetime.datetime]


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class BaseHostFilter:
    """One host filter. Subclasses implement :meth:`host_passes`."""

    #: True when the result depends on where earlier instances of the same request
    #: went (server groups), so the manager re-runs it after every placement.
    placement_sensitive: ClassVar[bool] = False

    def __init__(self, options: SchedulerOptions, clock: Clock = _utcnow) -> None:
        self.options = options
        self.clock = clock

    @property
    def name(self) -> str:
        return type(self).__name__

    def relevant(self, spec: RequestSpec) -> bool:
        """False when this filter would pass every host for ``spec``."""
        return True

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        raise NotImplementedError

    def filter_all(self, hosts: Iterable[HostState], spec: RequestSpec) -> list[HostState]:
        """The hosts that pass, in their original order."""
        return [host for host in hosts if self.host_passes(host, spec)]


class ComputeFilter(BaseHostFilter):
    """The host's compute service is enabled and reported recently."""

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        return host_state.enabled and host_state.is_alive(self.clock(),
                                                          self.options.service_down_time)

    def filter_all(self, hosts: Iterable[HostState], spec: RequestSpec) -> list[HostState]:
        # One clock reading and one cutoff for the whole pass: a thousand
        # timezone-aware subtractions are a measurable part of a decision.
        cutoff = self.clock() - datetime.timedelta(seconds=self.options.service_down_time)
        naive_cutoff = cutoff.replace(tzinfo=None)
        passing = []
        for host in hosts:
            updated = host.updated_at
            if not host.enabled or host.forced_down or updated is None:
                continue
            if updated >= (naive_cutoff if updated.tzinfo is None else cutoff):
                passing.append(host)
        return passing


class AvailabilityZoneFilter(BaseHostFilter):
    """The host is in the availability zone the request names, if it names one."""

    def relevant(self, spec: RequestSpec) -> bool:
        return bool(spec.availability_zone)

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        return not spec.availability_zone or host_state.availability_zone == spec.availability_zone


class RamFilter(BaseHostFilter):
    """Enough RAM is left once the RAM allocation ratio is applied."""

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        total = host_state.memory_mb_total
        used = total - host_state.free_ram
        return total * host_state.ram_allocation_ratio - used >= spec.flavor.memory_mb


class CoreFilter(BaseHostFilter):
    """Enough vCPUs are left once the CPU allocation ratio is applied.

    One instance may never have more vCPUs than the host has physical CPUs. A host
    that reports no CPUs at all is not judged.
    """

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        if not host_state.vcpus_total:
            return True
        wanted = spec.flavor.vcpus
        if wanted > host_state.vcpus_total:
            return False
        return host_state.free_vcpus >= wanted


class DiskFilter(BaseHostFilter):
    """Enough local disk (root + ephemeral + swap) is left under the disk ratio."""

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        total_mb = host_state.disk_gb_total * 1024
        used_mb = total_mb - host_state.free_disk_mb
        return total_mb * host_state.disk_allocation_ratio - used_mb >= spec.flavor.disk_mb


def _scoped_specs(spec: RequestSpec, scope: str) -> list[tuple[str, str]]:
    """Extra specs in ``scope`` (prefix removed) plus the unscoped ones, as Nova does."""
    found = []
    for key, value in spec.flavor.extra_specs.items():
        prefix, sep, rest = key.partition(":")
        if not sep:
            found.append((key, value))
        elif prefix == scope:
            found.append((rest, value))
    return found


_MISSING = object()


def _host_value(host_state: HostState, path: str) -> Any:
    """``cpu_info:arch`` → ``host_state.cpu_info["arch"]``; unknown names go to stats."""
    first, *rest = path.split(":")
    value: Any = getattr(host_state, first, _MISSING)
    if value is _MISSING or first.startswith("_") or callable(value):
        value = host_state.stats.get(first, _MISSING)
    for part in rest:
        if not isinstance(value, dict):
            return _MISSING
        value = value.get(part, _MISSING)
    return value


class _ExtraSpecsFilter(BaseHostFilter):
    """Base of the filters that check the flavor's extra specs in one scope."""

    SCOPE: ClassVar[str] = ""

    def relevant(self, spec: RequestSpec) -> bool:
        return bool(_scoped_specs(spec, self.SCOPE))

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        return self._matches(host_state, _scoped_specs(spec, self.SCOPE))

    def filter_all(self, hosts: Iterable[HostState], spec: RequestSpec) -> list[HostState]:
        wanted = _scoped_specs(spec, self.SCOPE)
        return [host for host in hosts if self._matches(host, wanted)]

    def _matches(self, host_state: HostState, wanted: list[tuple[str, str]]) -> bool:
        raise NotImplementedError


class ComputeCapabilitiesFilter(_ExtraSpecsFilter):
    """Flavor extra specs ``capabilities:<attr>`` (and unscoped keys) match the host."""

    SCOPE = "capabilities"

    def _matches(self, host_state: HostState, wanted: list[tuple[str, str]]) -> bool:
        for key, requirement in wanted:
            value = _host_value(host_state, key)
            if value is _MISSING or value is None:
                return False
            if not extra_specs_ops.match(value, requirement):
                return False
        return True


class AggregateInstanceExtraSpecsFilter(_ExtraSpecsFilter):
    """Flavor extra specs ``aggregate_instance_extra_specs:<key>`` (and unscoped
    keys) match the metadata of one of the host's aggregates."""

    SCOPE = "aggregate_instance_extra_specs"

    def _matches(self, host_state: HostState, wanted: list[tuple[str, str]]) -> bool:
        for key, requirement in wanted:
            values = host_state.metadata.get(key)
            if not values:
                return False
            if not any(extra_specs_ops.match(value, requirement) for value in values):
                return False
        return True


class ServerGroupAffinityFilter(BaseHostFilter):
    """Members of an ``affinity`` group all land on the host of the first one."""

    placement_sensitive = True

    def relevant(self, spec: RequestSpec) -> bool:
        return (spec.group is not None and spec.group.policy == request.AFFINITY
                and bool(spec.group.hosts))

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        group = spec.group
        if group is None or group.policy != request.AFFINITY or not group.hosts:
            return True
        return group.members_on(host_state.host) > 0


class ServerGroupAntiAffinityFilter(BaseHostFilter):
    """A host runs fewer than ``max_server_per_host`` (default 1) members of an
    ``anti-affinity`` group."""

    placement_sensitive = True

    def relevant(self, spec: RequestSpec) -> bool:
        return (spec.group is not None and spec.group.policy == request.ANTI_AFFINITY
                and bool(spec.group.hosts))

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        group = spec.group
        if group is None or group.policy != request.ANTI_AFFINITY:
            return True
        return group.members_on(host_state.host) < group.max_server_per_host


class SameHostFilter(BaseHostFilter):
    """The ``same_host`` hint: the host runs one of the named instances."""

    def relevant(self, spec: RequestSpec) -> bool:
        return bool(spec.same_host)

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        return not spec.same_host or host_state.host in spec.same_host


class DifferentHostFilter(BaseHostFilter):
    """The ``different_host`` hint: the host runs none of the named instances."""

    def relevant(self, spec: RequestSpec) -> bool:
        return bool(spec.different_host)

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        return host_state.host not in spec.different_host


class IgnoreHostsFilter(BaseHostFilter):
    """Hosts a reschedule already failed on are never chosen again.

    The manager always runs it first, whatever ``enabled_filters`` says.
    """

    def relevant(self, spec: RequestSpec) -> bool:
        return bool(spec.ignore_hosts)

    def host_passes(self, host_state: HostState, spec: RequestSpec) -> bool:
        return host_state.host not in spec.ignore_hosts


ALL_FILTERS: dict[str, type[BaseHostFilter]] = {
    cls.__name__: cls for cls in (
        ComputeFilter, AvailabilityZoneFilter, RamFilter, CoreFilter, DiskFilter,
        ComputeCapabilitiesFilter, AggregateInstanceExtraSpecsFilter,
        ServerGroupAffinityFilter, ServerGroupAntiAffinityFilter, SameHostFilter,
        DifferentHostFilter, IgnoreHostsFilter)
}


def build_filters(names: Sequence[str], options: SchedulerOptions,
                  clock: Clock = _utcnow) -> list[BaseHostFilter]:
    """Instantiate the named filters, in order; an unknown name is a config error."""
    built = []
    for name in names:
        cls = ALL_FILTERS.get(name)
        if cls is None:
            raise exception.FilterNotFound(filter_name=name)
        built.append(cls(options, clock))
    return built
