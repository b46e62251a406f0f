"""Snapshots of a libvirt guest's root disk (the driver's ``snapshot``).

The guest is paused while its root disk is converted to a standalone qcow2 in
``<instances_path>/snapshots`` (a crash-consistent image), resumed, and the file
handed to the node's upload callback, then removed.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from compute.virt import driver
from compute.virt import exception
from compute.virt import model
from compute.virt import power_state
from compute.virt.libvirt import guest
from compute.virt.libvirt import imagecache

if TYPE_CHECKING:
    from compute.virt.libvirt.driver import LibvirtDriver


def snapshot(drv: LibvirtDriver, instance: model.Instance, dom: Any,
             current: power_state.PowerState, image_id: str,
             upload: driver.UploadCallback) -> None:
    """Upload ``dom``'s root disk (``current`` its power state) as ``image_id``.

    :raises: SnapshotFailed.
    """
    with drv.hypervisor.translate(instance.uuid, exception.SnapshotFailed,
                                  instance_id=instance.uuid):
        root = guest.root_disk(ET.fromstring(dom.XMLDesc(0)),
                               os.path.join(drv.instance_dir(instance.uuid), "disk"))
    if root is None:
        raise exception.SnapshotFailed(instance_id=instance.uuid,
                                       reason="it has no local root disk")
    path, fmt = root
    directory = imagecache.ensure_dir(os.path.join(drv.instances_path, "snapshots"))
    fd, tmp = tempfile.mkstemp(prefix=".%s." % image_id, suffix=".qcow2", dir=directory)
    os.close(fd)
    try:
        # The guest is paused while its disk is copied: a crash-consistent image.
        with drv.hypervisor.translate(instance.uuid, exception.SnapshotFailed,
                                      instance_id=instance.uuid):
            if current == power_state.RUNNING:
                dom.suspend()
            try:
                imagecache.convert(path, tmp, fmt)
            except imagecache.QemuImgError as err:
                raise exception.SnapshotFailed(instance_id=instance.uuid,
                                               reason=str(err)) from err
            finally:
                if current == power_state.RUNNING:
                    dom.resume()
        os.chmod(tmp, imagecache.FILE_MODE)
        upload(tmp, "qcow2")
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
