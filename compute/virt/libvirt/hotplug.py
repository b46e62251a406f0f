"""Hot-plugging volumes into libvirt domains (what ``attach_volume`` and
``detach_volume`` do once the driver found the domain and checked its state).

An attach changes the running guest (``VIR_DOMAIN_AFFECT_LIVE``, when it runs)
and its definition (``AFFECT_CONFIG``) in one call. A detach removes the disk
from the definition first, then asks the running guest to let go (an ACPI
unplug the guest must acknowledge): again every few seconds until the disk is
gone from the live XML, or ``timeout``. CHAP passwords of iSCSI volumes live in
libvirt secrets (usage type iscsi, named by :func:`volume.secret_usage`),
defined before the disk needs them and removed with it.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any
from xml.etree import ElementTree as ET

import libvirt  # type: ignore[import-untyped]
from oslo_log import log as logging

from compute.virt import exception
from compute.virt.libvirt import config
from compute.virt.libvirt import guest
from compute.virt.libvirt import host as libvirt_host
from compute.virt.libvirt import volume

LOG = logging.getLogger(__name__)

POLL_INTERVAL = 0.5
DETACH_RETRY_INTERVAL = 5.0


def attach(conn: Any, dom: Any, disk: config.GuestDisk,
           connection_info: Mapping[str, Any], mountpoint: str) -> None:
    """Attach ``disk`` to ``dom`` (live too when it runs).

    :raises: DeviceIsBusy when its target is taken; libvirtError.
    """
    if any(guest.find_disk(xml, disk.target_dev) is not None for xml in guest.xmls(dom)):
        raise exception.DeviceIsBusy(device=mountpoint)
    define_secret(conn, connection_info, disk.target_dev)
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
    if guest.active(dom):
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    try:
        dom.attachDeviceFlags(config.disk_xml(disk), flags)
    except BaseException:
        delete_secret(conn, connection_info, disk.target_dev)
        raise


def detach(conn: Any, dom: Any, connection_info: Mapping[str, Any], target: str,
           mountpoint: str, *, timeout: float, clock: Callable[[], float],
           sleep: Callable[[float], None]) -> None:
    """Detach the disk at ``target`` from ``dom``'s definition and, when it runs,
    from the guest.

    :raises: DiskNotFound, DeviceDetachFailed (the guest kept it), libvirtError.
    """
    persistent, live = (guest.find_disk(xml, target) for xml in guest.xmls(dom))
    if persistent is None and live is None:
        raise exception.DiskNotFound(location=mountpoint)
    if persistent is not None:
        dom.detachDeviceFlags(ET.tostring(persistent, encoding="unicode"),
                              libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    if live is not None:
        _detach_live(dom, ET.tostring(live, encoding="unicode"), target, mountpoint,
                     timeout, clock, sleep)
    delete_secret(conn, connection_info, target)


def _detach_live(dom: Any, xml: str, target: str, mountpoint: str, timeout: float,
                 clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
    deadline = clock() + timeout
    asked = None
    while guest.active(dom) and guest.find_disk(ET.fromstring(dom.XMLDesc(0)),
                                                target) is not None:
        now = clock()
        if now >= deadline:
            raise exception.DeviceDetachFailed(
                device=mountpoint, reason="the guest did not release it within %d s" % timeout)
        if asked is None or now - asked >= DETACH_RETRY_INTERVAL:
            try:
                dom.detachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            except libvirt.libvirtError as err:
                if libvirt_host.is_connection_error(err):
                    raise
                LOG.debug("Live detach of %s: %s", target, err)
            asked = now
        sleep(POLL_INTERVAL)


def define_secret(conn: Any, connection_info: Mapping[str, Any], target: str) -> None:
    """The libvirt secret holding the volume's CHAP password (when it has one)."""
    auth = volume.chap(connection_info)
    if auth is None:
        return
    usage = volume.secret_usage(connection_info, target)
    try:
        secret = conn.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_ISCSI, usage)
    except libvirt.libvirtError:
        secret = conn.secretDefineXML(
            "<secret ephemeral='no' private='yes'><usage type='iscsi'><target>%s</target>"
            "</usage></secret>" % usage)
    secret.setValue(auth[1].encode())


def delete_secret(conn: Any, connection_info: Mapping[str, Any], target: str) -> None:
    """Remove the volume's CHAP secret; nothing when there is none."""
    with contextlib.suppress(Exception):
        if volume.chap(connection_info) is None:
            return
        conn.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_ISCSI,
                                 volume.secret_usage(connection_info, target)).undefine()
