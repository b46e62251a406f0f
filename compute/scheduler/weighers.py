"""Host weighers: rank the hosts that passed the filters.

Every weigher gives each host a raw value. The values of one weigher are
normalised to 0..1 over the candidate hosts (the lowest becomes 0, the highest
1; all 0 when they are equal), multiplied by the weigher's multiplier, and the
products are summed per host. The host with the highest sum wins. A positive
RAM/CPU/disk multiplier therefore spreads instances over the emptiest hosts and a
negative one stacks them on the fullest.
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar, Sequence

from compute.scheduler import request
from compute.scheduler.host_state import HostState
from compute.scheduler.opts import SchedulerOptions
from compute.scheduler.request import RequestSpec


@dataclasses.dataclass
class WeighedHost:
    host_state: HostState
    weight: float = 0.0


def normalize(values: Sequence[float], minval: float | None = None,
              maxval: float | None = None) -> list[float]:
    """Scale ``values`` to 0..1 between ``minval`` and ``maxval`` (default: their
    own minimum and maximum). Equal values all become 0."""
    if not values:
        return []
    low = min(values) if minval is None else minval
    high = max(values) if maxval is None else maxval
    span = high - low
    if span == 0:
        return [0.0] * len(values)
    return [(value - low) / span for value in values]


class BaseHostWeigher:
    """One weigher: a raw value per host and a configured multiplier."""

    #: Fixed bounds for normalisation; None means the candidates' own min/max.
    minval: ClassVar[float | None] = None
    maxval: ClassVar[float | None] = None
    #: True when the value depends on where earlier instances of the request went,
    #: so a :class:`WeighCache` must not keep it.
    placement_sensitive: ClassVar[bool] = False

    def __init__(self, options: SchedulerOptions) -> None:
        self.options = options

    @property
    def name(self) -> str:
        return type(self).__name__

    def multiplier(self) -> float:
        raise NotImplementedError

    def relevant(self, spec: RequestSpec) -> bool:
        """False when the weigher cannot change the ranking for ``spec``."""
        return self.multiplier() != 0.0

    def weigh(self, host_state: HostState, spec: RequestSpec) -> float:
        raise NotImplementedError


class RAMWeigher(BaseHostWeigher):
    """Free RAM (MiB)."""

    def multiplier(self) -> float:
        return self.options.ram_weight_multiplier

    def weigh(self, host_state: HostState, spec: RequestSpec) -> float:
        return float(host_state.free_ram)


class CPUWeigher(BaseHostWeigher):
    """Free vCPUs, the CPU allocation ratio applied."""

    def multiplier(self) -> float:
        return self.options.cpu_weight_multiplier

    def weigh(self, host_state: HostState, spec: RequestSpec) -> float:
        return host_state.free_vcpus


class DiskWeigher(BaseHostWeigher):
    """Free local disk (MiB)."""

    def multiplier(self) -> float:
        return self.options.disk_weight_multiplier

    def weigh(self, host_state: HostState, spec: RequestSpec) -> float:
        return host_state.free_disk_mb


class SoftAffinityWeigher(BaseHostWeigher):
    """Members of a ``soft-affinity`` group already on the host (more is better)."""

    POLICY = request.SOFT_AFFINITY
    placement_sensitive = True

    def multiplier(self) -> float:
        return self.options.soft_affinity_weight_multiplier

    def relevant(self, spec: RequestSpec) -> bool:
        return (super().relevant(spec) and spec.group is not None
                and spec.group.policy == self.POLICY and bool(spec.group.hosts))

    def weigh(self, host_state: HostState, spec: RequestSpec) -> float:
        if spec.group is None or spec.group.policy != self.POLICY:
            return 0.0
        return float(spec.group.members_on(host_state.host))


class SoftAntiAffinityWeigher(SoftAffinityWeigher):
    """Members of a ``soft-anti-affinity`` group on the host (fewer is better)."""

    POLICY = request.SOFT_ANTI_AFFINITY

    def multiplier(self) -> float:
        return self.options.soft_anti_affinity_weight_multiplier

    def weigh(self, host_state: HostState, spec: RequestSpec) -> float:
        return -super().weigh(host_state, spec)


ALL_WEIGHERS: tuple[type[BaseHostWeigher], ...] = (
    RAMWeigher, CPUWeigher, DiskWeigher, SoftAffinityWeigher, SoftAntiAffinityWeigher)


def build_weighers(options: SchedulerOptions) -> list[BaseHostWeigher]:
    """Every weigher; a multiplier of 0 switches one off."""
    return [cls(options) for cls in ALL_WEIGHERS]


class WeighCache:
    """Raw weigher values kept across the instances of one request.

    Placing an instance changes one host, so only that host needs weighing again
    (:meth:`invalidate`); normalisation still runs over all candidates.
    """

    def __init__(self) -> None:
        self._raw: dict[int, dict[HostState, float]] = {}

    def values(self, weigher: BaseHostWeigher, hosts: Sequence[HostState],
               spec: RequestSpec) -> list[float]:
        known = self._raw.setdefault(id(weigher), {})
        raw = []
        for host in hosts:
            value = known.get(host)
            if value is None:
                value = known[host] = weigher.weigh(host, spec)
            raw.append(value)
        return raw

    def invalidate(self, host: HostState) -> None:
        for known in self._raw.values():
            known.pop(host, None)


def weigh_hosts(weighers: Sequence[BaseHostWeigher], hosts: Sequence[HostState],
                spec: RequestSpec, cache: WeighCache | None = None) -> list[WeighedHost]:
    """The hosts with their summed weights, best first (ties keep input order)."""
    weighed = [WeighedHost(host) for host in hosts]
    if len(weighed) > 1:
        for weigher in weighers:
            if not weigher.relevant(spec):
                continue
            multiplier = weigher.multiplier()
            if cache is not None and not weigher.placement_sensitive:
                raw = cache.values(weigher, hosts, spec)
            else:
                raw = [weigher.weigh(host, spec) for host in hosts]
            for item, value in zip(weighed, normalize(raw, weigher.minval, weigher.maxval),
                                   strict=True):
                item.weight += multiplier * value
    weighed.sort(key=lambda item: item.weight, reverse=True)
    return weighed
