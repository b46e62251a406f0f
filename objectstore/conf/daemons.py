"""Options of the object store's background daemons.

``[daemons]`` holds what every daemon shares (which ring devices are this host's);
``[replicator]``, ``[auditor]``, ``[updater]`` and ``[reaper]`` hold each daemon's own
pace and limits. The command-line switches ``--once``, ``--devices`` and
``--partitions`` are registered by the console scripts (:func:`register_cli_opts`).
"""
from __future__ import annotations

from oslo_config import cfg

GROUP = "daemons"

DAEMON_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("my_ip",
               help="Address under which this host's devices appear in the rings. Unset: "
                    "every address of this host's network interfaces (and loopback)."),
    cfg.ListOpt("devices", default=[],
                help="Only these devices (names as in the ring) are worked on by this "
                     "host's daemons. Empty: every ring device of this host whose "
                     "directory exists under [objectstore] devices."),
    cfg.FloatOpt("conn_timeout", default=0.5, min=0.01,
                 help="Seconds to wait for a storage server to accept a connection."),
    cfg.FloatOpt("node_timeout", default=10.0, min=0.1,
                 help="Seconds to wait for each answer of a storage server."),
]

REPLICATOR_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("interval", default=30, min=0,
               help="Seconds between the starts of two replication passes."),
    cfg.IntOpt("concurrency", default=4, min=1,
               help="Partitions (or databases) replicated at the same time."),
    cfg.IntOpt("reclaim_age", default=7 * 24 * 3600, min=0,
               help="Seconds after which tombstones (object .ts files, deleted database "
                    "rows) are removed for good. Must exceed the longest time a node may "
                    "be down, or deleted data may come back."),
    cfg.IntOpt("per_diff", default=1000, min=1,
               help="Database rows sent in one merge_items request."),
    cfg.IntOpt("full_pass_every", default=10, min=1,
               help="Object replication: every this many passes (and the first) each "
                    "partition is compared with its other replicas; in the passes between, "
                    "a partition whose local suffix hashes did not change since its last "
                    "complete sync with every other replica is skipped (it costs the "
                    "other servers nothing). What only a remote replica lost is then "
                    "restored within this many passes. 1: every pass is full."),
]

AUDITOR_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("interval", default=1800, min=0,
               help="Seconds between the starts of two audit passes."),
    cfg.FloatOpt("files_per_second", default=20.0, min=0,
                 help="Most files (objects or databases) audited per second; 0 = no limit."),
    cfg.IntOpt("bytes_per_second", default=10 * 1024 * 1024, min=0,
               help="Most object bytes read per second; 0 = no limit."),
]

UPDATER_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("interval", default=300, min=0,
               help="Seconds between the starts of two updater passes."),
    cfg.IntOpt("concurrency", default=4, min=1,
               help="Updates (async pendings, container reports) sent at the same time."),
]

REAPER_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("interval", default=3600, min=0,
               help="Seconds between the starts of two reaper (and expirer) passes."),
    cfg.IntOpt("delay_reaping", default=0, min=0,
               help="Seconds to wait after an account was deleted before its containers "
                    "and objects are removed (a window in which a mistaken delete can "
                    "still be undone by hand)."),
    cfg.IntOpt("concurrency", default=4, min=1,
               help="Objects deleted at the same time while reaping or expiring."),
    cfg.IntOpt("expirer_batch", default=1000, min=1,
               help="Due rows of one device's expiring index handled per pass."),
]

#: group name -> options
GROUPS: dict[str, list[cfg.Opt]] = {
    GROUP: DAEMON_OPTS,
    "replicator": REPLICATOR_OPTS,
    "auditor": AUDITOR_OPTS,
    "updater": UPDATER_OPTS,
    "reaper": REAPER_OPTS,
}

#: Kept for the shape every conf module of the object store has.
OPTS = DAEMON_OPTS

CLI_OPTS: list[cfg.Opt] = [
    cfg.BoolOpt("once", default=False, help="Run one pass, then exit."),
    cfg.ListOpt("devices", default=[], dest="only_devices",
                help="Work only on these devices (names as in the ring)."),
    cfg.ListOpt("partitions", default=[], dest="only_partitions",
                help="Work only on these partitions (numbers)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    for group, opts in GROUPS.items():
        conf.register_opts(opts, group=group)


def register_cli_opts(conf: cfg.ConfigOpts) -> None:
    """The switches of the daemons' console scripts (before ``service.prepare``)."""
    conf.register_cli_opts(CLI_OPTS)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(group, opts) for group, opts in GROUPS.items()]
