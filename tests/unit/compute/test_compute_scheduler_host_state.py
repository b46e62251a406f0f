"""HostState accounting and defaults, the request types and the option snapshot."""
from __future__ import annotations

from oslo_config import cfg

from compute.scheduler import opts
from compute.scheduler.host_state import Aggregate, HostState, with_defaults
from compute.scheduler.request import Flavor, RequestSpec, ServerGroup


def _host() -> HostState:
    return HostState(host="h", node="n", vcpus_total=4, vcpus_used=1, memory_mb_total=4096,
                     memory_mb_used=1024, disk_gb_total=100, disk_gb_used=10)


def test_free_defaults_to_total_minus_used() -> None:
    host = _host()
    assert host.free_ram_mb == 3072
    assert host.free_disk_gb == 90
    assert host.free_disk_mb == 90 * 1024
    assert host.free_vcpus == 4 * 16.0 - 1
    assert (host.cpu_allocation_ratio, host.ram_allocation_ratio,
            host.disk_allocation_ratio) == (16.0, 1.5, 1.0)


def test_consume_and_release() -> None:
    host = _host()
    spec = RequestSpec(flavor=Flavor(vcpus=2, memory_mb=512, root_gb=10, ephemeral_gb=5,
                                     swap=512))
    host.consume(spec)
    host.consume(spec)
    assert host.vcpus_used == 5
    assert host.memory_mb_used == 2048
    assert host.free_ram_mb == 2048
    assert host.disk_gb_used == 10 + 2 * 15.5
    assert host.free_disk_gb == 90 - 2 * 15.5
    assert host.num_instances == 2
    host.release(spec)
    host.release(spec)
    assert (host.vcpus_used, host.memory_mb_used, host.free_ram_mb, host.disk_gb_used,
            host.free_disk_gb, host.num_instances) == (1, 1024, 3072, 10, 90, 0)


def test_consume_keeps_reported_free_ram() -> None:
    host = HostState(host="h", node="n", memory_mb_total=4096, free_ram_mb=1000)
    host.consume(RequestSpec(flavor=Flavor(1, 500)))
    assert host.free_ram_mb == 500


def test_aggregate_metadata_and_zone() -> None:
    host = HostState(host="h", node="n", aggregates=[
        Aggregate("a", {"availability_zone": "az1", "ssd": "true"}),
        Aggregate("b", {"ssd": "false"})])
    assert host.metadata == {"availability_zone": {"az1"}, "ssd": {"true", "false"}}
    assert host.availability_zone == "az1"
    assert HostState(host="h", node="n").availability_zone == "nova"


def test_with_defaults_uses_reported_ratios() -> None:
    options = opts.SchedulerOptions(cpu_allocation_ratio=4.0, ram_allocation_ratio=1.0,
                                    disk_allocation_ratio=2.0)
    host = with_defaults(_host(), options, {"cpu": None, "ram": 0.0, "disk": 3.0})
    assert (host.cpu_allocation_ratio, host.ram_allocation_ratio,
            host.disk_allocation_ratio) == (4.0, 1.0, 3.0)


def test_flavor_disk_mb() -> None:
    assert Flavor(1, 1, root_gb=1, ephemeral_gb=2, swap=100).disk_mb == 3 * 1024 + 100


def test_spec_copy_isolates_group() -> None:
    spec = RequestSpec(flavor=Flavor(1, 1), group=ServerGroup("g", "affinity", ["a"]))
    clone = spec.copy()
    assert clone.group is not None and spec.group is not None
    clone.group.add_member("b")
    assert spec.group.hosts == ["a"]
    assert spec.group.members_on("b") == 0
    assert clone.group.members_on("b") == 1


def test_options_from_conf() -> None:
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    conf([], project="stratus-test")
    conf.set_override("enabled_filters", ["RamFilter"], group=opts.GROUP)
    conf.set_override("host_subset_size", 3, group=opts.GROUP)
    options = opts.SchedulerOptions.from_conf(conf)
    assert options.enabled_filters == ("RamFilter",)
    assert options.host_subset_size == 3
    assert options.cpu_allocation_ratio == 16.0
    assert opts.SchedulerOptions.from_conf(conf).ram_allocation_ratio == 1.5


def test_list_opts_covers_the_snapshot() -> None:
    [(group, options)] = opts.list_opts()
    assert group == "filter_scheduler"
    names = {opt.name for opt in options}
    # service_down_time comes from [DEFAULT] (the services' liveness, as os-services).
    assert names == {field for field in opts.SchedulerOptions.__dataclass_fields__} - {
        "service_down_time"}
