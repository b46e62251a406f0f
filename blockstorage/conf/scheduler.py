"""Options of the scheduler daemon: filled in by its owner (B4).

Add options to the lists below (one group per list) and mention each list in
``register_opts`` and ``list_opts``; ``blockstorage.conf`` calls both.
"""
from __future__ import annotations

from oslo_config import cfg

OPTS: list[cfg.Opt] = []

GROUP = "scheduler"

# [scheduler]; Cinder keeps these in [DEFAULT], which is still read (deprecated_group).
SCHEDULER_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("scheduler_max_attempts", default=3, min=1, deprecated_group="DEFAULT",
               help="Most backends one volume create is tried on: a create that "
                    "fails on a backend is rescheduled on another until this many "
                    "were tried, then the volume goes to ``error``."),
    cfg.ListOpt("scheduler_default_filters",
                default=["AvailabilityZoneFilter", "CapacityFilter",
                         "CapabilitiesFilter", "RetryFilter"],
                deprecated_group="DEFAULT",
                help="Filters a backend must pass, in order. Known: "
                     "AvailabilityZoneFilter, CapacityFilter, CapabilitiesFilter, "
                     "RetryFilter (volumes from snapshots and clones always stay on "
                     "their source's backend)."),
    cfg.ListOpt("scheduler_default_weighers", default=["CapacityWeigher"],
                deprecated_group="DEFAULT",
                help="Weighers ordering the backends that passed (the best first). "
                     "Known: CapacityWeigher (most free virtual capacity first)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register this part's options on ``conf``."""
    conf.register_opts(OPTS)
    conf.register_opts(SCHEDULER_OPTS, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """This part's options, for oslo-config-generator."""
    return [(None, OPTS), (GROUP, SCHEDULER_OPTS)]
