"""Looking at a guest (console log, VNC, diagnostics) and its volumes.

Volumes go through block storage's attachments API (the API process created
the attachment and the block device mapping): the node gives this host's
connector, gets the connection info, has the driver attach it, and completes
the attachment; detaching undoes it in the reverse order. A failed attach
deletes the attachment and the mapping again; a detached volume's mapping is
removed (:func:`forget_bdm`).
"""
from __future__ import annotations

import platform
import socket
import string
from typing import Any

from oslo_log import log as logging

from compute import exception
from compute.node import base
from compute.virt import exception as virt_exception
from compute.virt import power_state

LOG = logging.getLogger(__name__)

ATTACH_VOLUME_EVENT = "compute_attach_volume"
DETACH_VOLUME_EVENT = "compute_detach_volume"


def _guest(node: base.Node, ctxt: Any, instance_uuid: str) -> tuple[dict[str, Any], Any]:
    instance = node.get(ctxt, instance_uuid)
    return instance, base.driver_instance(instance)


def tail(text: str, length: int | None) -> str:
    """The last ``length`` lines of ``text`` (Nova's tail of the console log)."""
    if length is None:
        return text
    try:
        count = int(length)
    except (TypeError, ValueError):
        count = 0
    if count <= 0:
        return ""
    return "\n".join(text.split("\n")[-count:])


def get_console_output(node: base.Node, ctxt: Any, instance_uuid: str,
                       tail_length: int | None = None) -> str:
    _instance, guest = _guest(node, ctxt, instance_uuid)
    return tail(node.driver.get_console_output(guest), tail_length)


def get_vnc_console(node: base.Node, ctxt: Any, instance_uuid: str) -> dict[str, Any]:
    _instance, guest = _guest(node, ctxt, instance_uuid)
    found = node.driver.get_vnc_console(guest)
    return {"host": str(found["host"]), "port": int(found["port"])}


def get_diagnostics(node: base.Node, ctxt: Any, instance_uuid: str) -> dict[str, Any]:
    """Nova's standard diagnostics (microversion 2.48 shape) from what the driver knows."""
    instance, guest = _guest(node, ctxt, instance_uuid)
    state = node.driver.get_info(guest).state
    vifs = base.vifs(instance.get("network_info"))
    volumes = node.block_device_info(ctxt, instance).volumes
    running = state in (power_state.RUNNING, power_state.PAUSED)
    # What the guest has, not what was asked: a drive the driver attached.
    has_drive = node.driver.has_config_drive(guest)
    disks = 1 + len(volumes) + (1 if has_drive else 0)
    return {
        "state": state.label, "driver": node.driver.name, "hypervisor": node.driver.name,
        "hypervisor_os": platform.system().lower() or "linux", "uptime": None,
        "config_drive": has_drive,
        "num_cpus": guest.vcpus, "num_nics": len(vifs), "num_disks": disks,
        "cpu_details": [{"id": i, "time": None, "utilisation": None}
                        for i in range(guest.vcpus)],
        "nic_details": [{"mac_address": v.mac, "rx_octets": None, "rx_errors": None,
                         "rx_drop": None, "rx_packets": None, "rx_rate": None,
                         "tx_octets": None, "tx_errors": None, "tx_drop": None,
                         "tx_packets": None, "tx_rate": None} for v in vifs],
        "disk_details": [{"read_bytes": None, "read_requests": None, "write_bytes": None,
                          "write_requests": None, "errors_count": None}
                         for _ in range(disks)],
        "memory_details": {"maximum": guest.memory_mb,
                           "used": guest.memory_mb if running else 0},
    }


def get_driver_diagnostics(node: base.Node, ctxt: Any, instance_uuid: str) -> dict[str, Any]:
    """The driver's free-form diagnostics (the API's shape before 2.48)."""
    _instance, guest = _guest(node, ctxt, instance_uuid)
    return dict(node.driver.get_diagnostics(guest))


# -- volumes -----------------------------------------------------------------------------


def connector(node: base.Node) -> dict[str, Any]:
    """This host as block storage sees an attacher (os-brick's connector shape)."""
    own = getattr(node.driver, "get_volume_connector", None)
    if callable(own):
        return dict(own())
    try:
        address = socket.gethostbyname(node.host)
    except OSError:
        address = "127.0.0.1"
    return {"host": node.host, "ip": address, "platform": platform.machine(),
            "os_type": "linux", "multipath": False}


def _next_device(root: str, bdms: list[dict[str, Any]]) -> str:
    used = {str(b.get("device_name") or "").rsplit("/", 1)[-1] for b in bdms}
    used.add(root.rsplit("/", 1)[-1])
    prefix = "vd"
    for letter in string.ascii_lowercase[1:]:
        if prefix + letter not in used:
            return "/dev/" + prefix + letter
    raise exception.VolumeAttachNotSupported(instance_uuid="", reason="no free device name")


def forget_bdm(node: base.Node, ctxt: Any, bdm_uuid: str) -> None:
    """Remove a volume's mapping once its attachment is gone."""
    node.conductor.bdm_destroy(ctxt, bdm_uuid)


def _undo_attach(node: base.Node, ctxt: Any, bdm_uuid: str, attachment_id: str) -> None:
    """A failed attach: delete the attachment (the volume is ``available``
    again) and the mapping, best effort (the attach's error is the one raised)."""
    try:
        node.neighbours.volume_disconnect(ctxt, attachment_id)
    except Exception:
        LOG.exception("Could not delete volume attachment %s", attachment_id)
    try:
        forget_bdm(node, ctxt, bdm_uuid)
    except Exception:
        LOG.exception("Could not remove block device mapping %s", bdm_uuid)


def attach_volume(node: base.Node, ctxt: Any, instance_uuid: str, bdm_uuid: str) -> None:
    """Attach the volume of block device mapping ``bdm_uuid`` (its attachment
    reserved by the API): connect, attach to the guest, complete."""
    with node.lock(instance_uuid):
        instance, guest = _guest(node, ctxt, instance_uuid)
        with node.action(ctxt, instance_uuid, ATTACH_VOLUME_EVENT):
            bdms = node.conductor.bdm_get_by_instance(ctxt, instance_uuid)
            bdm = next((b for b in bdms if b.get("uuid") == bdm_uuid), None)
            if bdm is None:
                raise exception.BDMNotFound(id=bdm_uuid)
            attachment_id = bdm.get("attachment_id")
            if not attachment_id:
                raise exception.VolumeAttachNotSupported(
                    instance_uuid=instance_uuid, reason="the volume has no attachment")
            device = bdm.get("device_name") or _next_device(
                instance.get("root_device_name") or base.DEFAULT_ROOT_DEVICE,
                [b for b in bdms if b is not bdm])
            try:
                info = node.neighbours.volume_connect(ctxt, str(attachment_id),
                                                      connector(node), device)
                node.driver.attach_volume(ctxt, guest, info, device)
            except Exception:
                _undo_attach(node, ctxt, bdm_uuid, str(attachment_id))
                raise
            node.neighbours.volume_attach_complete(ctxt, str(attachment_id))
            node.conductor.bdm_update(ctxt, bdm_uuid, {"connection_info": info,
                                                       "device_name": device})
        LOG.info("Volume %(volume)s attached to %(uuid)s at %(device)s",
                 {"volume": bdm.get("volume_id"), "uuid": instance_uuid, "device": device})


def detach_volume(node: base.Node, ctxt: Any, instance_uuid: str, volume_id: str,
                  attachment_id: str | None) -> None:
    """Detach ``volume_id`` from the guest (a guest that no longer has it is
    fine), then delete its attachment in block storage."""
    with node.lock(instance_uuid):
        _instance, guest = _guest(node, ctxt, instance_uuid)
        with node.action(ctxt, instance_uuid, DETACH_VOLUME_EVENT):
            bdms = node.conductor.bdm_get_by_instance(ctxt, instance_uuid)
            bdm = next((b for b in bdms if b.get("volume_id") == volume_id), None)
            if bdm is not None and bdm.get("connection_info") and bdm.get("device_name"):
                try:
                    node.driver.detach_volume(ctxt, guest, bdm["connection_info"],
                                              str(bdm["device_name"]))
                except (virt_exception.DiskNotFound, virt_exception.InstanceNotFound):
                    LOG.info("Volume %s was not attached to the guest", volume_id)
            attachment = attachment_id or (bdm or {}).get("attachment_id")
            if attachment:
                node.neighbours.volume_disconnect(ctxt, str(attachment))
            if bdm is not None:
                forget_bdm(node, ctxt, str(bdm["uuid"]))


def detach_all_volumes(node: base.Node, ctxt: Any,
                       instance: dict[str, Any]) -> list[dict[str, Any]]:
    """At delete: delete every volume attachment of the instance (the guest is
    gone already). :returns: its block device mappings (the delete then deletes
    the volumes marked ``delete_on_termination``)."""
    bdms = node.conductor.bdm_get_by_instance(ctxt, str(instance["uuid"]))
    for bdm in bdms:
        if bdm.get("destination_type") != "volume" or not bdm.get("attachment_id"):
            continue
        try:
            node.neighbours.volume_disconnect(ctxt, str(bdm["attachment_id"]))
        except Exception:
            LOG.exception("Could not delete volume attachment %s", bdm["attachment_id"])
    return bdms
