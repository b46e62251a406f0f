"""Options every block storage daemon shares: the default volume type and zones,
name templates of backend objects, service liveness and the [quota] defaults.

Owned by the foundation (B1); the parts keep theirs in their own modules.
"""
from __future__ import annotations

from oslo_config import cfg

DEFAULT_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("default_volume_type", default="__DEFAULT__",
               help="Name of the volume type a volume gets when its request names "
                    "none. The first database migration creates the type "
                    "``__DEFAULT__``; another name must exist as a volume type."),
    cfg.StrOpt("storage_availability_zone", default="nova",
               help="Availability zone of this volume or backup daemon (what its "
                    "services row reports)."),
    cfg.StrOpt("default_availability_zone",
               help="Availability zone of volumes whose request names none. Unset "
                    "means [DEFAULT] storage_availability_zone."),
    cfg.BoolOpt("allow_availability_zone_fallback", default=False,
                help="When the requested availability zone has no volume service, "
                     "create the volume in [DEFAULT] default_availability_zone "
                     "instead of failing the request."),
    cfg.StrOpt("volume_name_template", default="volume-%s",
               help="Name of a volume's backend object (file, logical volume), "
                    "``%s`` being the volume id."),
    cfg.StrOpt("snapshot_name_template", default="snapshot-%s",
               help="Name of a snapshot's backend object, ``%s`` being its id."),
    cfg.StrOpt("backup_name_template", default="backup-%s",
               help="Prefix of a backup's objects in the object store, ``%s`` being "
                    "its id."),
    cfg.IntOpt("service_down_time", default=60, min=1,
               help="Seconds after its last heartbeat at which a block storage "
                    "daemon is considered down (the scheduler skips its backends, "
                    "the services API shows it ``down``). Related options: "
                    "[DEFAULT] report_interval, several times smaller."),
]

QUOTA_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("volumes", default=10, min=-1,
               help="Default most volumes per project (-1: no limit)."),
    cfg.IntOpt("snapshots", default=10, min=-1,
               help="Default most snapshots per project (-1: no limit)."),
    cfg.IntOpt("gigabytes", default=1000, min=-1,
               help="Default most GiB of volumes and snapshots per project "
                    "(-1: no limit)."),
    cfg.IntOpt("backups", default=10, min=-1,
               help="Default most backups per project (-1: no limit)."),
    cfg.IntOpt("backup_gigabytes", default=1000, min=-1,
               help="Default most GiB of backups per project (-1: no limit)."),
    cfg.IntOpt("groups", default=10, min=-1,
               help="Default most volume groups per project (-1: no limit). Groups "
                    "are not implemented; the limit is shown in quota sets only."),
    cfg.IntOpt("per_volume_gigabytes", default=-1, min=-1,
               help="Largest size in GiB of one volume (-1: no limit)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register [DEFAULT] and [quota] options on ``conf``."""
    conf.register_opts(DEFAULT_OPTS)
    conf.register_opts(QUOTA_OPTS, group="quota")


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """These options, for oslo-config-generator."""
    return [(None, DEFAULT_OPTS), ("quota", QUOTA_OPTS)]
