"""Hot-plugging volumes into libvirt domains (what ``attach_volume`` and
``detach_volume`` do once the driver found the domain and checked its state).

An attach changes the running guest (``VIR_DOMAIN_AFFECT_LIVE``, when it runs)
and its definition (``AFFECT_CONFIG``) in one call. A detach removes the disk
from the definition first, then asks the running guest to let go (an ACPI
unplug the guest must acknowledge): again every few seconds until the disk is
gone from the live XML, or ``timeout``. CHAP passwords of iSCSI volumes live in
libvirt secrets (usage type iscsi, named by :func:`volume.secret_usage`),
defined before the disk needs them and removed with it.

Interfaces (``attach_interface``/``detach_interface``) go the same way: the
``<interface type='ethernet'>`` of the VIF (tap ``tap<port id[:11]>``, left for
the network agent to plug), found again by its MAC address.
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
        _detach_live(dom, ET.tostring(live, encoding="unicode"),
                     lambda xml: guest.find_disk(xml, target), mountpoint,
                     timeout, clock, sleep)
    delete_secret(conn, connection_info, target)


def find_interface(xml: ET.Element | None, mac: str) -> ET.Element | None:
    """The ``<interface>`` of ``xml`` with MAC address ``mac``."""
    if xml is None:
        return None
    for iface in xml.findall("devices/interface"):
        element = iface.find("mac")
        if element is not None and (element.get("address") or "").lower() == mac.lower():
            return iface
    return None


def attach_interface(dom: Any, iface: config.GuestInterface) -> None:
    """Plug ``iface`` into ``dom`` (live too when it runs).

    :raises: DeviceIsBusy when the domain has a NIC with its MAC or tap; libvirtError.
    """
    for xml in guest.xmls(dom):
        if xml is None:
            continue
        if find_interface(xml, iface.mac) is not None or any(
                t.get("dev") == iface.tap for t in xml.findall("devices/interface/target")):
            raise exception.DeviceIsBusy(device=iface.tap)
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
    if guest.active(dom):
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    dom.attachDeviceFlags(config.interface_xml(iface), flags)


def detach_interface(dom: Any, mac: str, device: str, *, timeout: float,
                     clock: Callable[[], float], sleep: Callable[[float], None]) -> bool:
    """Unplug the NIC with MAC ``mac`` from ``dom``'s definition and, when it
    runs, from the guest. Returns False when the domain has no such NIC.

    :raises: DeviceDetachFailed (the guest kept it), libvirtError.
    """
    persistent, live = (find_interface(xml, mac) for xml in guest.xmls(dom))
    if persistent is None and live is None:
        return False
    if persistent is not None:
        dom.detachDeviceFlags(ET.tostring(persistent, encoding="unicode"),
                              libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    if live is not None:
        _detach_live(dom, ET.tostring(live, encoding="unicode"),
                     lambda xml: find_interface(xml, mac), device, timeout, clock, sleep)
    return True


def _detach_live(dom: Any, xml: str, find: Callable[[ET.Element], ET.Element | None],
                 device: str, timeout: float, clock: Callable[[], float],
                 sleep: Callable[[float], None]) -> None:
    """Ask the running guest to release the device ``find`` locates in its live
    XML, again every few seconds, until it is gone or ``timeout`` passed."""
    deadline = clock() + timeout
    asked = None
    while guest.active(dom) and find(ET.fromstring(dom.XMLDesc(0))) is not None:
        now = clock()
        if now >= deadline:
            raise exception.DeviceDetachFailed(
                device=device, reason="the guest did not release it within %d s" % timeout)
        if asked is None or now - asked >= DETACH_RETRY_INTERVAL:
            try:
                dom.detachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            except libvirt.libvirtError as err:
                if libvirt_host.is_connection_error(err):
                    raise
                LOG.debug("Live detach of %s: %s", device, err)
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
