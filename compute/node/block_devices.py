"""The volumes of a build: made, reserved and connected before the guest spawns.

What the API wrote (compute/server_bdm.py) decides what the node does for each
volume mapping still without a connection, root first:

* no volume yet (source ``image``, ``blank`` or ``snapshot``, destination
  ``volume``): ask block storage for it as the instance's user (blank volumes
  are named ``<instance uuid>-blank-vol``, the others have no name, as on
  Nova), record its id in the mapping at once (a delete finds it from then
  on), then look at it every ``[DEFAULT] block_device_allocate_retries_interval``
  seconds until it is ``available``: a volume that ends in another status
  (``error``) or is still being made after ``block_device_allocate_retries``
  looks fails the build with a fault naming the volume
  (``VolumeNotCreated``); a refusal of block storage (its quota: 413, a bad
  size or source: 400) fails it with block storage's message;
* no attachment yet (a volume made here, or one a rescheduled build let go):
  reserve it for the instance (attachments API, no connector);
* then, as for a volume the API reserved: give this host's connector and keep
  the connection_info. The build completes the attachments once the guest runs.

Mappings without a device name get one first (the root ``/dev/vda``, the
instance's root device name when set; the others the next free ``/dev/vdX``),
so that the driver finds every volume in the block device info.

A failed build gives back what it did: before a reschedule every volume it
connected is disconnected (its attachment deleted, the mapping keeps the
volume) so that the next host attaches it again; when the build aborts
(ERROR), the volumes it made with ``delete_on_termination`` are deleted (as
Nova's cleanup of a failed build) and the others are left to the server's
delete, which detaches them (and deletes those marked so, see
:func:`delete_on_termination`).
"""
from __future__ import annotations

import string
import time
from collections.abc import Callable
from typing import Any

from oslo_log import log as logging

from compute import exception
from compute.node import base
from compute.node import guest as guest_mod

LOG = logging.getLogger(__name__)

#: Sources of volumes the node creates.
CREATED_SOURCES = ("image", "blank", "snapshot")
#: Statuses of a volume still being made (Nova waits through these).
_MAKING = ("creating", "downloading")
# What a refusal of block storage (or its absence) is when it makes a volume.
_REFUSED = (exception.InvalidVolume, exception.VolumeForbidden,
            exception.VolumeLimitExceeded, exception.VolumeNotFound,
            exception.VolumeServiceUnavailable, exception.SnapshotNotFound)


def pending(bdms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The volume mappings a build still has to connect (root first, as the
    conductor orders them)."""
    return [b for b in bdms if b.get("destination_type") == "volume"
            and not b.get("connection_info")]


def _device_names(root_device: str, bdms: list[dict[str, Any]]) -> dict[str, str]:
    """mapping uuid -> the device name of each volume mapping without one."""
    prefix = root_device.rsplit("/", 1)[-1][:-1] or "vd"
    used = {str(b.get("device_name") or "").rsplit("/", 1)[-1] for b in bdms}
    used.add(root_device.rsplit("/", 1)[-1])
    names: dict[str, str] = {}
    for bdm in bdms:
        if bdm.get("device_name") or bdm.get("destination_type") != "volume":
            continue
        if bdm.get("boot_index") == 0:
            names[str(bdm["uuid"])] = root_device
            continue
        free = next((prefix + c for c in string.ascii_lowercase[1:] if prefix + c not in used),
                    None)
        if free is None:
            raise exception.InvalidBDM(details="no free device name for a volume")
        used.add(free)
        names[str(bdm["uuid"])] = "/dev/" + free
    return names


class VolumeSetup:
    """The volumes of one build, and what it did to them (to undo on failure)."""

    def __init__(self, node: base.Node, ctxt: Any, instance: dict[str, Any],
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.node = node
        self.ctxt = ctxt
        self.uuid = str(instance["uuid"])
        self.root_device = str(instance.get("root_device_name") or base.DEFAULT_ROOT_DEVICE)
        self.sleep = sleep
        self.created: list[dict[str, Any]] = []
        self.connected: list[dict[str, Any]] = []

    def _update(self, bdm: dict[str, Any], values: dict[str, Any]) -> None:
        bdm.update(self.node.conductor.bdm_update(self.ctxt, str(bdm["uuid"]), values))

    def prepare(self, bdms: list[dict[str, Any]]) -> None:
        """Make, reserve and connect every pending volume mapping of ``bdms``
        (updated in place).

        :raises: BuildAbortException (a volume block storage did not make),
            InvalidVolume & co. from connecting.
        """
        names = _device_names(self.root_device, bdms)
        for bdm in bdms:
            if str(bdm["uuid"]) in names:
                self._update(bdm, {"device_name": names[str(bdm["uuid"])]})
        for bdm in pending(bdms):
            if not bdm.get("volume_id"):
                self._create(bdm)
            if not bdm.get("attachment_id"):
                attachment = self.node.neighbours.volume_reserve(
                    self.ctxt, str(bdm["volume_id"]), self.uuid)
                self._update(bdm, {"attachment_id": attachment})
            info = self.node.neighbours.volume_connect(
                self.ctxt, str(bdm["attachment_id"]), guest_mod.connector(self.node),
                bdm.get("device_name"))
            self._update(bdm, {"connection_info": info})
            self.connected.append(bdm)

    def _create(self, bdm: dict[str, Any]) -> None:
        source = bdm.get("source_type")
        if source not in CREATED_SOURCES:
            raise exception.BuildAbortException(
                instance_uuid=self.uuid,
                reason="block device mapping %s has no volume" % bdm.get("uuid"))
        try:
            volume = self.node.neighbours.volume_create(
                self.ctxt, bdm.get("volume_size"),
                self.uuid + "-blank-vol" if source == "blank" else "",
                image_id=bdm.get("image_id") if source == "image" else None,
                snapshot_id=bdm.get("snapshot_id") if source == "snapshot" else None,
                volume_type=bdm.get("volume_type"))
        except _REFUSED as err:
            raise exception.BuildAbortException(
                instance_uuid=self.uuid,
                reason="Failed to create block device for instance: %s"
                % base.error_message(err)) from err
        volume_id = str(volume["id"])
        self._update(bdm, {"volume_id": volume_id})
        self.created.append(bdm)
        LOG.info("Instance %(uuid)s: volume %(volume)s requested (%(source)s, %(size)s GiB)",
                 {"uuid": self.uuid, "volume": volume_id, "source": source,
                  "size": bdm.get("volume_size")})
        self._wait(volume_id)

    def _wait(self, volume_id: str) -> None:
        """Until the volume is ``available``.

        :raises: BuildAbortException with VolumeNotCreated's message.
        """
        conf = self.node.conf
        attempts = max(int(conf.block_device_allocate_retries), 0) + 1
        interval = float(conf.block_device_allocate_retries_interval)
        start = time.monotonic()
        status = "unknown"
        attempt = 0
        for attempt in range(1, attempts + 1):
            try:
                status = str(self.node.neighbours.volume_get(self.ctxt, volume_id)
                             .get("status"))
            except _REFUSED as err:
                raise exception.BuildAbortException(
                    instance_uuid=self.uuid, reason=base.error_message(err)) from err
            if status == "available":
                return
            if status not in _MAKING:
                LOG.warning("Volume %(volume)s of instance %(uuid)s ended %(status)s",
                            {"volume": volume_id, "uuid": self.uuid, "status": status})
                break
            if attempt < attempts:
                self.sleep(interval)
        failed = exception.VolumeNotCreated(volume_id=volume_id, attempts=attempt,
                                            seconds=int(time.monotonic() - start),
                                            volume_status=status)
        raise exception.BuildAbortException(instance_uuid=self.uuid, reason=failed.message)

    def cleanup(self, rescheduled: bool) -> None:
        """A failed build: before a reschedule, disconnect every volume it
        connected; when it aborts, delete the volumes it made that the user asked
        to delete with the server. Best effort: the build's error is the one
        reported."""
        for bdm in reversed(self.connected):
            if rescheduled or self._deletable(bdm):
                self._disconnect(bdm)
        if rescheduled:
            return
        for bdm in reversed(self.created):
            if not self._deletable(bdm):
                continue
            if bdm.get("attachment_id"):
                self._disconnect(bdm)
            try:
                self.node.neighbours.volume_delete(self.ctxt, str(bdm["volume_id"]))
                self._update(bdm, {"volume_id": None})
            except Exception:
                LOG.exception("Could not delete volume %s of failed build %s",
                              bdm.get("volume_id"), self.uuid)

    def _deletable(self, bdm: dict[str, Any]) -> bool:
        return bool(bdm.get("delete_on_termination")) and any(
            bdm is made for made in self.created)

    def _disconnect(self, bdm: dict[str, Any]) -> None:
        try:
            self.node.neighbours.volume_disconnect(self.ctxt, str(bdm["attachment_id"]))
            self._update(bdm, {"attachment_id": None, "connection_info": None})
        except Exception:
            LOG.exception("Could not disconnect volume %s of failed build %s",
                          bdm.get("volume_id"), self.uuid)


def delete_on_termination(node: base.Node, ctxt: Any, bdms: list[dict[str, Any]]) -> None:
    """At delete, once the attachments are gone: delete the volumes the user
    asked to delete with the server. A volume that cannot be deleted is logged
    and left (the server's delete goes on, as on Nova)."""
    for bdm in bdms:
        if not (bdm.get("destination_type") == "volume" and bdm.get("volume_id")
                and bdm.get("delete_on_termination")):
            continue
        try:
            node.neighbours.volume_delete(ctxt, str(bdm["volume_id"]))
        except Exception as err:  # the delete goes on; the volume can be deleted later
            LOG.warning("Volume %(volume)s of deleted instance %(uuid)s was not deleted: "
                        "%(err)s", {"volume": bdm["volume_id"],
                                    "uuid": bdm.get("instance_uuid"), "err": err})
