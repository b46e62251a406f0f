"""Rescue of libvirt guests: the bodies of the driver's ``rescue`` and ``unrescue``.

Files, as on Nova, in the instance's directory: ``unrescue.xml`` (the
instance's own domain definition, written before anything changes and kept
over a second rescue), ``disk.rescue`` (a qcow2 overlay of the cached rescue
image, sized like the flavor's root disk) and, for a rescue image booted
directly, ``kernel.rescue`` and ``ramdisk.rescue`` (hard links to the cache).

The rescue domain keeps the instance's name and uuid (so every other driver
call finds it, and ``destroy`` removes it and, with the directory, the
rescue's files), its VIFs (the same taps: the network agent plugs them again
as after any restart) and console log, with the rescue disk as ``vda`` and the
instance's root disk as ``vdb``, and the instance's config drive when its own
domain has one (the same image, read-only; see :mod:`.config_drive`). Volumes
are not attached to a rescue guest (volume-backed instances are not rescued; a
volume attached to an image-backed one stays in the kept definition).

``unrescue`` stops the rescue domain, defines ``unrescue.xml`` again, starts it
and removes the rescue files; without ``unrescue.xml`` it only starts the
domain. A rescue that fails puts the instance's own definition back the same
way but leaves it stopped.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

import libvirt  # type: ignore[import-untyped]
from oslo_log import log as logging

from compute.virt import exception
from compute.virt import model
from compute.virt.libvirt import config
from compute.virt.libvirt import config_drive as cdrive
from compute.virt.libvirt import guest
from compute.virt.libvirt import imagecache

if TYPE_CHECKING:
    from compute.virt.libvirt.driver import LibvirtDriver

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3
UNRESCUE_XML = "unrescue.xml"
RESCUE_DISK = "disk.rescue"
RESCUE_KERNEL = "kernel.rescue"
RESCUE_RAMDISK = "ramdisk.rescue"
ROOT_DISK = "disk"
_RESCUE_FILES = (RESCUE_DISK, RESCUE_KERNEL, RESCUE_RAMDISK)


def _own_xml(drv: LibvirtDriver, instance: model.Instance, dom: Any, directory: str) -> str:
    """The instance's own definition: ``unrescue.xml`` when a rescue kept it,
    else the domain's (written to ``unrescue.xml`` now)."""
    saved = os.path.join(directory, UNRESCUE_XML)
    try:
        with open(saved) as handle:
            return handle.read()
    except FileNotFoundError:
        pass
    with drv.hypervisor.translate(instance.uuid, exception.InstanceRescueFailure,
                                  instance_id=instance.uuid):
        xml = str(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    tmp = saved + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(xml)
    os.replace(tmp, saved)
    return xml


def _rescue_xml(drv: LibvirtDriver, context: Any, instance: model.Instance,
                image_meta: model.ImageMeta, network_info: model.NetworkInfo,
                directory: str, root: tuple[str, str], drive: str | None) -> str:
    if not image_meta.id:
        raise exception.InstanceRescueFailure(instance_id=instance.uuid,
                                              reason="no rescue image")
    cache = drv.image_cache
    rescue_disk = os.path.join(directory, RESCUE_DISK)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(rescue_disk)
    imagecache.create_root_disk(cache.fetch(context, image_meta.id), image_meta,
                                instance.root_gb * GiB, rescue_disk)
    kernel = initrd = None
    if image_meta.kernel_id:
        kernel = imagecache.link(cache.fetch(context, image_meta.kernel_id),
                                 os.path.join(directory, RESCUE_KERNEL))
        if image_meta.ramdisk_id:
            initrd = imagecache.link(cache.fetch(context, image_meta.ramdisk_id),
                                     os.path.join(directory, RESCUE_RAMDISK))
    cache_mode = drv._disk_cache_mode()
    disks = config.GuestDisk(target_dev="vda", source_path=rescue_disk, driver_type="qcow2",
                             cache=cache_mode)
    own = config.GuestDisk(target_dev="vdb", source_path=root[0], driver_type=root[1],
                           cache=cache_mode)
    guest_config = config.guest_config(
        instance, image_meta, network_info, virt_type=drv.virt_type, root_disk=disks,
        kernel=kernel, initrd=initrd, volumes=(own,), config_drive=drive,
        console_log=os.path.join(directory, "console.log"), vnc_listen=drv._vnc_listen())
    return config.domain_xml(guest_config)


def rescue(drv: LibvirtDriver, context: Any, instance: model.Instance,
           network_info: model.NetworkInfo, image_meta: model.ImageMeta) -> None:
    """Run the rescue domain in place of the instance's (see the module docstring).

    :raises: InstanceNotFound, InstanceRescueFailure, ImageUnacceptable,
        InstanceDeployFailure (the rescue disk).
    """
    conn = drv.hypervisor.connect()
    dom = drv.hypervisor.lookup(instance.uuid)
    directory = imagecache.ensure_dir(drv.instance_dir(instance.uuid))
    own = _own_xml(drv, instance, dom, directory)
    root = guest.root_disk(ET.fromstring(own), os.path.join(directory, ROOT_DISK))
    if root is None:
        raise exception.InstanceRescueFailure(instance_id=instance.uuid,
                                              reason="it has no local root disk")
    try:
        xml = _rescue_xml(drv, context, instance, image_meta, network_info, directory, root,
                          cdrive.attached(ET.fromstring(own)))
        with drv.hypervisor.translate(instance.uuid, exception.InstanceRescueFailure,
                                      instance_id=instance.uuid):
            guest.stop(dom, drv._sleep)
            if dom.hasManagedSaveImage(0):
                dom.managedSaveRemove(0)
            dom = conn.defineXML(xml)
            dom.createWithFlags(0)
    except BaseException:
        LOG.warning("Rescue of instance %s failed; putting its own guest back", instance.uuid)
        with contextlib.suppress(Exception):
            restore(drv, instance, start=False)
        raise
    LOG.info("Instance %s runs its rescue image %s", instance.uuid, image_meta.id)


def restore(drv: LibvirtDriver, instance: model.Instance, start: bool = True) -> None:
    """Put the instance's own domain back from ``unrescue.xml`` (when a rescue
    kept one), remove the rescue files, and start it when ``start``.

    :raises: InstanceNotFound (neither domain nor kept definition),
        InstanceUnrescueFailure.
    """
    conn = drv.hypervisor.connect()
    directory = drv.instance_dir(instance.uuid)
    saved = os.path.join(directory, UNRESCUE_XML)
    try:
        with open(saved) as handle:
            own: str | None = handle.read()
    except FileNotFoundError:
        own = None
    try:
        dom = drv.hypervisor.lookup(instance.uuid)
    except exception.InstanceNotFound:
        if own is None:
            raise
        dom = None
    with drv.hypervisor.translate(instance.uuid, exception.InstanceUnrescueFailure,
                                  instance_id=instance.uuid):
        if own is not None:
            if dom is not None:
                guest.stop(dom, drv._sleep)
            dom = conn.defineXML(own)
        assert dom is not None
        if start and not guest.active(dom):
            if dom.hasManagedSaveImage(0):
                dom.managedSaveRemove(0)
            dom.createWithFlags(0)
    _remove(directory, (UNRESCUE_XML, *_RESCUE_FILES) if own is not None else ())


def _remove(directory: str, names: Sequence[str]) -> None:
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(directory, name))
