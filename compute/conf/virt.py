"""Options of the compute node's virt driver: ``[compute] compute_driver`` and the
fake driver's host size (``[fake_driver]``); read by :mod:`compute.virt.loader`."""
from __future__ import annotations

from oslo_config import cfg

from compute.virt import fake

DRIVER_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("compute_driver", default="fake", choices=["fake", "libvirt"],
               help="The hypervisor driver of this compute node: fake (in memory, "
                    "instant; for scale runs and tests) or libvirt (QEMU/KVM, TCG where "
                    "KVM cannot run ordinary guests; its driver is not written yet, only "
                    "its domain XML)."),
]

FAKE_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("vcpus", default=fake.DEFAULT_VCPUS, min=1,
               help="vCPUs a fake node reports."),
    cfg.IntOpt("memory_mb", default=fake.DEFAULT_MEMORY_MB, min=1,
               help="Memory (MiB) a fake node reports."),
    cfg.IntOpt("local_gb", default=fake.DEFAULT_LOCAL_GB, min=1,
               help="Local disk (GiB) a fake node reports."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(DRIVER_OPTS, group="compute")
    conf.register_opts(FAKE_OPTS, group="fake_driver")


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [("compute", DRIVER_OPTS), ("fake_driver", FAKE_OPTS)]
