"""Weighers: normalisation, multipliers, spread versus stack, soft server groups."""
from __future__ import annotations

from typing import Any

import pytest

from compute.scheduler import weighers
from compute.scheduler.host_state import HostState
from compute.scheduler.opts import SchedulerOptions
from compute.scheduler.request import Flavor, RequestSpec, ServerGroup

ONLY_RAM = SchedulerOptions(cpu_weight_multiplier=0.0, disk_weight_multiplier=0.0)


def _host(name: str, **kwargs: Any) -> HostState:
    values: dict[str, Any] = dict(vcpus_total=8, memory_mb_total=8192, disk_gb_total=100)
    values.update(kwargs)
    return HostState(host=name, node=name, **values)


def _spec(**kwargs: Any) -> RequestSpec:
    return RequestSpec(flavor=Flavor(1, 512, 1), **kwargs)


def _ranking(options: SchedulerOptions, hosts: list[HostState],
             spec: RequestSpec | None = None) -> list[tuple[str, float]]:
    weighed = weighers.weigh_hosts(weighers.build_weighers(options), hosts, spec or _spec())
    return [(item.host_state.host, round(item.weight, 6)) for item in weighed]


@pytest.mark.parametrize("values,minval,maxval,expected", [
    ([], None, None, []),
    ([5.0], None, None, [0.0]),
    ([3.0, 3.0], None, None, [0.0, 0.0]),
    ([0.0, 5.0, 10.0], None, None, [0.0, 0.5, 1.0]),
    ([-10.0, 0.0], None, None, [0.0, 1.0]),
    ([5.0, 10.0], 0.0, 20.0, [0.25, 0.5]),
])
def test_normalize(values: list[float], minval: float | None, maxval: float | None,
                   expected: list[float]) -> None:
    assert weighers.normalize(values, minval, maxval) == expected


def test_ram_spread_by_default() -> None:
    hosts = [_host("small", memory_mb_used=6144), _host("big"), _host("mid",
                                                                        memory_mb_used=4096)]
    assert _ranking(ONLY_RAM, hosts) == [("big", 1.0), ("mid", 0.333333), ("small", 0.0)]


def test_negative_multiplier_stacks() -> None:
    options = SchedulerOptions(ram_weight_multiplier=-2.0, cpu_weight_multiplier=0.0,
                               disk_weight_multiplier=0.0)
    hosts = [_host("big"), _host("small", memory_mb_used=6144)]
    assert _ranking(options, hosts) == [("small", 0.0), ("big", -2.0)]


def test_cpu_weigher_counts_ratio() -> None:
    options = SchedulerOptions(ram_weight_multiplier=0.0, disk_weight_multiplier=0.0)
    # 4 * 16 - 10 = 54 free versus 8 * 1 - 0 = 8 free: the overcommitted host wins.
    hosts = [_host("pinned", vcpus_total=8, cpu_allocation_ratio=1.0),
             _host("shared", vcpus_total=4, vcpus_used=10)]
    assert _ranking(options, hosts)[0] == ("shared", 1.0)


def test_disk_weigher() -> None:
    options = SchedulerOptions(ram_weight_multiplier=0.0, cpu_weight_multiplier=0.0)
    hosts = [_host("full", disk_gb_used=90), _host("empty")]
    assert _ranking(options, hosts) == [("empty", 1.0), ("full", 0.0)]


def test_weighers_are_normalised_before_summing() -> None:
    # RAM differs by megabytes and CPU by units: each counts at most its multiplier.
    hosts = [_host("ram", memory_mb_total=1_000_000, vcpus_total=1),
             _host("cpu", memory_mb_total=1024, vcpus_total=64)]
    options = SchedulerOptions(disk_weight_multiplier=0.0, cpu_weight_multiplier=2.0)
    assert _ranking(options, hosts) == [("cpu", 2.0), ("ram", 1.0)]


def test_equal_hosts_keep_order() -> None:
    hosts = [_host("a"), _host("b"), _host("c")]
    assert [name for name, _ in _ranking(SchedulerOptions(), hosts)] == ["a", "b", "c"]


def test_soft_affinity_prefers_members() -> None:
    options = SchedulerOptions(ram_weight_multiplier=0.0, cpu_weight_multiplier=0.0,
                               disk_weight_multiplier=0.0)
    spec = _spec(group=ServerGroup("g", "soft-affinity", ["b", "b", "c"]))
    hosts = [_host("a"), _host("b"), _host("c")]
    assert _ranking(options, hosts, spec) == [("b", 1.0), ("c", 0.5), ("a", 0.0)]


def test_soft_anti_affinity_prefers_empty_hosts() -> None:
    options = SchedulerOptions(ram_weight_multiplier=0.0, cpu_weight_multiplier=0.0,
                               disk_weight_multiplier=0.0)
    spec = _spec(group=ServerGroup("g", "soft-anti-affinity", ["b", "b", "c"]))
    hosts = [_host("b"), _host("c"), _host("a")]
    assert _ranking(options, hosts, spec) == [("a", 1.0), ("c", 0.5), ("b", 0.0)]


def test_soft_weighers_ignore_other_policies() -> None:
    weigher = weighers.SoftAffinityWeigher(SchedulerOptions())
    spec = _spec(group=ServerGroup("g", "affinity", ["a"]))
    assert not weigher.relevant(spec)
    assert weigher.weigh(_host("a"), spec) == 0.0
    assert not weigher.relevant(_spec())


def test_zero_multiplier_is_not_relevant() -> None:
    weigher = weighers.RAMWeigher(SchedulerOptions(ram_weight_multiplier=0.0))
    assert not weigher.relevant(_spec())
