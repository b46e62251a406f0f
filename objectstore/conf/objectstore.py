"""[objectstore]: what every object store daemon of one cluster shares."""
from __future__ import annotations

from oslo_config import cfg

OPTS: list[cfg.Opt] = [
    cfg.StrOpt("swift_dir", default="$state_path/objectstore",
               help="Directory of the ring files (account.ring.gz, container.ring.gz, "
                    "object.ring.gz) and their builders."),
    cfg.StrOpt("devices", default="$state_path/objectstore/node",
               help="Directory holding one directory (or mount point) per storage device."),
    cfg.BoolOpt("mount_check", default=False,
                help="Refuse to use a device directory that is not a mount point."),
    cfg.StrOpt("hash_path_prefix", default="", secret=True,
               help="Salt put before every path that is hashed for placement. Must be "
                    "the same on every node and must never change."),
    cfg.StrOpt("hash_path_suffix", default="stratus", secret=True,
               help="Salt put after every path that is hashed for placement. Must be "
                    "the same on every node and must never change."),
    cfg.IntOpt("ring_check_interval", default=15, min=1,
               help="Seconds between checks whether a ring file changed on disk."),
]

GROUP = "objectstore"


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, OPTS)]
