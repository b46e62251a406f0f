"""Block device mappings of a server create request (``block_device_mapping_v2``
and the legacy ``block_device_mapping``): checked, normalized and written.

Accepted, as on Nova: boot from an image (the implicit root disk), boot from
an existing volume and existing volumes as extra disks (the API reserves each
volume for the server with an attachment; the node connects it), and volumes
the node creates during the build (destination ``volume`` with source
``image``, ``blank`` or ``snapshot``: the mapping is written without a
volume, the node asks block storage for it, records its id and attaches it
like an existing one). ``volume_size`` is required for image and blank
volumes; block storage enforces its own quota when the node asks (its refusal
becomes the instance's fault).

A volume-backed server (root mapping with destination ``volume``) has no
``image_ref``; the image metadata the node boots with (kernel, ramdisk,
command line ...) comes from the root's image, or from the root volume's
``volume_image_metadata`` (:meth:`BlockDeviceWriter.check`).
"""
from __future__ import annotations

import dataclasses
import uuid as uuid_mod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg
from oslo_log import log as logging

from common import exception as common_exception
from common.db import engine
from compute import exception
from compute.clients import volume as volume_client
from compute.db import models

LOG = logging.getLogger(__name__)
_INSERT = sa.insert(models.BlockDeviceMapping)
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

    @property
    def existing_volumes(self) -> list[dict[str, Any]]:
        """The mappings of volumes that exist already (source ``volume``)."""
        return [m for m in self.volumes if m["source_type"] == "volume"]


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
    if source == "blank" and uuid:
        raise exception.InvalidBDM(details="Invalid device UUID.")
    if source != "blank" and not uuid:
        raise exception.InvalidBDM(details="Missing device UUID.")
    if source in ("volume", "snapshot") and dest == "local":
        raise exception.InvalidBDM(details="a %s can only be mapped as a volume" % source)
    size = _int(item.get("volume_size"), "volume_size")
    if dest == "volume" and not size:
        if source == "image":
            raise exception.InvalidBDM("Images with destination_type 'volume' need to "
                                       "have a non-zero size specified")
        if source == "blank":
            raise exception.InvalidBDM("Blank volumes (source: 'blank', dest: 'volume') "
                                       "need to have non-zero size")
    return {"source_type": source, "destination_type": dest,
            "image_id": uuid if source == "image" else None,
            "volume_id": uuid if source == "volume" else None,
            "snapshot_id": uuid if source == "snapshot" else None,
            "boot_index": _int(item.get("boot_index"), "boot_index"),
            "volume_size": size,
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


def volume_image_meta(volume: Mapping[str, Any]) -> dict[str, Any]:
    """A volume's ``volume_image_metadata`` as an image record (``id``, ``name``,
    sizes and the image's properties), ``{}`` for a volume not made from an image."""
    meta = dict(volume.get("volume_image_metadata") or {})
    if not meta:
        return {}
    image: dict[str, Any] = {k: v for k, v in meta.items()
                             if k not in ("image_id", "image_name")}
    image.update(id=meta.get("image_id"), name=meta.get("image_name"), status="active")
    for key in ("min_ram", "min_disk", "size"):
        try:
            image[key] = int(image.get(key) or 0)
        except (TypeError, ValueError):
            image[key] = 0
    return image


def image_root(image_id: str) -> dict[str, Any]:
    """The implicit root disk of a server booted from an image (as Nova records it)."""
    return {"source_type": "image", "destination_type": "local", "image_id": image_id,
            "volume_id": None, "snapshot_id": None, "boot_index": 0, "volume_size": None,
            "device_name": None, "delete_on_termination": True, "disk_bus": None,
            "device_type": "disk", "volume_type": None, "tag": None}


def tagged_block_devices(db: engine.Database, instance_uuid: str) -> list[dict[str, Any]]:
    """The instance's tagged mappings (``tag``, ``volume_id``, ``device_name``,
    ``disk_bus``, ``boot_index``), boot order first: what the metadata service
    lists as the instance's ``devices``."""
    bdm = models.BlockDeviceMapping
    query = (sa.select(bdm.tag, bdm.volume_id, bdm.device_name, bdm.disk_bus, bdm.boot_index)
             .where(bdm.instance_uuid == instance_uuid, bdm.tag.is_not(None))
             .order_by(sa.func.coalesce(bdm.boot_index, 1 << 30), bdm.id))
    with db.reader() as session:
        return [dict(row._mapping) for row in session.execute(query)]


class BlockDeviceWriter:
    """Checks the volumes of a request and writes an instance's mappings."""

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database) -> None:
        self.conf = conf
        self.db = db

    def check(self, ctxt: Any, devices: BlockDevices,
              get_image: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
        """Nova's checks of what the volume mappings name: each existing volume
        exists and can be attached, each image (``get_image``: found and active)
        and snapshot exists.

        :returns: the image metadata a volume-backed server boots with: the root
            mapping's image, or its volume's ``volume_image_metadata`` (``{}``
            when there is none, or when the root is not a volume).
        :raises: InvalidBDM (400), ImageNotActive (400), VolumeServiceUnavailable (503).
        """
        found: dict[str, Any] = {}
        for mapping in devices.volumes:
            source = mapping["source_type"]
            if source == "volume":
                meta = volume_image_meta(self._attachable(ctxt, str(mapping["volume_id"])))
            elif source == "image":
                meta = self._image(str(mapping["image_id"]), get_image)
            elif source == "snapshot":
                self._snapshot(ctxt, str(mapping["snapshot_id"]))
                meta = {}
            else:
                meta = {}
            if mapping is devices.root:
                found = meta
        return found

    def _attachable(self, ctxt: Any, volume_id: str) -> dict[str, Any]:
        try:
            volume = volume_client.get_volume(self.conf, ctxt, volume_id)
        except (exception.VolumeNotFound, exception.VolumeForbidden) as err:
            raise exception.InvalidBDM(details="failed to get volume %s." % volume_id) \
                from err
        try:
            volume_client.check_attachable(volume)
        except exception.InvalidVolume as err:
            raise exception.InvalidBDM(details=err.message) from err
        return volume

    @staticmethod
    def _image(image_id: str, get_image: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
        try:
            return get_image(image_id)
        except exception.ImageNotActive:
            raise
        except (common_exception.NotFound, common_exception.Invalid,
                common_exception.Forbidden) as err:
            raise exception.InvalidBDM(details="failed to get image %s." % image_id) \
                from err

    def _snapshot(self, ctxt: Any, snapshot_id: str) -> None:
        try:
            volume_client.get_snapshot(self.conf, ctxt, snapshot_id)
        except (exception.SnapshotNotFound, exception.VolumeForbidden) as err:
            raise exception.InvalidBDM(details="failed to get snapshot %s." % snapshot_id) \
                from err

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
            rows.append(dict(values, uuid=str(uuid_mod.uuid4()), instance_uuid=instance_uuid))
        if rows:
            with self.db.writer() as session:
                conn = session.connection()
                for row in rows:  # one by one: the mappings may set different columns
                    conn.execute(_INSERT, row)
        return attachments

    def release_instance(self, ctxt: Any, instance_uuid: str) -> None:
        """A server deleted without its node (never scheduled, or its host is
        down): delete its volume attachments, then the volumes it asked to delete
        with it (``delete_on_termination``), best effort, as Nova's local delete."""
        bdm = models.BlockDeviceMapping
        with self.db.reader() as session:
            rows = [(r.attachment_id, r.volume_id, r.delete_on_termination)
                    for r in session.scalars(sa.select(bdm).where(
                        bdm.instance_uuid == instance_uuid, bdm.destination_type == "volume"))]
        self.release(ctxt, [a for a, _v, _d in rows if a])
        for _attachment, volume_id, delete in rows:
            if not (volume_id and delete):
                continue
            try:
                volume_client.delete_volume(self.conf, ctxt, str(volume_id))
            except exception.VolumeNotFound:
                continue
            except Exception:  # the server is gone already; the volume can be deleted later
                LOG.exception("Could not delete volume %s of deleted instance %s",
                              volume_id, instance_uuid)

    def release(self, ctxt: Any, attachments: Sequence[str]) -> None:
        """Delete attachments of a create that was undone (best effort)."""
        for attachment_id in attachments:
            try:
                volume_client.attachment_delete(self.conf, ctxt, attachment_id)
            except Exception:  # the create's own error is the one to report
                LOG.exception("Could not delete volume attachment %s", attachment_id)
