"""[object_server] options: the object server (port 6200) and its disk layer."""
from __future__ import annotations

from oslo_config import cfg

OPTS: list[cfg.Opt] = [
    cfg.HostAddressOpt("bind_host", default="0.0.0.0",
                       help="Address the object server listens on."),
    cfg.PortOpt("bind_port", default=6200, help="Port the object server listens on."),
    cfg.IntOpt("threads", default=32, min=1,
               help="Worker threads of the object server (requests served at once)."),
    cfg.FloatOpt("conn_timeout", default=0.5, min=0.01,
                 help="Seconds to wait for a container server to accept the connection "
                      "of a container update."),
    cfg.FloatOpt("node_timeout", default=3.0, min=0.01,
                 help="Seconds to wait for a container server to answer a container "
                      "update; a slower one gets the update later through async_pending."),
    # 1 MiB rather than Swift's 64 KiB: fewer reads and Python steps per MB (a 256 MiB
    # GET cost the object server 2.0 instead of 2.4-2.6 ms of CPU per MB,
    # tools/bench/objectstore_bench.py); a small object is read in one piece of its
    # own size either way.
    cfg.IntOpt("disk_chunk_size", default=1048576, min=1,
               help="Bytes read from disk at a time when serving an object."),
    cfg.IntOpt("network_chunk_size", default=1048576, min=1,
               help="Bytes read from the client at a time when storing an object (the "
                    "buffer each upload in progress holds)."),
    cfg.IntOpt("mb_per_sync", default=16, min=0,
               help="While an upload is stored, fdatasync its file each time this many "
                    "more MiB were written, in the background (one at a time per upload; "
                    "the upload goes on meanwhile), so that the fsync before the answer "
                    "finds little left to flush. 0: only that fsync."),
    cfg.IntOpt("reclaim_age", default=604800, min=0,
               help="Seconds a tombstone (.ts) is kept before it is removed for good "
                    "(when a suffix hash is recalculated). Must be longer than any node "
                    "may stay down, or deleted objects come back."),
]

GROUP = "object_server"


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, OPTS)]
