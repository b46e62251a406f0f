"""Options of the compute node daemon (``stratus-compute-node``), group ``[compute]``.

Read at call time by :mod:`compute.node`. ``[compute] allow_resize_to_same_host``
is declared with the conductor's options (compute/conf/conductor.py) and read
here too.
"""
from __future__ import annotations

from oslo_config import cfg

GROUP = "compute"

NODE_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("vif_plugging_timeout", default=300, min=0,
               help="""
Seconds a build waits for the network service to report every new port plugged
(the ``network-vif-plugged`` external event) before the guest is let run.

Only drivers that plug ports through the network service's agent wait (libvirt);
the fake driver never does.

Possible values:

* 0: do not wait at all.
* A positive number of seconds.

Related options:

* ``vif_plugging_is_fatal``: what a timeout means.
"""),
    cfg.BoolOpt("vif_plugging_is_fatal", default=True,
                help="""
Whether a build fails (the instance goes to ERROR) when its ports are not
reported plugged within ``vif_plugging_timeout``, or when the network service
reports a plug as failed. When false the guest starts anyway.
"""),
    cfg.IntOpt("update_resources_interval", default=60,
               help="""
Seconds between two full reports of this node's resources (size, use, running
instances) to the conductor. Claims and releases are reported at once besides.

Possible values:

* A positive number of seconds.
* 0 or less: no periodic report (only those after claims and releases).
"""),
    cfg.IntOpt("sync_power_state_interval", default=600,
               help="""
Seconds between two comparisons of the hypervisor's power states with the
database's. A guest found shut off while its instance is active is recorded as
stopped, a running guest of a stopped instance is powered off (as Nova's sync).

Possible values:

* A positive number of seconds.
* 0 or less: never sync.
"""),
    cfg.IntOpt("shelved_offload_time", default=0, min=-1,
               help="""
Seconds a shelved instance keeps its guest (and its claim) on the host before
it is offloaded (vm_state ``shelved_offloaded``), as Nova's option.

Possible values:

* 0: offload at once, as part of the shelve (Nova's default).
* -1: never offload by itself (``shelveOffload`` still does).
* A positive number of seconds: offloaded by a periodic task once that old.
"""),
    cfg.IntOpt("shelved_poll_interval", default=3600,
               help="""
Seconds between two looks for shelved instances older than
``shelved_offload_time`` (0 or less: never look).
"""),
    cfg.StrOpt("running_deleted_instance_action", default="reap",
               choices=[("reap", "destroy the guest"),
                        ("log", "log a warning and leave the guest"),
                        ("noop", "do nothing")],
               help="""
What to do with a guest on this hypervisor whose instance was deleted (a delete
made while the node was down), found at start and at each power-state sync.
Guests of instances the database does not know at all are always left alone.
"""),
    cfg.IntOpt("shutdown_timeout", default=60, min=0,
               help="""
Seconds a clean stop (ACPI shutdown) may take before the guest is powered off
by force. 0 powers off at once.

Related options:

* ``shutdown_retry_interval``.
"""),
    cfg.IntOpt("shutdown_retry_interval", default=10, min=1,
               help="Seconds between two ACPI shutdown requests during a clean stop."),
    cfg.IntOpt("max_concurrent_builds", default=10, min=0,
               help="""
Most builds (and rebuilds) this node runs at once; more wait in line. Builds
run off the RPC threads, so a build waiting for its ports never blocks the
events that release it.

Possible values:

* 0: no limit (64 threads).
* A positive number.
"""),
    cfg.IntOpt("reserved_host_memory_mb", default=0, min=0,
               help="MiB of RAM kept for the host itself, reported as used."),
    cfg.IntOpt("reserved_host_disk_mb", default=0, min=0,
               help="MiB of local disk kept for the host itself, reported as used."),
    cfg.IntOpt("reserved_host_cpus", default=0, min=0,
               help="Host CPUs kept for the host itself, reported as used."),
    cfg.FloatOpt("cpu_allocation_ratio", min=0.0,
                 help="""
Virtual to physical CPU ratio this node reports. Unset: the scheduler's
``[filter_scheduler] cpu_allocation_ratio`` applies (the node reports 0.0,
which means "not set" as on Nova).
"""),
    cfg.FloatOpt("ram_allocation_ratio", min=0.0,
                 help="Virtual to physical RAM ratio this node reports (unset: the "
                      "scheduler's default)."),
    cfg.FloatOpt("disk_allocation_ratio", min=0.0,
                 help="Virtual to physical disk ratio this node reports (unset: the "
                      "scheduler's default)."),
]

# Nova's names and group ([DEFAULT]) for the volumes a build creates.
BDM_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("block_device_allocate_retries", default=60, min=0,
               help="""
How many times a build looks at a volume it asked block storage to create
(boot from an image into a new volume, blank and snapshot volumes) before it
gives up and fails the instance with a fault naming the volume.

Related options:

* ``block_device_allocate_retries_interval``: the wait between two looks.
"""),
    cfg.IntOpt("block_device_allocate_retries_interval", default=3, min=0,
               help="Seconds between two looks at a volume being created for a build."),
]

# Nova's name and group ([DEFAULT]) for the config drive every guest gets.
CONFIG_DRIVE_OPTS: list[cfg.Opt] = [
    cfg.BoolOpt("force_config_drive", default=False,
                help="""
Give every instance this node spawns a config drive (an ISO 9660 ``config-2``
image with the metadata service's documents, attached read-only as a CD-ROM),
whether or not the server was created with ``config_drive: true``.

The drive is written when the guest's disks are made: at spawn, rebuild,
evacuation, unshelve and on the destination of a resize (when the disks that
moved hold none).

Related options:

* ``[metadata] vendordata_jsonfile_path`` and ``dhcp_domain``: read for the
  drive's documents as the metadata API reads them.
"""),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(NODE_OPTS, group=GROUP)
    conf.register_opts(BDM_OPTS)
    conf.register_opts(CONFIG_DRIVE_OPTS)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, NODE_OPTS), (None, BDM_OPTS + CONFIG_DRIVE_OPTS)]
