"""[volume] options of the volume daemon and its drivers: filled in by its owner (B4).

Add options to the lists below (``OPTS`` is [volume]; one group per list) and
mention each list in ``register_opts`` and ``list_opts``; ``blockstorage.conf`` calls both.
"""
from __future__ import annotations

from oslo_config import cfg

GROUP = "volume"

OPTS: list[cfg.Opt] = [
    cfg.StrOpt("backend_name", default="file",
               help="Name of the one storage backend this volume daemon serves: its "
                    "service host is ``<[DEFAULT] host>@<backend_name>`` and it "
                    "reports it as ``volume_backend_name`` (what a volume type's "
                    "``volume_backend_name`` extra spec matches)."),
    cfg.StrOpt("volume_driver", default="file", choices=["file", "lvm"],
               help="Driver of the backend: ``file`` (one raw or qcow2 file per "
                    "volume, made with qemu-img) or ``lvm`` (one logical volume per "
                    "volume in ``volume_group``, exported over iSCSI with tgt)."),
    cfg.FloatOpt("report_interval", default=10.0, min=0.1,
                 help="Seconds between two capacity reports of the backend into its "
                      "services row (what the scheduler reads)."),
    cfg.IntOpt("max_concurrent_operations", default=8, min=1,
               help="Long operations (create, delete, snapshot, extend, image "
                    "copies) the daemon runs at once; more wait in line."),
    cfg.StrOpt("image_conversion_dir", default="$state_path/conversion",
               help="Directory for images downloaded into volumes and volume data "
                    "converted for an upload (temporary files)."),
    cfg.IntOpt("reserved_percentage", default=0, min=0, max=100,
               help="Percentage of the backend's capacity the scheduler keeps free."),
    cfg.FloatOpt("max_over_subscription_ratio", default=20.0, min=1.0,
                 help="How far thin-provisioned space may exceed the real capacity "
                      "(provisioned / total). 1.0 means no over-subscription. Thick "
                      "backends ignore it."),
    cfg.StrOpt("target_protocol", default="file", choices=["file", "iscsi"],
               help="How the file driver hands volumes to their consumers: ``file`` "
                    "(the local path; compute must run on this host) or ``iscsi`` "
                    "(a tgt target with CHAP per attached volume). The lvm driver "
                    "always uses iscsi."),
    cfg.HostAddressOpt("target_ip_address", default="127.0.0.1",
                       help="Address of this host's iSCSI portal, as initiators reach it."),
    cfg.PortOpt("target_port", default=3260, help="Port of the iSCSI portal."),
    cfg.StrOpt("target_prefix", default="iqn.2010-10.org.openstack:",
               help="Prefix of the iSCSI target names (followed by the volume name)."),
    cfg.IntOpt("tgt_control_port", min=0,
               help="tgtd management port (``tgtd -C N``) tgtadm talks to; unset "
                    "means tgtd's default one."),
    cfg.StrOpt("file_volumes_dir", default="$state_path/volumes",
               help="Directory of the file driver's volume and snapshot files."),
    cfg.StrOpt("file_volume_format", default="raw", choices=["raw", "qcow2"],
               help="Format of the file driver's new volumes. iSCSI exports need raw."),
    cfg.IntOpt("file_capacity_gb", default=0, min=0,
               help="Capacity the file driver reports, in GiB; 0 means the size of "
                    "the filesystem of ``file_volumes_dir``."),
    cfg.BoolOpt("file_thin_provisioning", default=True,
                help="Whether the file driver reports itself thin (sparse files), "
                     "so the scheduler over-subscribes up to "
                     "``max_over_subscription_ratio``."),
    cfg.StrOpt("volume_group", default="stratus-volumes",
               help="LVM volume group of the lvm driver's logical volumes."),
    cfg.StrOpt("lvm_type", default="default", choices=["default", "thin"],
               help="``default``: thick logical volumes; ``thin``: thin volumes in "
                    "the pool ``<volume_group>-pool`` (made at start when missing)."),
    cfg.FloatOpt("lvm_thin_pool_ratio", default=0.95, min=0.1, max=1.0,
                 help="Share of the volume group the thin pool takes when made."),
    cfg.FloatOpt("debug_create_delay", default=0.0, min=0.0,
                 help="Testing aid: seconds every volume create waits after its "
                      "status is set, before the driver runs (crash tests kill the "
                      "daemon in that window). Leave 0."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register this part's options on ``conf``."""
    conf.register_opts(OPTS, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """This part's options, for oslo-config-generator."""
    return [(GROUP, OPTS)]
