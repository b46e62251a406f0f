"""A server's volume attachments (``os-volume_attachments``): list, show,
attach, detach; swap is refused.

A server's attached volumes are its block device mappings with destination
``volume`` and a volume id (the root volume of a boot-from-volume server
included). Attaching follows Nova's order: the lock (409 for non-admins), the
state (ACTIVE, PAUSED, STOPPED or RESIZED with no task; SHELVED from 2.20 —
the guest is still on its host — else 409), the volume (404 when block storage
does not know it; 400 when it is multiattach, already attached to this server
or not ``available``), then the device name is reserved in a new mapping row
(the requested ``/dev/vdX`` when free, else the next free one after the root
disk), the volume is reserved for the server with a block storage attachment
(no connector yet), the instance action ``attach_volume`` is recorded and
``attach_volume`` is cast to the server's node, which gives its connector,
hot-plugs the disk and completes the attachment (the volume goes ``in-use``).
A failure before the cast undoes the mapping and the attachment.

Detaching needs the volume (404), its mapping on this server (404), not the
root disk (400), the volume ``in-use`` (400: still attaching or already
detached), the lock and the state; it records ``detach_volume`` and casts
``detach_volume`` to the node, which unplugs the disk, deletes the attachment
and the mapping.

Server states SHELVED_OFFLOADED (no host to attach on) and swap volume are not
supported: 409.
"""
from __future__ import annotations

import re
import string
import uuid as uuid_mod
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from oslo_log import log as logging

from common import exception as common_exception
from compute import exception
from compute import servers as servers_service
from compute import states
from compute.clients import volume as volume_client
from compute.db import models

LOG = logging.getLogger(__name__)
ATTACH = "attach_volume"
DETACH = "detach_volume"
SWAP = "swap_volume"
ALLOWED_STATES = (states.ACTIVE, states.PAUSED, states.STOPPED, states.RESIZED)
#: 2.20 allows shelved servers (only SHELVED is served: its guest is kept).
SHELVED_VERSION = (2, 20)
DEFAULT_ROOT_DEVICE = "/dev/vda"
#: Nova's device path rule (``/dev/`` + optional x, one letter, d + letters + digits).
DEVICE_PATTERN = r"(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$"
_DEVICE = re.compile(DEVICE_PATTERN)


def view(bdm: Mapping[str, Any]) -> dict[str, Any]:
    """A volume block device mapping as a ``volumeAttachment`` (2.1 fields)."""
    return {"id": bdm["volume_id"], "volumeId": bdm["volume_id"],
            "serverId": bdm["instance_uuid"], "device": bdm["device_name"]}


def _row(bdm: models.BlockDeviceMapping) -> dict[str, Any]:
    return {"uuid": bdm.uuid, "instance_uuid": bdm.instance_uuid,
            "volume_id": bdm.volume_id, "device_name": bdm.device_name,
            "boot_index": bdm.boot_index, "attachment_id": bdm.attachment_id,
            "source_type": bdm.source_type, "destination_type": bdm.destination_type}


def _split(device: str) -> tuple[str, str]:
    """``/dev/vdb`` -> (``vd``, ``b``); the bus prefix and the letters."""
    name = device.rsplit("/", 1)[-1].rstrip(string.digits)
    match = _DEVICE.match("/dev/" + name)
    if match is None:
        return name, ""
    return match.group(1)[len("/dev/"):], match.group(2)


def choose_device(root: str | None, used: set[str], requested: str | None) -> str:
    """The device name of a new volume: ``requested`` when it is free and on
    the root disk's bus (``/dev/vdc`` on a ``/dev/vda`` server), else the
    first free name after the root's (``/dev/vdb``, ``/dev/vdc`` ...).

    :raises: Invalid (400) when all 25 names are taken.
    """
    prefix, _letters = _split(root or DEFAULT_ROOT_DEVICE)
    taken = {name.rsplit("/", 1)[-1] for name in used | {root or DEFAULT_ROOT_DEVICE}}
    if requested:
        wanted_prefix, letters = _split(requested)
        if wanted_prefix == prefix and letters and prefix + letters not in taken:
            return "/dev/" + prefix + letters
    for letter in string.ascii_lowercase:
        if prefix + letter not in taken:
            return "/dev/" + prefix + letter
    raise common_exception.Invalid("No free disk device names for prefix '%s'" % prefix)


class VolumeAttachments:
    """The volume attachments of servers, as the API sees them."""

    def __init__(self, servers: servers_service.ServerService) -> None:
        self.servers = servers
        self.conf = servers.conf
        self.db = servers.db

    # -- the mappings ----------------------------------------------------------------
    def _mappings(self, session: Any, instance_uuid: str) -> list[models.BlockDeviceMapping]:
        bdm = models.BlockDeviceMapping
        query = (sa.select(bdm).where(bdm.instance_uuid == instance_uuid)
                 .order_by(bdm.id))
        return list(session.scalars(query))

    def volumes(self, instance_uuid: str) -> list[dict[str, Any]]:
        """The server's volume mappings, oldest first."""
        with self.db.reader() as session:
            return [_row(b) for b in self._mappings(session, instance_uuid)
                    if b.destination_type == "volume" and b.volume_id]

    def _mapping(self, instance_uuid: str, volume_id: str) -> dict[str, Any]:
        """:raises: NotFound (404, Nova's words) when the volume is not attached."""
        for bdm in self.volumes(instance_uuid):
            if bdm["volume_id"] == volume_id:
                return bdm
        raise common_exception.NotFound(
            "Instance %s is not attached to volume %s" % (instance_uuid, volume_id))

    def _reserve_device(self, instance: Mapping[str, Any], volume_id: str,
                        requested: str | None) -> dict[str, Any]:
        """Write the new mapping with its device name chosen (one transaction,
        so two attaches do not get the same name)."""
        uuid = str(instance["uuid"])
        with self.db.writer() as session:
            used = {str(b.device_name) for b in self._mappings(session, uuid)
                    if b.device_name}
            device = choose_device(instance.get("root_device_name"), used, requested)
            row = models.BlockDeviceMapping(
                uuid=str(uuid_mod.uuid4()), instance_uuid=uuid, source_type="volume",
                destination_type="volume", volume_id=volume_id, device_name=device,
                boot_index=None, delete_on_termination=False, device_type="disk")
            session.add(row)
            session.flush()
            return _row(row)

    def _set_attachment(self, bdm_uuid: str, attachment_id: str) -> None:
        bdm = models.BlockDeviceMapping
        with self.db.writer() as session:
            session.execute(sa.update(bdm).where(bdm.uuid == bdm_uuid)
                            .values(attachment_id=attachment_id))

    def _delete_mapping(self, bdm_uuid: str) -> None:
        bdm = models.BlockDeviceMapping
        with self.db.writer() as session:
            session.execute(sa.delete(bdm).where(bdm.uuid == bdm_uuid))

    # -- reads -------------------------------------------------------------------------
    def list(self, instance: Mapping[str, Any], limit: int | None = None,
             offset: int = 0) -> list[dict[str, Any]]:
        found = self.volumes(str(instance["uuid"]))[offset:]
        return [view(b) for b in (found[:limit] if limit is not None else found)]

    def show(self, instance: Mapping[str, Any], volume_id: str) -> dict[str, Any]:
        """:raises: NotFound (404) for a volume the server does not have."""
        return view(self._mapping(str(instance["uuid"]), volume_id))

    # -- changes -----------------------------------------------------------------------
    def _check(self, ctxt: Any, instance: Mapping[str, Any], action: str,
               version: tuple[int, int]) -> str:
        """Lock, state and host; returns the host.

        :raises: InstanceIsLocked, InstanceInvalidState, InstanceNotReady (409).
        """
        self.servers.check_locked(ctxt, instance)
        allowed = ALLOWED_STATES + ((states.SHELVED,) if version >= SHELVED_VERSION else ())
        self.servers.check_state(instance, action, allowed)
        return servers_service.host_of(instance)

    def _check_volume(self, ctxt: Any, instance: Mapping[str, Any],
                      volume_id: str) -> None:
        """:raises: VolumeNotFound (404), InvalidVolume / Invalid (400)."""
        uuid = str(instance["uuid"])
        volume = volume_client.get_volume(self.conf, ctxt, volume_id)
        if volume.get("multiattach"):
            raise common_exception.Invalid(
                "Multiattach volumes are only supported starting with compute API "
                "version 2.60.")
        if any(b["volume_id"] == volume_id for b in self.volumes(uuid)):
            raise exception.InvalidVolume(reason="volume %s already attached" % volume_id)
        volume_client.check_attachable(volume, uuid)

    def attach(self, ctxt: Any, instance: Mapping[str, Any], body: Mapping[str, Any],
               version: tuple[int, int]) -> dict[str, Any]:
        """Attach the volume ``body["volumeId"]``; its ``volumeAttachment``.

        :raises: InstanceIsLocked, InstanceInvalidState, InstanceNotReady (409),
            VolumeNotFound (404), InvalidVolume (400), VolumeServiceUnavailable,
            ComputeServiceUnavailable (503).
        """
        volume_id = str(body["volumeId"])
        host = self._check(ctxt, instance, ATTACH, version)
        self._check_volume(ctxt, instance, volume_id)
        uuid = str(instance["uuid"])
        bdm = self._reserve_device(instance, volume_id, body.get("device"))
        try:
            attachment = volume_client.attachment_create(self.conf, ctxt, volume_id, uuid)
        except Exception:
            self._delete_mapping(bdm["uuid"])
            raise
        attachment_id = str(attachment["id"])
        try:
            self._set_attachment(bdm["uuid"], attachment_id)
            self.servers.record_action(ctxt, uuid, ATTACH)
            self.servers.cast_to_node(host, lambda: self.servers.node().attach_volume(
                ctxt, host, uuid, bdm["uuid"]))
        except Exception:
            self._undo(ctxt, bdm["uuid"], attachment_id)
            raise
        LOG.info("Attaching volume %(volume)s to %(uuid)s at %(device)s on %(host)s",
                 {"volume": volume_id, "uuid": uuid, "device": bdm["device_name"],
                  "host": host})
        return view(bdm)

    def _undo(self, ctxt: Any, bdm_uuid: str, attachment_id: str) -> None:
        """Undo an attach that never reached the node (best effort for the attachment)."""
        self._delete_mapping(bdm_uuid)
        try:
            volume_client.attachment_delete(self.conf, ctxt, attachment_id)
        except Exception:  # the attach's own error is the one to report
            LOG.exception("Could not delete volume attachment %s", attachment_id)

    def detach(self, ctxt: Any, instance: Mapping[str, Any], volume_id: str,
               version: tuple[int, int]) -> None:
        """Detach ``volume_id`` (cast to the node).

        :raises: VolumeNotFound / NotFound (404), Invalid / InvalidVolume (400),
            InstanceIsLocked, InstanceInvalidState, InstanceNotReady (409),
            ComputeServiceUnavailable (503).
        """
        uuid = str(instance["uuid"])
        volume = volume_client.get_volume(self.conf, ctxt, volume_id)
        bdm = self._mapping(uuid, volume_id)
        if bdm["boot_index"] == 0:
            raise common_exception.Invalid("Cannot detach a root device volume")
        host = self._check(ctxt, instance, DETACH, version)
        if volume.get("status") == "available":
            raise exception.InvalidVolume(reason="volume %s already detached" % volume_id)
        if volume.get("status") != "in-use":
            raise exception.InvalidVolume(
                reason="Unable to detach volume. Volume status must be 'in-use' and "
                "attach_status must be 'attached' to detach.")
        self.servers.record_action(ctxt, uuid, DETACH)
        attachment_id = bdm["attachment_id"]
        self.servers.cast_to_node(host, lambda: self.servers.node().detach_volume(
            ctxt, host, uuid, volume_id, attachment_id))
        LOG.info("Detaching volume %(volume)s from %(uuid)s on %(host)s",
                 {"volume": volume_id, "uuid": uuid, "host": host})

    def swap(self, ctxt: Any, instance: Mapping[str, Any], old_volume_id: str,
             new_volume_id: str) -> None:
        """Swap volume (PUT before 2.85) is not offered.

        :raises: NotFound (404: the old volume is not attached), VolumeNotFound
            (404: no new volume), Conflict (409) otherwise.
        """
        self._mapping(str(instance["uuid"]), old_volume_id)
        volume_client.get_volume(self.conf, ctxt, new_volume_id)
        raise common_exception.Conflict(
            "Swapping the volumes of a server is not supported by this cloud.")
