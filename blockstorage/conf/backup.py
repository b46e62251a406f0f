"""[backup] options of the backup daemon and its object store driver.

Read at call time by :mod:`blockstorage.backup`.
"""
from __future__ import annotations

from oslo_config import cfg

GROUP = "backup"
MIB = 1024 * 1024

OPTS: list[cfg.Opt] = [
    cfg.StrOpt("backup_driver", default="objectstore", choices=["objectstore"],
               help="Where backups are kept. ``objectstore``: chunks and a JSON "
                    "manifest in the project's account of the object store (Swift "
                    "v1, endpoint from [swift] and the catalog)."),
    cfg.StrOpt("backup_container", default="volumebackups",
               help="Object store container of backups whose request names none."),
    cfg.IntOpt("backup_object_size", default=32 * MIB, min=64 * 1024,
               help="Bytes of volume data per backup object (before compression). "
                    "One object is held in memory at a time while it is compressed "
                    "and sent."),
    cfg.StrOpt("backup_compression_algorithm", default="zlib",
               choices=["zlib", "gzip", "bz2", "bzip2", "none", "off", "no"],
               help="Compression of each backup object: ``zlib`` (``gzip`` is a "
                    "synonym), ``bz2`` (``bzip2``), or ``none`` (``off``, ``no``). "
                    "Restores read what the backup's manifest says, whatever this "
                    "is now."),
    cfg.IntOpt("backup_connect_timeout", default=60, min=1,
               help="Seconds to wait for the volume daemon to export a volume to "
                    "this host (initialize_connection) for a backup or a restore."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register [backup] on ``conf``."""
    conf.register_opts(OPTS, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """These options, for oslo-config-generator."""
    return [(GROUP, OPTS)]
