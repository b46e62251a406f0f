"""[DEFAULT] availability zone options: the zone of compute hosts that no
aggregate places in one, and the zone shown for the internal services."""
from __future__ import annotations

from oslo_config import cfg

AZ_OPTS: list[cfg.Opt] = [
    # Equal (name, default and help) to the option compute/conf/conductor.py
    # registers too, so that both registrations are accepted.
    cfg.StrOpt("default_availability_zone", default="nova",
               help="""
Availability zone of the compute hosts that belong to no aggregate with an
``availability_zone`` metadata key.
"""),
    cfg.StrOpt("internal_service_availability_zone", default="internal",
               help="The availability zone shown for the conductor and scheduler "
                    "services. Not a zone servers can be placed in: aggregates may not "
                    "use this name."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(AZ_OPTS)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(None, AZ_OPTS)]
