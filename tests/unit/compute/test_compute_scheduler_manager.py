"""select_destinations: spread, groups, capacity, forced and ignored hosts, alternates."""
from __future__ import annotations

import collections
import datetime
import random
from typing import Any

import pytest

from compute.scheduler.exception import NoValidHost
from compute.scheduler.host_state import HostState
from compute.scheduler.filter_scheduler import FilterScheduler, select_destinations
from compute.scheduler.opts import SchedulerOptions
from compute.scheduler.request import Flavor, RequestSpec, ServerGroup

NOW = datetime.datetime.now(datetime.timezone.utc)
TINY = Flavor(vcpus=1, memory_mb=1024, root_gb=10)


def _hosts(count: int, **kwargs: Any) -> list[HostState]:
    values: dict[str, Any] = dict(vcpus_total=4, memory_mb_total=4096, disk_gb_total=100,
                                  ram_allocation_ratio=1.0,
                                  # reported now (not at import: a slow run outlives it)
                                  updated_at=datetime.datetime.now(datetime.timezone.utc))
    values.update(kwargs)
    return [HostState(host="h%d" % i, node="n%d" % i, **values) for i in range(count)]


def _spec(num: int = 1, **kwargs: Any) -> RequestSpec:
    return RequestSpec(flavor=kwargs.pop("flavor", TINY), num_instances=num, **kwargs)


def _scheduler(**kwargs: Any) -> FilterScheduler:
    return FilterScheduler(SchedulerOptions(**kwargs), rng=random.Random(7))


def test_single_instance_goes_to_emptiest_host() -> None:
    hosts = _hosts(3)
    hosts[0].consume(_spec())
    hosts[2].consume(_spec())
    [selection] = _scheduler().select_destinations(hosts, _spec())
    assert (selection.host, selection.node) == ("h1", "n1")
    assert hosts[1].num_instances == 1
    assert selection.limits == {"memory_mb": 4096.0, "vcpu": 64.0, "disk_gb": 100.0}


def test_instances_spread_across_hosts() -> None:
    hosts = _hosts(4)
    selections = _scheduler().select_destinations(hosts, _spec(8))
    assert collections.Counter(s.host for s in selections) == {
        "h0": 2, "h1": 2, "h2": 2, "h3": 2}
    assert [h.num_instances for h in hosts] == [2, 2, 2, 2]
    assert [h.free_ram_mb for h in hosts] == [2048] * 4


def test_negative_multipliers_stack() -> None:
    hosts = _hosts(3)
    scheduler = _scheduler(ram_weight_multiplier=-1.0, cpu_weight_multiplier=-1.0,
                           disk_weight_multiplier=-1.0)
    selections = scheduler.select_destinations(hosts, _spec(4))
    assert [s.host for s in selections] == ["h0"] * 4


def test_count_overrides_num_instances() -> None:
    assert len(_scheduler().select_destinations(_hosts(2), _spec(1), count=3)) == 3


def test_count_beyond_capacity_fails_and_rolls_back() -> None:
    hosts = _hosts(2)  # 4 GiB each at ratio 1.0: room for 8 tiny instances
    scheduler = _scheduler()
    with pytest.raises(NoValidHost) as caught:
        scheduler.select_destinations(hosts, _spec(9))
    message = str(caught.value)
    assert message.startswith("No valid host was found. There are not enough hosts available")
    assert "placing instance 9 of 9" in message
    assert "RamFilter removed 2" in message
    assert [h.num_instances for h in hosts] == [0, 0]
    assert [h.free_ram_mb for h in hosts] == [4096, 4096]
    assert len(scheduler.select_destinations(hosts, _spec(8))) == 8


def test_no_hosts_at_all() -> None:
    with pytest.raises(NoValidHost, match="0 hosts known"):
        select_destinations([], _spec())


def test_fault_names_filters_and_counts() -> None:
    hosts = _hosts(5)
    hosts[0].enabled = False
    hosts[1].updated_at = NOW - datetime.timedelta(hours=1)
    big = Flavor(vcpus=1, memory_mb=8192)
    with pytest.raises(NoValidHost) as caught:
        _scheduler().select_destinations(hosts, _spec(flavor=big))
    assert "ComputeFilter removed 2" in str(caught.value)
    assert "RamFilter removed 3" in str(caught.value)
    assert "h0" not in str(caught.value)
    assert NoValidHost.code == 500 and NoValidHost.safe


def test_affinity_group_lands_together() -> None:
    hosts = _hosts(4)
    spec = _spec(3, group=ServerGroup("g", "affinity"))
    selections = _scheduler().select_destinations(hosts, spec)
    assert len({s.host for s in selections}) == 1
    assert all(s.alternates == [] for s in selections[1:])
    assert spec.group is not None and spec.group.hosts == []  # the caller's spec is untouched


def test_affinity_follows_existing_members() -> None:
    hosts = _hosts(4)
    spec = _spec(2, group=ServerGroup("g", "affinity", ["h2"]))
    assert [s.host for s in _scheduler().select_destinations(hosts, spec)] == ["h2", "h2"]


def test_affinity_fails_when_member_host_full() -> None:
    hosts = _hosts(3)
    spec = _spec(5, group=ServerGroup("g", "affinity"))
    with pytest.raises(NoValidHost, match="ServerGroupAffinityFilter removed 2"):
        _scheduler().select_destinations(hosts, spec)


def test_anti_affinity_spreads_and_limits() -> None:
    hosts = _hosts(3)
    selections = _scheduler().select_destinations(
        hosts, _spec(3, group=ServerGroup("g", "anti-affinity")))
    assert sorted(s.host for s in selections) == ["h0", "h1", "h2"]
    with pytest.raises(NoValidHost, match="ServerGroupAntiAffinityFilter removed 3"):
        _scheduler().select_destinations(_hosts(3),
                                         _spec(4, group=ServerGroup("g", "anti-affinity")))


def test_anti_affinity_max_server_per_host() -> None:
    group = ServerGroup("g", "anti-affinity", ["h0"], {"max_server_per_host": 2})
    selections = _scheduler().select_destinations(_hosts(2), _spec(3, group=group))
    placed = collections.Counter(s.host for s in selections)
    assert placed == {"h0": 1, "h1": 2}


def test_soft_anti_affinity_prefers_new_hosts() -> None:
    hosts = _hosts(3)
    hosts[0].memory_mb_total = hosts[0].free_ram_mb = 65536  # by RAM alone h0 would win
    spec = _spec(3, group=ServerGroup("g", "soft-anti-affinity"))
    scheduler = _scheduler(soft_anti_affinity_weight_multiplier=10.0)
    assert sorted(s.host for s in scheduler.select_destinations(hosts, spec)) == [
        "h0", "h1", "h2"]


def test_soft_affinity_packs_but_overflows() -> None:
    hosts = _hosts(2)
    spec = _spec(6, group=ServerGroup("g", "soft-affinity"))
    scheduler = _scheduler(soft_affinity_weight_multiplier=10.0)
    placed = collections.Counter(s.host for s in scheduler.select_destinations(hosts, spec))
    assert sorted(placed.values()) == [2, 4]


def test_same_and_different_host_hints() -> None:
    scheduler = _scheduler()
    assert {s.host for s in scheduler.select_destinations(
        _hosts(4), _spec(2, same_host=["h3"]))} == {"h3"}
    assert {s.host for s in scheduler.select_destinations(
        _hosts(3), _spec(2, different_host=["h0", "h1"]))} == {"h2"}


def test_availability_zone() -> None:
    hosts = _hosts(4)
    hosts[3].availability_zone = "az2"
    selections = _scheduler().select_destinations(hosts, _spec(2, availability_zone="az2"))
    assert {s.host for s in selections} == {"h3"}


def test_force_hosts_skips_filters() -> None:
    hosts = _hosts(3)
    hosts[1].enabled = False
    selections = _scheduler().select_destinations(hosts, _spec(2, force_hosts=["H1"]))
    assert [s.host for s in selections] == ["h1", "h1"]


def test_force_nodes() -> None:
    selections = _scheduler().select_destinations(_hosts(3), _spec(force_nodes=["n2"]))
    assert selections[0].node == "n2"


def test_forced_host_unknown_or_ignored() -> None:
    with pytest.raises(NoValidHost, match="forced hosts"):
        _scheduler().select_destinations(_hosts(2), _spec(force_hosts=["nope"]))
    with pytest.raises(NoValidHost):
        _scheduler().select_destinations(_hosts(2),
                                         _spec(force_hosts=["h0"], ignore_hosts=["h0"]))


def test_ignore_hosts_on_reschedule() -> None:
    hosts = _hosts(3)
    selections = _scheduler().select_destinations(hosts, _spec(3, ignore_hosts=["h0"]))
    assert {s.host for s in selections} == {"h1", "h2"}
    for selection in selections:
        assert "h0" not in [alt.host for alt in selection.alternates]


def test_ignore_hosts_applies_even_if_not_enabled() -> None:
    scheduler = _scheduler(enabled_filters=("RamFilter",))
    with pytest.raises(NoValidHost, match="IgnoreHostsFilter removed 1"):
        scheduler.select_destinations(_hosts(1), _spec(ignore_hosts=["h0"]))


def test_alternates() -> None:
    hosts = _hosts(5)
    for index, host in enumerate(hosts):
        host.free_ram_mb = 4096 - 256 * index  # h0 best ... h4 worst
    scheduler = _scheduler(max_attempts=3, cpu_weight_multiplier=0.0,
                           disk_weight_multiplier=0.0)
    first, second = scheduler.select_destinations(hosts, _spec(2))
    assert first.host == "h0"
    assert [alt.host for alt in first.alternates] == ["h1", "h2"]
    assert second.host == "h1"
    # h0 lost 1024 MiB to the first instance: it drops behind h2 and h3.
    assert [alt.host for alt in second.alternates] == ["h2", "h3"]
    assert all(alt.alternates == [] for alt in first.alternates)
    assert first.weight >= first.alternates[0].weight >= first.alternates[1].weight


def test_single_attempt_has_no_alternates() -> None:
    [selection] = _scheduler(max_attempts=1).select_destinations(_hosts(3), _spec())
    assert selection.alternates == []


def test_host_subset_size_randomises_among_best() -> None:
    picks = set()
    for seed in range(30):
        scheduler = FilterScheduler(SchedulerOptions(host_subset_size=3),
                                    rng=random.Random(seed))
        picks.add(scheduler.select_destinations(_hosts(6), _spec())[0].host)
    assert picks == {"h0", "h1", "h2"}


def test_subset_larger_than_candidates() -> None:
    scheduler = _scheduler(host_subset_size=10)
    assert scheduler.select_destinations(_hosts(2), _spec())[0].host in {"h0", "h1"}


def test_incremental_filtering_matches_full_refilter() -> None:
    # Uneven hosts and several instances: each pick must equal what filtering and
    # weighing every host from scratch would choose.
    rng = random.Random(3)
    hosts = _hosts(20)
    for host in hosts:
        host.memory_mb_used = rng.choice([0, 1024, 2048, 3072])
        host.free_ram_mb = host.memory_mb_total - host.memory_mb_used
    reference = [HostState(**{f: getattr(h, f) for f in (
        "host", "node", "vcpus_total", "memory_mb_total", "memory_mb_used", "disk_gb_total",
        "ram_allocation_ratio", "updated_at")}) for h in hosts]
    spec = _spec(12, group=ServerGroup("g", "anti-affinity", [],
                                       {"max_server_per_host": 2}))
    batch = [s.host for s in _scheduler().select_destinations(hosts, spec)]
    one_by_one = []
    group = ServerGroup("g", "anti-affinity", [], {"max_server_per_host": 2})
    for _ in range(12):
        [selection] = _scheduler().select_destinations(reference, _spec(1, group=group))
        group.add_member(selection.host)
        one_by_one.append(selection.host)
    assert batch == one_by_one
