"""Every scheduler filter, passing and failing, ratios and operators included."""
from __future__ import annotations

import datetime
from typing import Any

import pytest

from compute.scheduler import exception
from compute.scheduler import extra_specs_ops
from compute.scheduler import filters
from compute.scheduler.host_state import Aggregate, HostState
from compute.scheduler.opts import DEFAULT_FILTERS, SchedulerOptions
from compute.scheduler.request import Flavor, RequestSpec, ServerGroup

NOW = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)
OPTIONS = SchedulerOptions()


def _host(name: str = "h1", **kwargs: Any) -> HostState:
    values: dict[str, Any] = dict(vcpus_total=4, memory_mb_total=4096, disk_gb_total=100,
                                  updated_at=NOW)
    values.update(kwargs)
    return HostState(host=name, node=name, **values)


def _spec(vcpus: int = 1, ram: int = 512, disk: int = 10, **kwargs: Any) -> RequestSpec:
    extra = kwargs.pop("extra_specs", {})
    swap = kwargs.pop("swap", 0)
    ephemeral = kwargs.pop("ephemeral_gb", 0)
    return RequestSpec(flavor=Flavor(vcpus, ram, disk, ephemeral, swap, extra), **kwargs)


def _passes(cls: type[filters.BaseHostFilter], host: HostState, spec: RequestSpec) -> bool:
    host_filter = cls(OPTIONS, clock=lambda: NOW)
    single = host_filter.host_passes(host, spec)
    assert (host_filter.filter_all([host], spec) == [host]) is single
    return single


class TestComputeFilter:
    def test_enabled_and_alive(self) -> None:
        assert _passes(filters.ComputeFilter, _host(), _spec())

    def test_disabled(self) -> None:
        assert not _passes(filters.ComputeFilter, _host(enabled=False), _spec())

    def test_forced_down(self) -> None:
        assert not _passes(filters.ComputeFilter, _host(forced_down=True), _spec())

    def test_never_reported(self) -> None:
        assert not _passes(filters.ComputeFilter, _host(updated_at=None), _spec())

    @pytest.mark.parametrize("age,alive", [(59, True), (60, True), (61, False), (600, False)])
    def test_service_down_time(self, age: int, alive: bool) -> None:
        updated = NOW - datetime.timedelta(seconds=age)
        assert _passes(filters.ComputeFilter, _host(updated_at=updated), _spec()) is alive

    def test_naive_timestamps_are_utc(self) -> None:
        updated = (NOW - datetime.timedelta(seconds=10)).replace(tzinfo=None)
        assert _passes(filters.ComputeFilter, _host(updated_at=updated), _spec())
        stale = (NOW - datetime.timedelta(seconds=100)).replace(tzinfo=None)
        assert not _passes(filters.ComputeFilter, _host(updated_at=stale), _spec())


class TestAvailabilityZoneFilter:
    def test_no_zone_requested(self) -> None:
        host_filter = filters.AvailabilityZoneFilter(OPTIONS)
        assert not host_filter.relevant(_spec())
        assert host_filter.host_passes(_host(), _spec())

    def test_default_zone(self) -> None:
        assert _passes(filters.AvailabilityZoneFilter, _host(), _spec(availability_zone="nova"))

    def test_zone_from_aggregate(self) -> None:
        host = _host(aggregates=[Aggregate("a", {"availability_zone": "az1"})])
        assert _passes(filters.AvailabilityZoneFilter, host, _spec(availability_zone="az1"))
        assert not _passes(filters.AvailabilityZoneFilter, host, _spec(availability_zone="az2"))

    def test_explicit_zone(self) -> None:
        host = _host(availability_zone="az3")
        assert _passes(filters.AvailabilityZoneFilter, host, _spec(availability_zone="az3"))
        assert not _passes(filters.AvailabilityZoneFilter, host, _spec(availability_zone="nova"))


class TestRamFilter:
    def test_fits(self) -> None:
        assert _passes(filters.RamFilter, _host(memory_mb_total=1024, ram_allocation_ratio=1.0),
                       _spec(ram=1024))

    def test_too_big(self) -> None:
        assert not _passes(filters.RamFilter,
                           _host(memory_mb_total=1024, ram_allocation_ratio=1.0),
                           _spec(ram=1025))

    def test_ratio_allows_overcommit(self) -> None:
        # 1024 MiB at 1.5: 1536 MiB allocatable, 1024 used by the node's report.
        host = _host(memory_mb_total=1024, memory_mb_used=1024)
        assert host.ram_allocation_ratio == 1.5
        assert _passes(filters.RamFilter, host, _spec(ram=512))
        assert not _passes(filters.RamFilter, host, _spec(ram=513))

    def test_reported_free_is_used(self) -> None:
        host = _host(memory_mb_total=4096, free_ram_mb=512, ram_allocation_ratio=1.0)
        assert _passes(filters.RamFilter, host, _spec(ram=512))
        assert not _passes(filters.RamFilter, host, _spec(ram=513))


class TestCoreFilter:
    def test_allocatable_limit(self) -> None:
        assert _passes(filters.CoreFilter, _host(vcpus_total=2, vcpus_used=30), _spec(vcpus=2))
        assert not _passes(filters.CoreFilter, _host(vcpus_total=2, vcpus_used=31),
                           _spec(vcpus=2))

    def test_no_overcommit(self) -> None:
        host = _host(vcpus_total=4, vcpus_used=3, cpu_allocation_ratio=1.0)
        assert _passes(filters.CoreFilter, host, _spec(vcpus=1))
        assert not _passes(filters.CoreFilter, host, _spec(vcpus=2))

    def test_instance_larger_than_host(self) -> None:
        # 64 allocatable vCPUs, but one guest cannot have more than the 4 real CPUs.
        assert not _passes(filters.CoreFilter, _host(vcpus_total=4), _spec(vcpus=5))

    def test_unknown_cpus_pass(self) -> None:
        assert _passes(filters.CoreFilter, _host(vcpus_total=0), _spec(vcpus=8))


class TestDiskFilter:
    def test_fits_exactly(self) -> None:
        assert _passes(filters.DiskFilter, _host(disk_gb_total=20), _spec(disk=20))

    def test_counts_ephemeral_and_swap(self) -> None:
        host = _host(disk_gb_total=20)
        assert _passes(filters.DiskFilter, host, _spec(disk=10, ephemeral_gb=9, swap=1024))
        assert not _passes(filters.DiskFilter, host, _spec(disk=10, ephemeral_gb=9, swap=1025))

    def test_used(self) -> None:
        assert not _passes(filters.DiskFilter, _host(disk_gb_total=20, disk_gb_used=15),
                           _spec(disk=10))

    def test_ratio(self) -> None:
        host = _host(disk_gb_total=20, disk_gb_used=15, disk_allocation_ratio=2.0)
        assert _passes(filters.DiskFilter, host, _spec(disk=25))
        assert not _passes(filters.DiskFilter, host, _spec(disk=26))


class TestComputeCapabilitiesFilter:
    def _host(self) -> HostState:
        return _host(hypervisor_type="QEMU", hypervisor_version=8002000,
                     cpu_info={"arch": "x86_64", "features": ["avx", "sse4.2"]},
                     stats={"gpu": "nvidia"})

    @pytest.mark.parametrize("specs,ok", [
        ({}, True),
        ({"capabilities:hypervisor_type": "QEMU"}, True),
        ({"capabilities:hypervisor_type": "KVM"}, False),
        ({"capabilities:hypervisor_type": "s== QEMU"}, True),
        ({"capabilities:hypervisor_version": ">= 8000000"}, True),
        ({"capabilities:hypervisor_version": "<= 8000000"}, False),
        ({"capabilities:cpu_info:arch": "x86_64"}, True),
        ({"capabilities:cpu_info:arch": "<or> aarch64 <or> x86_64"}, True),
        ({"capabilities:cpu_info:arch": "<or> aarch64 <or> ppc64le"}, False),
        ({"capabilities:cpu_info:features": "<in> avx"}, True),
        ({"capabilities:cpu_info:features": "<in> avx512"}, False),
        ({"capabilities:cpu_info:missing": "x"}, False),
        ({"capabilities:vcpus_total": "= 4"}, True),
        ({"capabilities:vcpus_total": "= 5"}, False),
        ({"capabilities:gpu": "nvidia"}, True),          # from stats
        ({"gpu": "nvidia"}, True),                       # unscoped keys count too
        ({"gpu": "amd"}, False),
        ({"hw:cpu_policy": "dedicated"}, True),          # another scope: ignored
        ({"aggregate_instance_extra_specs:ssd": "true"}, True),
    ])
    def test_specs(self, specs: dict[str, str], ok: bool) -> None:
        spec = _spec(extra_specs=specs)
        assert _passes(filters.ComputeCapabilitiesFilter, self._host(), spec) is ok

    def test_relevant_only_with_matching_keys(self) -> None:
        host_filter = filters.ComputeCapabilitiesFilter(OPTIONS)
        assert not host_filter.relevant(_spec(extra_specs={"hw:mem_page_size": "large"}))
        assert host_filter.relevant(_spec(extra_specs={"capabilities:x": "1"}))


class TestAggregateInstanceExtraSpecsFilter:
    def _host(self) -> HostState:
        return _host(aggregates=[Aggregate("fast", {"ssd": "true", "tier": "gold"}),
                                 Aggregate("gpu", {"gpus": "4", "tier": "silver"})])

    @pytest.mark.parametrize("specs,ok", [
        ({}, True),
        ({"aggregate_instance_extra_specs:ssd": "true"}, True),
        ({"aggregate_instance_extra_specs:ssd": "false"}, False),
        ({"aggregate_instance_extra_specs:tier": "silver"}, True),     # any aggregate
        ({"aggregate_instance_extra_specs:tier": "<or> bronze <or> gold"}, True),
        ({"aggregate_instance_extra_specs:gpus": ">= 2"}, True),
        ({"aggregate_instance_extra_specs:gpus": ">= 8"}, False),
        ({"aggregate_instance_extra_specs:missing": "x"}, False),
        ({"ssd": "true"}, True),
        ({"capabilities:ssd": "false"}, True),
    ])
    def test_specs(self, specs: dict[str, str], ok: bool) -> None:
        spec = _spec(extra_specs=specs)
        assert _passes(filters.AggregateInstanceExtraSpecsFilter, self._host(), spec) is ok

    def test_host_without_aggregates(self) -> None:
        spec = _spec(extra_specs={"aggregate_instance_extra_specs:ssd": "true"})
        assert not _passes(filters.AggregateInstanceExtraSpecsFilter, _host(), spec)


class TestServerGroupFilters:
    def test_affinity_first_member_anywhere(self) -> None:
        spec = _spec(group=ServerGroup("g", "affinity"))
        assert _passes(filters.ServerGroupAffinityFilter, _host("h1"), spec)

    def test_affinity_follows_members(self) -> None:
        spec = _spec(group=ServerGroup("g", "affinity", ["h1"]))
        assert _passes(filters.ServerGroupAffinityFilter, _host("h1"), spec)
        assert not _passes(filters.ServerGroupAffinityFilter, _host("h2"), spec)

    def test_anti_affinity(self) -> None:
        spec = _spec(group=ServerGroup("g", "anti-affinity", ["h1"]))
        assert not _passes(filters.ServerGroupAntiAffinityFilter, _host("h1"), spec)
        assert _passes(filters.ServerGroupAntiAffinityFilter, _host("h2"), spec)

    def test_anti_affinity_max_server_per_host(self) -> None:
        group = ServerGroup("g", "anti-affinity", ["h1", "h1", "h2"],
                            {"max_server_per_host": 2})
        spec = _spec(group=group)
        assert not _passes(filters.ServerGroupAntiAffinityFilter, _host("h1"), spec)
        assert _passes(filters.ServerGroupAntiAffinityFilter, _host("h2"), spec)

    @pytest.mark.parametrize("policy", ["soft-affinity", "soft-anti-affinity"])
    def test_soft_policies_never_filter(self, policy: str) -> None:
        spec = _spec(group=ServerGroup("g", policy, ["h1"]))
        assert _passes(filters.ServerGroupAffinityFilter, _host("h2"), spec)
        assert _passes(filters.ServerGroupAntiAffinityFilter, _host("h1"), spec)

    def test_other_policy_ignored(self) -> None:
        assert _passes(filters.ServerGroupAffinityFilter, _host("h2"),
                       _spec(group=ServerGroup("g", "anti-affinity", ["h1"])))
        assert _passes(filters.ServerGroupAntiAffinityFilter, _host("h1"),
                       _spec(group=ServerGroup("g", "affinity", ["h1"])))

    def test_unknown_policy(self) -> None:
        with pytest.raises(ValueError):
            ServerGroup("g", "sideways")


class TestHintFilters:
    def test_same_host(self) -> None:
        spec = _spec(same_host=["h1"])
        assert _passes(filters.SameHostFilter, _host("h1"), spec)
        assert not _passes(filters.SameHostFilter, _host("h2"), spec)
        assert _passes(filters.SameHostFilter, _host("h2"), _spec())

    def test_different_host(self) -> None:
        spec = _spec(different_host=["h1", "h3"])
        assert not _passes(filters.DifferentHostFilter, _host("h1"), spec)
        assert _passes(filters.DifferentHostFilter, _host("h2"), spec)
        assert _passes(filters.DifferentHostFilter, _host("h1"), _spec())

    def test_ignore_hosts(self) -> None:
        spec = _spec(ignore_hosts=["h1"])
        assert not _passes(filters.IgnoreHostsFilter, _host("h1"), spec)
        assert _passes(filters.IgnoreHostsFilter, _host("h2"), spec)


class TestRegistry:
    def test_defaults_build(self) -> None:
        built = filters.build_filters(DEFAULT_FILTERS, OPTIONS)
        assert [f.name for f in built] == DEFAULT_FILTERS

    def test_unknown_name(self) -> None:
        with pytest.raises(exception.FilterNotFound, match="NoSuchFilter"):
            filters.build_filters(["RamFilter", "NoSuchFilter"], OPTIONS)


@pytest.mark.parametrize("value,requirement,ok", [
    ("abc", "abc", True), ("abc", "abd", False),
    (1024, "= 512", True), (256, "= 512", False), ("x", "= 1", False),
    (4, "== 4", True), (4, "== 4.0", True), (4, "!= 4", False), (3, "!= 4", True),
    (4, ">= 4", True), (3, ">= 4", False), (4, "<= 4", True), (5, "<= 4", False),
    ("abc", "s== abc", True), ("abc", "s!= abc", False), ("abc", "s< abd", True),
    ("abc", "s<= abc", True), ("abd", "s> abc", True), ("abc", "s>= abd", False),
    ("avx sse", "<in> sse", True), (["avx", "sse"], "<in> ss", False),
    ("avx sse", "<all-in> avx sse", True), (["avx"], "<all-in> avx sse", False),
    ("b", "<or> a <or> b", True), ("c", "<or> a <or> b", False),
    (4, "== x", False), (4, "=", False),
])
def test_extra_specs_ops(value: Any, requirement: str, ok: bool) -> None:
    assert extra_specs_ops.match(value, requirement) is ok
