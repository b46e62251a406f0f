"""Block storage connection info -> the guest disk that attaches it.

``connection_info`` is what block storage's ``initialize_connection`` returns
(Cinder's shape): ``{"driver_volume_type": TYPE, "data": {...}, "serial": ID}``.

* ``file`` / ``local``: ``data.device_path`` is an image file on this host
  (``data.format`` raw or qcow2, default raw).
* ``block``: ``data.device_path`` is a block device (a loop device, an LV).
* ``iscsi``: ``data.target_portal`` ``host:port`` (``[v6]:port``; port 3260 when
  absent), ``target_iqn``, ``target_lun`` (default 0); QEMU's own iSCSI client
  opens it (``<disk type='network'>``), so no kernel initiator is needed. CHAP
  (``auth_method`` ``CHAP``, ``auth_username``, ``auth_password``) goes through a
  libvirt secret named by :func:`secret_usage`, which the driver defines.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compute.virt import exception
from compute.virt.libvirt import config

FILE_TYPES = ("file", "local")
TYPES = (*FILE_TYPES, "block", "iscsi")
ISCSI_PORT = 3260
_SERIAL_MAX = 20  # virtio-blk serials are 20 bytes


def bus_of(target_dev: str) -> str:
    return "scsi" if target_dev.startswith("sd") else "virtio"


def volume_id(connection_info: Mapping[str, Any]) -> str | None:
    data = connection_info.get("data") or {}
    found = connection_info.get("serial") or data.get("volume_id")
    return str(found) if found else None


def secret_usage(connection_info: Mapping[str, Any], target_dev: str) -> str:
    """The usage name of the libvirt secret holding a volume's CHAP password."""
    return "stratus-volume-%s" % (volume_id(connection_info) or target_dev)


def chap(connection_info: Mapping[str, Any]) -> tuple[str, str] | None:
    """(user, password) when the volume wants CHAP, else None."""
    data = connection_info.get("data") or {}
    method = str(data.get("auth_method") or "").upper()
    if not method:
        return None
    if method != "CHAP":
        raise exception.InvalidConnectionInfo(reason="auth_method %s is not supported"
                                              % data.get("auth_method"))
    user, password = data.get("auth_username"), data.get("auth_password")
    if not user or password is None:
        raise exception.InvalidConnectionInfo(
            reason="CHAP needs auth_username and auth_password")
    return str(user), str(password)


def parse_portal(portal: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or ``host`` -> (host, port)."""
    portal = portal.strip()
    if portal.startswith("["):
        host, _, rest = portal[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif portal.count(":") == 1:
        host, _, port = portal.partition(":")
    else:
        host, port = portal, ""
    try:
        number = int(port) if port else ISCSI_PORT
    except ValueError:
        number = 0
    if not host or not 0 < number < 65536:
        raise exception.InvalidConnectionInfo(reason="bad target_portal %r" % portal)
    return host, number


def guest_disk(connection_info: Mapping[str, Any], target_dev: str) -> config.GuestDisk:
    """The disk for ``connection_info`` at ``target_dev`` (``vdb``).

    :raises: VolumeDriverNotFound, InvalidConnectionInfo.
    """
    if not isinstance(connection_info, Mapping):
        raise exception.InvalidConnectionInfo(reason="it is not a mapping")
    kind = connection_info.get("driver_volume_type")
    if kind not in TYPES:
        raise exception.VolumeDriverNotFound(driver_type=kind)
    data = connection_info.get("data")
    if not isinstance(data, Mapping):
        raise exception.InvalidConnectionInfo(reason="no data")
    serial = (volume_id(connection_info) or "")[:_SERIAL_MAX] or None
    fmt = str(data.get("format") or connection_info.get("format") or "raw")
    if fmt not in config.DISK_FORMATS:
        raise exception.InvalidConnectionInfo(reason="unsupported format %s" % fmt)
    common: dict[str, Any] = {"target_dev": target_dev, "bus": bus_of(target_dev),
                              "serial": serial, "driver_type": fmt,
                              "read_only": data.get("access_mode") == "ro"}
    if kind == "iscsi":
        iqn, portal = data.get("target_iqn"), data.get("target_portal")
        if not iqn or not portal:
            raise exception.InvalidConnectionInfo(
                reason="iscsi needs target_iqn and target_portal")
        lun = data.get("target_lun") or 0
        auth = chap(connection_info)
        return config.GuestDisk(
            source_type="network", protocol="iscsi", source_name="%s/%s" % (iqn, lun),
            hosts=(parse_portal(str(portal)),), cache="none",
            auth_username=auth[0] if auth else None,
            auth_secret_usage=secret_usage(connection_info, target_dev) if auth else None,
            **common)
    path = data.get("device_path")
    if not path or not str(path).startswith("/"):
        raise exception.InvalidConnectionInfo(reason="%s needs an absolute device_path" % kind)
    if kind == "block":
        return config.GuestDisk(source_type="block", source_path=str(path), cache="none",
                                **common)
    return config.GuestDisk(source_type="file", source_path=str(path), **common)
