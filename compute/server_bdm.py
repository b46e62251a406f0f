"""Block device mappings of a server create request (``block_device_mapping_v2``
and the legacy ``block_device_mapping``): checked, normalized and written.

What a node can do today decides what is accepted: boot from an image (the
implicit root disk), boot from an existing volume and existing volumes as extra
disks (the API reserves each volume for the server with an attachment; the
node connects it). Volumes the node would have to create first (source
``image``, ``snapshot`` or ``blank`` with destination ``volume``) are refused
with a 400 that says so.
"""
from __future__ import annotations

import dataclasses
import uuid as uuid_mod
from collections.abc import Mapping, Sequence
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from common.db import engine
from compute import exception
from compute.clients import volume as volume_client
from compute.db import models

LOG = logging.getLogger(__name__)
SOURCES = ("image", "volume", "snapshot", "blank")
DESTINATIONS = ("local", "volume")
_TRUE = ("1", "t", "true", "on", "y", "yes")


def _int(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise exception.InvalidBDM(details="%s must be an integer" % field)


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


def from_legacy(item: Mapping[str, Any]) -> dict[str, Any]:
    """A ``block_device_mapping`` (v1) entry in the v2 form."""
    if item.get("snapshot_id"):
        source, uuid = "snapshot", item["snapshot_id"]
    elif item.get("volume_id"):
        source, uuid = "volume", item["volume_id"]
    else:
        raise exception.InvalidBDM(details="a legacy mapping needs volume_id or snapshot_id")
    device = str(item.get("device_name") or "")
    root = device.rsplit("/", 1)[-1] in ("vda", "sda", "xvda", "hda")
    return {"source_type": source, "destination_type": "volume", "uuid": uuid,
            "device_name": device or None, "volume_size": item.get("volume_size"),
            "delete_on_termination": item.get("delete_on_termination", False),
            "boot_index": 0 if root else None}


@dataclasses.dataclass
class BlockDevices:
    """A request's mappings: the root one (boot index 0) and all of them."""

    mappings: list[dict[str, Any]]

    @property
    def root(self) -> dict[str, Any] | None:
        return next((m for m in self.mappings if m["boot_index"] == 0), None)

    @property
    def boot_from_volume(self) -> bool:
        root = self.root
        return root is not None and root["destination_type"] == "volume"

    @property
    def volumes(self) -> list[dict[str, Any]]:
        return [m for m in self.mappings if m["destination_type"] == "volume"]


def _normalize(item: Mapping[str, Any]) -> dict[str, Any]:
    source = item.get("source_type")
    if source not in SOURCES:
        raise exception.InvalidBDM(details="source_type must be one of %s"
                                   % ", ".join(SOURCES))
    dest = item.get("destination_type") or ("local" if source in ("image", "blank")
                                            else "volume")
    if dest not in DESTINATIONS:
        raise exception.InvalidBDM(details="destination_type must be local or volume")
    uuid = item.get("uuid")
    if source != "blank" and not uuid:
        raise exception.InvalidBDM(details="Missing device UUID.")
    if source in ("volume", "snapshot") and dest == "local":
        raise exception.InvalidBDM(details="a %s can only be mapped as a volume" % source)
    if dest == "volume" and source != "volume":
        raise exception.InvalidBDM(
            details="creating volumes (source_type %s, destination_type volume) is not "
            "supported by this cloud yet: create the volume first and map it with "
            "source_type volume" % source)
    return {"source_type": source, "destination_type": dest,
            "image_id": uuid if source == "image" else None,
            "volume_id": uuid if source == "volume" else None,
            "snapshot_id": uuid if source == "snapshot" else None,
            "boot_index": _int(item.get("boot_index"), "boot_index"),
            "volume_size": _int(item.get("volume_size"), "volume_size"),
            "device_name": item.get("device_name") or None,
            "delete_on_termination": _bool(item.get("delete_on_termination", False)),
            "disk_bus": item.get("disk_bus"), "device_type": item.get("device_type"),
            "volume_type": item.get("volume_type"), "tag": item.get("tag")}


def parse(items: Sequence[Mapping[str, Any]]) -> BlockDevices:
    """Check and normalize the request's mappings.

    :raises: InvalidBDM (400) for a bad entry or boot sequence.
    """
    mappings = [_normalize(item) for item in items]
    order = sorted(m["boot_index"] for m in mappings
                   if m["boot_index"] is not None and m["boot_index"] >= 0)
    if order != list(range(len(order))):
        raise exception.InvalidBDM(details="Boot sequence for the instance and image/block "
                                   "device mapping combination is not valid.")
    volumes = [m["volume_id"] for m in mappings if m["volume_id"]]
    if len(volumes) != len(set(volumes)):
        raise exception.InvalidBDM(details="a volume is mapped twice")
    return BlockDevices(mappings)


def image_root(image_id: str) -> dict[str, Any]:
    """The implicit root disk of a server booted from an image (as Nova records it)."""
    return {"source_type": "image", "destination_type": "local", "image_id": image_id,
            "volume_id": None, "snapshot_id": None, "boot_index": 0, "volume_size": None,
            "device_name": None, "delete_on_termination": True, "disk_bus": None,
            "device_type": "disk", "volume_type": None, "tag": None}


class BlockDeviceWriter:
    """Checks the volumes of a request and writes an instance's mappings."""

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database) -> None:
        self.conf = conf
        self.db = db

    def check_volumes(self, ctxt: Any, devices: BlockDevices) -> None:
        """Each mapped volume exists and can be attached.

        :raises: InvalidBDM (400), VolumeServiceUnavailable (503).
        """
        for mapping in devices.volumes:
            volume_id = str(mapping["volume_id"])
            try:
                volume = volume_client.get_volume(self.conf, ctxt, volume_id)
            except (exception.VolumeNotFound, exception.VolumeForbidden) as err:
                raise exception.InvalidBDM(details="failed to get volume %s." % volume_id) \
                    from err
            try:
                volume_client.check_attachable(volume)
            except exception.InvalidVolume as err:
                raise exception.InvalidBDM(details=err.message) from err

    def write(self, ctxt: Any, instance_uuid: str,
              mappings: Sequence[Mapping[str, Any]]) -> list[str]:
        """Insert the mappings of one instance, reserving its volumes.

        :returns: the attachment ids made (to delete when the create is undone).
        """
        attachments: list[str] = []
        rows = []
        for mapping in mappings:
            values = dict(mapping)
            if values["volume_id"]:
                attachment = volume_client.attachment_create(self.conf, ctxt,
                                                             str(values["volume_id"]),
                                                             instance_uuid)
                values["attachment_id"] = str(attachment["id"])
                attachments.append(values["attachment_id"])
            rows.append(models.BlockDeviceMapping(uuid=str(uuid_mod.uuid4()),
                                                  instance_uuid=instance_uuid, **values))
        with self.db.writer() as session:
            session.add_all(rows)
        return attachments

    def release(self, ctxt: Any, attachments: Sequence[str]) -> None:
        """Delete attachments of a create that was undone (best effort)."""
        for attachment_id in attachments:
            try:
                volume_client.attachment_delete(self.conf, ctxt, attachment_id)
            except Exception:  # the create's own error is the one to report
                LOG.exception("Could not delete volume attachment %s", attachment_id)
