"""Volume drivers, chosen by ``[volume] volume_driver``."""
from __future__ import annotations

from oslo_config import cfg

from blockstorage import exception
from blockstorage.volume.drivers import base
from blockstorage.volume.drivers import file as file_driver
from blockstorage.volume.drivers import lvm

DRIVERS: dict[str, type[base.VolumeDriver]] = {"file": file_driver.FileDriver,
                                               "lvm": lvm.LVMDriver}


def load(conf: cfg.ConfigOpts, runner: base.Runner | None = None) -> base.VolumeDriver:
    """The driver ``[volume] volume_driver`` names, for ``[volume] backend_name``.

    :raises: VolumeDriverException for an unknown name (oslo.config's choices
        normally catch it first).
    """
    name = str(conf.volume.volume_driver)
    if name not in DRIVERS:
        raise exception.VolumeDriverException(message="unknown volume driver %r" % name)
    return DRIVERS[name](conf, str(conf.volume.backend_name), runner)
