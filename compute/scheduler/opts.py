"""``[filter_scheduler]`` options, and the typed snapshot the pure logic reads.

The scheduler daemon builds a :class:`SchedulerOptions` from the parsed config at
call time (``SchedulerOptions.from_conf``); filters, weighers and the manager only
ever see that snapshot, so unit tests need no oslo.config at all.
"""
from __future__ import annotations

import dataclasses

from oslo_config import cfg

GROUP = "filter_scheduler"

#: Nova's initial allocation ratios: overcommit CPU 16x, RAM 1.5x, disk not at all.
DEFAULT_CPU_ALLOCATION_RATIO = 16.0
DEFAULT_RAM_ALLOCATION_RATIO = 1.5
DEFAULT_DISK_ALLOCATION_RATIO = 1.0

DEFAULT_FILTERS = [
    "ComputeFilter",
    "AvailabilityZoneFilter",
    "RamFilter",
    "CoreFilter",
    "DiskFilter",
    "ComputeCapabilitiesFilter",
    "AggregateInstanceExtraSpecsFilter",
    "ServerGroupAntiAffinityFilter",
    "ServerGroupAffinityFilter",
    "SameHostFilter",
    "DifferentHostFilter",
]

FILTER_SCHEDULER_OPTS: list[cfg.Opt] = [
    cfg.ListOpt("enabled_filters", default=DEFAULT_FILTERS,
                help="""
Filters that every candidate host must pass, applied in this order.

Cheap filters first keeps scheduling fast: a host removed by an early filter is
never shown to the later ones. Hosts named in a reschedule's ignore list are
always removed, whatever this list says.

Possible values:

* Class names from ``compute.scheduler.filters`` (ComputeFilter,
  AvailabilityZoneFilter, RamFilter, CoreFilter, DiskFilter,
  ComputeCapabilitiesFilter, AggregateInstanceExtraSpecsFilter,
  ServerGroupAffinityFilter, ServerGroupAntiAffinityFilter, SameHostFilter,
  DifferentHostFilter, IgnoreHostsFilter).
"""),
    cfg.IntOpt("host_subset_size", default=1, min=1,
               help="""
Number of best-weighed hosts among which the scheduler picks one at random.

A value of 1 always picks the best host. Larger values lower the chance that
concurrent schedulers choose the same host and collide on its claim.
"""),
    cfg.IntOpt("max_attempts", default=3, min=1,
               help="""
Most hosts tried for one instance: the chosen host plus ``max_attempts - 1``
alternates handed to the conductor for reschedules after a build failure.
"""),
    cfg.FloatOpt("ram_weight_multiplier", default=1.0,
                 help="""
Multiplier of the free-RAM weigher.

Positive values spread instances over the hosts with most free RAM; negative
values stack them on the fullest hosts; 0 disables the weigher.
"""),
    cfg.FloatOpt("cpu_weight_multiplier", default=1.0,
                 help="""
Multiplier of the free-vCPU weigher (allocation ratio included).

Positive values spread, negative values stack, 0 disables the weigher.
"""),
    cfg.FloatOpt("disk_weight_multiplier", default=1.0,
                 help="""
Multiplier of the free-disk weigher.

Positive values spread, negative values stack, 0 disables the weigher.
"""),
    cfg.FloatOpt("soft_affinity_weight_multiplier", default=1.0, min=0.0,
                 help="""
Multiplier of the weigher that favours hosts already running members of a
``soft-affinity`` server group.
"""),
    cfg.FloatOpt("soft_anti_affinity_weight_multiplier", default=1.0, min=0.0,
                 help="""
Multiplier of the weigher that favours hosts running the fewest members of a
``soft-anti-affinity`` server group.
"""),
    cfg.FloatOpt("cpu_allocation_ratio", default=DEFAULT_CPU_ALLOCATION_RATIO, min=0.0,
                 help="""
Virtual to physical CPU ratio for hosts that do not report their own.

Related options:

* ``ram_allocation_ratio``, ``disk_allocation_ratio``
"""),
    cfg.FloatOpt("ram_allocation_ratio", default=DEFAULT_RAM_ALLOCATION_RATIO, min=0.0,
                 help="Virtual to physical RAM ratio for hosts that do not report their own."),
    cfg.FloatOpt("disk_allocation_ratio", default=DEFAULT_DISK_ALLOCATION_RATIO, min=0.0,
                 help="Virtual to physical disk ratio for hosts that do not report their own."),
]


@dataclasses.dataclass(frozen=True)
class SchedulerOptions:
    """The ``[filter_scheduler]`` values, read once per scheduling request."""

    enabled_filters: tuple[str, ...] = tuple(DEFAULT_FILTERS)
    host_subset_size: int = 1
    max_attempts: int = 3
    service_down_time: int = 60
    ram_weight_multiplier: float = 1.0
    cpu_weight_multiplier: float = 1.0
    disk_weight_multiplier: float = 1.0
    soft_affinity_weight_multiplier: float = 1.0
    soft_anti_affinity_weight_multiplier: float = 1.0
    cpu_allocation_ratio: float = DEFAULT_CPU_ALLOCATION_RATIO
    ram_allocation_ratio: float = DEFAULT_RAM_ALLOCATION_RATIO
    disk_allocation_ratio: float = DEFAULT_DISK_ALLOCATION_RATIO

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> SchedulerOptions:
        group = conf[GROUP]
        # Liveness is the services' own ([DEFAULT] service_down_time, as os-services).
        values = {field.name: getattr(group, field.name) for field in dataclasses.fields(cls)
                  if field.name != "service_down_time"}
        try:
            values["service_down_time"] = int(conf.service_down_time)
        except cfg.NoSuchOptError:  # only [filter_scheduler] registered (tools, tests)
            pass
        values["enabled_filters"] = tuple(values["enabled_filters"])
        return cls(**values)


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(FILTER_SCHEDULER_OPTS, group=GROUP)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(GROUP, FILTER_SCHEDULER_OPTS)]
