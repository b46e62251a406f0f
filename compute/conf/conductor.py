"""Options of the conductor's workflows: ``[conductor]`` (stuck builds) and
``[compute] allow_resize_to_same_host``. Read at call time.

(``[DEFAULT] default_availability_zone``, which the scheduler reads too, is
declared in compute/conf/availability_zones.py.)"""
from __future__ import annotations

from oslo_config import cfg

CONDUCTOR_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("build_timeout", default=600, min=0,
               help="""
Seconds after which an instance still building on a compute host whose service
is not alive (no heartbeat within ``[DEFAULT] service_down_time``, or no host at
all) is put in ERROR with a fault, so nothing stays in BUILD forever when a node
is gone. 0 disables the check.
"""),
    cfg.IntOpt("build_check_interval", default=60, min=0,
               help="""
Seconds between two runs of the conductor's check for stuck builds (see
``build_timeout``). 0 disables the check.
"""),
]

COMPUTE_OPTS: list[cfg.Opt] = [
    cfg.BoolOpt("allow_resize_to_same_host", default=True,
                help="""
Whether a resize may pick the instance's current host as its destination.

Useful (and the default here) on one-machine clouds; a cold migration never
stays on its host.
"""),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(CONDUCTOR_OPTS, group="conductor")
    conf.register_opts(COMPUTE_OPTS, group="compute")


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [("conductor", CONDUCTOR_OPTS), ("compute", COMPUTE_OPTS)]
