"""Options of the compute node's virt driver: ``[compute] compute_driver``, the
fake driver's host size (``[fake_driver]``) and the libvirt driver (``[libvirt]``);
read by :mod:`compute.virt.loader` and the drivers, at call time."""
from __future__ import annotations

from oslo_config import cfg

from compute.virt import fake

DRIVER_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("compute_driver", default="fake", choices=["fake", "libvirt"],
               help="The hypervisor driver of this compute node: fake (in memory, "
                    "instant; for scale runs and tests) or libvirt (QEMU/KVM, TCG where "
                    "KVM cannot run ordinary guests; needs libvirt-python, the "
                    "stratus[libvirt] extra, and a running libvirtd)."),
]

FAKE_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("vcpus", default=fake.DEFAULT_VCPUS, min=1,
               help="vCPUs a fake node reports."),
    cfg.IntOpt("memory_mb", default=fake.DEFAULT_MEMORY_MB, min=1,
               help="Memory (MiB) a fake node reports."),
    cfg.IntOpt("local_gb", default=fake.DEFAULT_LOCAL_GB, min=1,
               help="Local disk (GiB) a fake node reports."),
    cfg.FloatOpt("spawn_delay", default=0.0, min=0.0,
                 help="Seconds each fake spawn takes (tests: a node killed mid-boot)."),
    cfg.StrOpt("guests_file", default="",
               help="A file where a fake node keeps its guests while it is stopped "
                    "(written at a clean stop, read at start), e.g. "
                    "$state_path/fake-guests-${host}.json; empty keeps them in memory "
                    "only (a restarted node has none)."),
]

LIBVIRT_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("connection_uri", default="",
               help="Libvirt connection URI; empty means qemu:///system. "
                    "test:///default is libvirt's in-memory test driver."),
    cfg.StrOpt("virt_type", default="auto", choices=["auto", "kvm", "qemu"],
               help="Domain type: kvm (hardware acceleration), qemu (TCG emulation) or "
                    "auto: kvm when /dev/kvm exists and the kvm_intel or kvm_amd module "
                    "is loaded, else qemu (a /dev/kvm of another provider, such as "
                    "kvm_pvm, does not boot ordinary guests)."),
    cfg.StrOpt("instances_path", default="$state_path/instances",
               help="Where instance directories (disks, console logs) and the image "
                    "cache (_base) live. Must be readable by the QEMU user "
                    "(libvirt-qemu) all the way down."),
    cfg.StrOpt("images_type", default="qcow2", choices=["qcow2"],
               help="Root disks are qcow2 overlays of the cached base image."),
    cfg.IntOpt("wait_soft_reboot_seconds", default=120, min=0,
               help="How long a SOFT reboot waits for the guest to shut down before "
                    "it becomes a HARD one."),
    cfg.IntOpt("device_detach_timeout", default=20, min=1,
               help="Seconds a live volume detach waits for the guest to release the "
                    "disk (asking again every few seconds)."),
    cfg.StrOpt("vnc_listen", default="127.0.0.1",
               help="Address the guests' VNC servers listen on; empty disables VNC."),
    cfg.StrOpt("live_migration_uri", default="qemu+tcp://%s/system",
               help="Where the source's libvirtd sends a live-migrating domain: a URI "
                    "with one %s, replaced by the destination's "
                    "live_migration_inbound_addr or host name (e.g. "
                    "qemu+ssh://%s/system, or qemu+tls://%s/system)."),
    cfg.StrOpt("live_migration_inbound_addr", default="",
               help="The address other nodes' libvirtd reach this node's libvirtd at "
                    "for live migrations (on a migration network); empty means this "
                    "node's host name."),
    cfg.IntOpt("live_migration_bandwidth", default=0, min=0,
               help="Maximum bandwidth of a live migration in MiB/s; 0 is unlimited."),
    cfg.StrOpt("vnc_proxyclient_address", default="",
               help="Address the VNC console proxy connects to; empty means "
                    "vnc_listen, or this host's name when vnc_listen is a wildcard."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(DRIVER_OPTS, group="compute")
    conf.register_opts(FAKE_OPTS, group="fake_driver")
    conf.register_opts(LIBVIRT_OPTS, group="libvirt")


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [("compute", DRIVER_OPTS), ("fake_driver", FAKE_OPTS), ("libvirt", LIBVIRT_OPTS)]
