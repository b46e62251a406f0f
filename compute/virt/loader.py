"""The virt driver a compute node runs, chosen by ``[compute] compute_driver``."""
from __future__ import annotations

from oslo_config import cfg

from common import exception
from compute.virt import driver
from compute.virt import fake


class DriverNotAvailable(exception.ServiceUnavailable):
    msg_fmt = "Compute driver %(name)s is not available here: %(reason)s"


def load(conf: cfg.ConfigOpts, host: str) -> driver.ComputeDriver:
    """The configured driver for node ``host``.

    :raises: DriverNotAvailable when the driver cannot run on this machine (the
        libvirt driver is not written yet; its domain XML is in virt/libvirt).
    """
    name = conf.compute.compute_driver
    if name == "fake":
        return fake.FakeDriver(host, vcpus=conf.fake_driver.vcpus,
                               memory_mb=conf.fake_driver.memory_mb,
                               local_gb=conf.fake_driver.local_gb)
    raise DriverNotAvailable(name=name, reason="the libvirt driver is not implemented yet; "
                             "set [compute] compute_driver = fake")
