"""The virt driver a compute node runs, chosen by ``[compute] compute_driver``."""
from __future__ import annotations

from oslo_config import cfg

from common import exception
from compute.virt import driver
from compute.virt import fake


class DriverNotAvailable(exception.ServiceUnavailable):
    msg_fmt = "Compute driver %(name)s is not available here: %(reason)s"


def load(conf: cfg.ConfigOpts, host: str,
         fetch_image: driver.FetchImageCallback | None = None) -> driver.ComputeDriver:
    """The configured driver for node ``host``.

    ``fetch_image(context, image_id, dest_path)`` writes an image's bytes to a
    local file: drivers that keep an image cache (libvirt) download through it;
    the fake needs none.

    :raises: DriverNotAvailable when the driver cannot run on this machine
        (libvirt-python missing).
    """
    name = conf.compute.compute_driver
    if name == "fake":
        return fake.FakeDriver(host, vcpus=conf.fake_driver.vcpus,
                               memory_mb=conf.fake_driver.memory_mb,
                               local_gb=conf.fake_driver.local_gb,
                               spawn_delay=conf.fake_driver.spawn_delay,
                               guests_file=conf.fake_driver.guests_file)
    if name == "libvirt":
        try:
            from compute.virt.libvirt import driver as libvirt_driver
        except ImportError as err:
            raise DriverNotAvailable(
                name=name, reason="%s (install libvirt-python: pip install 'stratus[libvirt]', "
                "which needs the Debian packages libvirt-dev and pkg-config)" % err) from err
        return libvirt_driver.LibvirtDriver(conf, host, fetch_image=fetch_image)
    raise DriverNotAvailable(name=name, reason="unknown driver; set [compute] compute_driver "
                             "= fake or libvirt")
