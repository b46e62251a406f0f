"""Choosing hosts for a request: filter, weigh, pick, consume (pure logic, no RPC).

:class:`FilterScheduler` is what the scheduler daemon's RPC endpoint
(compute/scheduler/manager.py) calls with the host states its host manager
builds from the database. For each instance of a request it

1. removes the hosts a reschedule asked to ignore, then either narrows the
   candidates to the forced hosts/nodes (skipping the filters: an administrator's
   override) or runs the enabled filters;
2. weighs the survivors and picks one at random among the best
   ``host_subset_size``;
3. consumes the instance's resources on that host and adds the host to the
   request's server group, so the next instance sees both;
4. keeps the next best hosts as alternates for a reschedule.

Filtering is done once per request; after each placement only the chosen host
(whose resources changed) and the server-group filters (whose answer depends on
the placements) are re-checked, and only the chosen host is weighed again. The
filters only ever remove hosts as instances are placed, so this gives the same
answer as re-filtering every host for every instance, at a fraction of the cost.
If any instance cannot be placed the whole request fails with
:class:`NoValidHost` and the host states are left as they were.
"""
from __future__ import annotations

import dataclasses
import random
from typing import Sequence

from compute.scheduler import filters as filters_mod
from compute.scheduler import weighers as weighers_mod
from compute.scheduler.exception import NoValidHost
from compute.scheduler.host_state import HostState
from compute.scheduler.opts import SchedulerOptions
from compute.scheduler.request import RequestSpec

NOT_ENOUGH_HOSTS = "There are not enough hosts available."


@dataclasses.dataclass
class Selection:
    """Where one instance goes, with the limits the node should claim against and
    the alternates the conductor tries, in order, if the build fails there."""

    host: str
    node: str
    weight: float = 0.0
    limits: dict[str, float] = dataclasses.field(default_factory=dict)
    alternates: list[Selection] = dataclasses.field(default_factory=list)


def _limits(host: HostState) -> dict[str, float]:
    return {"memory_mb": host.memory_mb_total * host.ram_allocation_ratio,
            "vcpu": host.vcpus_total * host.cpu_allocation_ratio,
            "disk_gb": host.disk_gb_total * host.disk_allocation_ratio}


class FilterScheduler:
    """Filter-and-weigh host selection, configured by :class:`SchedulerOptions`."""

    def __init__(self, options: SchedulerOptions | None = None,
                 rng: random.Random | None = None,
                 clock: filters_mod.Clock | None = None) -> None:
        self.options = options or SchedulerOptions()
        self.rng = rng or random.Random()
        names = [n for n in self.options.enabled_filters if n != "IgnoreHostsFilter"]
        kwargs = {"clock": clock} if clock is not None else {}
        self.ignore_filter = filters_mod.IgnoreHostsFilter(self.options, **kwargs)
        self.filters = filters_mod.build_filters(names, self.options, **kwargs)
        self.weighers = weighers_mod.build_weighers(self.options)

    def select_destinations(self, hosts: Sequence[HostState], spec: RequestSpec,
                            count: int | None = None) -> list[Selection]:
        """One :class:`Selection` per instance; consumes resources on ``hosts``.

        ``spec`` itself is not changed (its server group is copied before the new
        members are added). Raises :class:`NoValidHost` when any instance has no
        host; nothing is consumed then.
        """
        spec = spec.copy()
        count = spec.num_instances if count is None else count
        placed: list[HostState] = []
        passing: list[HostState] = []
        selections = []
        cache = weighers_mod.WeighCache()
        try:
            for index in range(count):
                passing = self._candidates(hosts, spec, placed, passing)
                if not passing:
                    raise NoValidHost(reason=self._explain(hosts, spec, index, count))
                selection, host = self._pick(passing, spec, cache)
                selections.append(selection)
                host.consume(spec)
                cache.invalidate(host)
                placed.append(host)
                if spec.group is not None:
                    spec.group.add_member(host.host)
        except NoValidHost:
            for host in placed:
                host.release(spec)
            raise
        return selections

    def _pick(self, candidates: list[HostState], spec: RequestSpec,
              cache: weighers_mod.WeighCache) -> tuple[Selection, HostState]:
        weighed = weighers_mod.weigh_hosts(self.weighers, candidates, spec, cache)
        subset = weighed[:min(self.options.host_subset_size, len(weighed))]
        chosen = subset[0] if len(subset) == 1 else self.rng.choice(subset)
        alternates = [Selection(item.host_state.host, item.host_state.node, item.weight,
                                _limits(item.host_state))
                      for item in weighed[:self.options.max_attempts] if item is not chosen]
        host = chosen.host_state
        selection = Selection(host.host, host.node, chosen.weight, _limits(host),
                              alternates[:self.options.max_attempts - 1])
        return selection, host

    def _candidates(self, hosts: Sequence[HostState], spec: RequestSpec,
                    placed: list[HostState], previous: list[HostState]) -> list[HostState]:
        if spec.forced:
            return self._forced(hosts, spec)
        if not placed:
            passing = list(hosts)
            for host_filter in self._relevant(spec):
                passing = host_filter.filter_all(passing, spec)
                if not passing:
                    break
            return passing
        # Only the last chosen host changed, and only group filters look at placements.
        last = placed[-1]
        relevant = self._relevant(spec)
        passing = [h for h in previous
                   if h is not last or all(f.host_passes(h, spec) for f in relevant)]
        for host_filter in relevant:
            if host_filter.placement_sensitive:
                passing = host_filter.filter_all(passing, spec)
        return passing

    def _relevant(self, spec: RequestSpec) -> list[filters_mod.BaseHostFilter]:
        chain = [self.ignore_filter, *self.filters]
        return [f for f in chain if f.relevant(spec)]

    def _forced(self, hosts: Sequence[HostState], spec: RequestSpec) -> list[HostState]:
        passing = self.ignore_filter.filter_all(hosts, spec)
        if spec.force_hosts:
            wanted = {name.lower() for name in spec.force_hosts}
            passing = [h for h in passing if h.host.lower() in wanted]
        if spec.force_nodes:
            wanted = {name.lower() for name in spec.force_nodes}
            passing = [h for h in passing if h.node.lower() in wanted]
        return passing

    def _explain(self, hosts: Sequence[HostState], spec: RequestSpec, index: int,
                 count: int) -> str:
        """Which filter removed how many hosts, for the fault the user sees."""
        parts = ["%d hosts known" % len(hosts)]
        if count > 1:
            parts.append("placing instance %d of %d" % (index + 1, count))
        if spec.forced:
            parts.append("none of the forced hosts or nodes is available")
        else:
            passing = list(hosts)
            for host_filter in self._relevant(spec):
                before = len(passing)
                passing = host_filter.filter_all(passing, spec)
                if before != len(passing):
                    parts.append("%s removed %d" % (host_filter.name, before - len(passing)))
                if not passing:
                    break
        return "%s (%s)." % (NOT_ENOUGH_HOSTS[:-1], ", ".join(parts))


def select_destinations(hosts: Sequence[HostState], spec: RequestSpec,
                        count: int | None = None,
                        options: SchedulerOptions | None = None,
                        rng: random.Random | None = None) -> list[Selection]:
    """Convenience wrapper: a :class:`FilterScheduler` for one request."""
    return FilterScheduler(options, rng).select_destinations(hosts, spec, count)
