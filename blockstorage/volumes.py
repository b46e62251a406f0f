"""The rules of volume create, update and delete (the API's service layer).

Controllers parse and authorise; this module checks what a request refers to
(type, snapshot, source volume, image, backup, zone), the quotas and the
statuses, writes the rows and casts to the scheduler or the volume's backend.
The volume actions (``POST /volumes/{id}/action``) are in ``volume_actions``.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from common.db import engine
from blockstorage import exception
from blockstorage import quotas
from blockstorage import rpcapi
from blockstorage import states
from blockstorage.clients import image as image_client
from blockstorage.db import attachments as attachments_db
from blockstorage.db import backups as backups_db
from blockstorage.db import services as services_db
from blockstorage.db import snapshots as snapshots_db
from blockstorage.db import types as types_db
from blockstorage.db import volumes as volumes_db

LOG = logging.getLogger(__name__)
# Image keys a volume created from an image keeps (``volume_image_metadata``).
_IMAGE_KEYS = ("checksum", "container_format", "disk_format", "min_disk", "min_ram",
               "size", "name")
_IMAGE_NOT_PROPERTIES = frozenset((
    "id", "name", "status", "visibility", "protected", "owner", "created_at", "updated_at",
    "file", "schema", "self", "locations", "direct_url", "tags", "os_hash_algo",
    "os_hash_value", "os_hidden", "stores", "virtual_size"))
GIB = 1024 ** 3


@dataclasses.dataclass
class CreateRequest:
    """A volume create, as the API body says it."""

    size: int | None
    name: str | None = None
    description: str | None = None
    volume_type: str | None = None
    availability_zone: str | None = None
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    snapshot_id: str | None = None
    source_volid: str | None = None
    image_id: str | None = None
    backup_id: str | None = None
    multiattach: bool = False
    scheduler_hints: dict[str, Any] = dataclasses.field(default_factory=dict)


def is_admin(ctxt: Any) -> bool:
    return bool(getattr(ctxt, "is_admin", False)) or "admin" in (ctxt.roles or [])


def multiattach_type(volume_type: dict[str, Any] | None) -> bool:
    """Whether a type's extra specs make its volumes multiattach (``<is> True``)."""
    spec = str((volume_type or {}).get("extra_specs", {}).get("multiattach", ""))
    return spec.strip().lower() in ("<is> true", "true")


class VolumeService:
    """Volume rules for one API process (stores, quotas and RPC clients)."""

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database) -> None:
        self.conf = conf
        self.db = db
        self.store = volumes_db.VolumeStore(db)
        self.attachments = attachments_db.AttachmentStore(db)
        self.backups = backups_db.BackupStore(db)
        self.types = types_db.TypeStore(db)
        self.services = services_db.ServiceStore(db)
        self.snapshots = snapshots_db.SnapshotStore(db)
        self.quotas = quotas.QuotaEngine(conf, db)
        self.image_api: Any = image_client.ImageAPI(conf)

    # RPC clients are built per use: rpc.init() runs after the app is loaded.
    @staticmethod
    def scheduler_rpc() -> rpcapi.SchedulerAPI:
        return rpcapi.SchedulerAPI()

    @staticmethod
    def volume_rpc() -> rpcapi.VolumeAPI:
        return rpcapi.VolumeAPI()

    # -- reads
    def get(self, ctxt: Any, volume_id: str) -> dict[str, Any]:
        """A volume the caller may see (another project's is "not found").

        :raises: VolumeNotFound.
        """
        volume = self.store.get(volume_id)
        if volume["project_id"] != ctxt.project_id and not is_admin(ctxt):
            raise exception.VolumeNotFound(volume_id=volume_id)
        return volume

    # -- create
    def _volume_type(self, ctxt: Any, name_or_id: str | None) -> dict[str, Any]:
        """The named type (or the default), if the caller's project may use it.

        :raises: VolumeTypeNotFound.
        """
        project = None if is_admin(ctxt) else ctxt.project_id
        if name_or_id is None:
            return self.types.get_by_name(self.conf.default_volume_type, project)
        return self.types.get_by_name_or_id(name_or_id, project)

    def _zone(self, requested: str | None, inherited: str | None) -> str:
        """The zone of a new volume: asked for, else the source's, else the default.

        :raises: InvalidAvailabilityZone for a zone without volume service.
        """
        default = (self.conf.default_availability_zone
                   or self.conf.storage_availability_zone)
        zone = requested or inherited or default
        if requested is None:
            return zone
        zones = {s["availability_zone"] for s in
                 self.services.get_all(binary=rpcapi.VOLUME_BINARY, disabled=False)}
        if zone not in zones:
            if self.conf.allow_availability_zone_fallback:
                return default
            raise exception.InvalidAvailabilityZone(az=zone)
        return zone

    def _source_snapshot(self, ctxt: Any, snapshot_id: str) -> dict[str, Any]:
        snap = self.snapshots.get(snapshot_id)
        if snap["project_id"] != ctxt.project_id and not is_admin(ctxt):
            raise exception.SnapshotNotFound(snapshot_id=snapshot_id)
        if snap["status"] != states.AVAILABLE:
            raise exception.InvalidSnapshot(
                reason="Originating snapshot status must be one of 'available' values")
        return snap

    def _source_volume(self, ctxt: Any, volume_id: str) -> dict[str, Any]:
        source = self.get(ctxt, volume_id)
        if source["status"] not in (states.AVAILABLE, states.IN_USE):
            raise exception.InvalidVolume(
                reason="Unable to create a volume from an originating source volume "
                       "when its status is not 'available' or 'in-use'.")
        return source

    def _source_backup(self, ctxt: Any, backup_id: str) -> dict[str, Any]:
        backup = self.backups.get(backup_id)
        if backup["project_id"] != ctxt.project_id and not is_admin(ctxt):
            raise exception.BackupNotFound(backup_id=backup_id)
        if backup["status"] != states.AVAILABLE:
            raise exception.InvalidBackup(reason="Backup status must be available")
        return backup

    def _image(self, ctxt: Any, image_id: str) -> dict[str, Any]:
        image = self.image_api.get_image(ctxt, image_id)
        if image.get("status") != "active":
            raise exception.InvalidInput(reason="Image %s is not active." % image_id)
        return dict(image)

    @staticmethod
    def _check_size(size: int, minimum: int, what: str) -> None:
        if size < minimum:
            raise exception.InvalidInput(
                reason="Volume size '%d'GB cannot be smaller than the %s size %dGB. "
                       "They must be >= original %s size." % (size, what, minimum, what))

    def _sources(self, ctxt: Any, req: CreateRequest) -> dict[str, Any]:
        """Check the request's source (at most one) and what it implies: the
        minimum size, an inherited zone and type, the image's metadata."""
        named = [k for k in ("snapshot_id", "source_volid", "image_id", "backup_id")
                 if getattr(req, k)]
        if len(named) > 1:
            raise exception.InvalidInput(
                reason="only one of snapshot, source volume, image and backup may be "
                       "given (got %s)" % ", ".join(named))
        found: dict[str, Any] = {"min_size": 1, "zone": None, "type_id": None,
                                 "glance": {}, "what": None, "bootable": False}
        if req.snapshot_id:
            snap = self._source_snapshot(ctxt, req.snapshot_id)
            parent = self.store.get(snap["volume_id"])
            found.update(min_size=snap["size"], zone=parent["availability_zone"],
                         type_id=snap["volume_type_id"] or parent["volume_type_id"],
                         glance=parent["glance_metadata"], what="snapshot",
                         bootable=parent["bootable"])
        elif req.source_volid:
            source = self._source_volume(ctxt, req.source_volid)
            found.update(min_size=source["size"], zone=source["availability_zone"],
                         type_id=source["volume_type_id"],
                         glance=source["glance_metadata"], what="source volume",
                         bootable=source["bootable"])
        elif req.backup_id:
            backup = self._source_backup(ctxt, req.backup_id)
            found.update(min_size=backup["size"], what="backup")
        elif req.image_id:
            image = self._image(ctxt, req.image_id)
            size_gb = -(-int(image.get("size") or 0) // GIB)
            found.update(min_size=max(size_gb, int(image.get("min_disk") or 0), 1),
                         glance=image_metadata(image), what="image", bootable=True)
        return found

    def create(self, ctxt: Any, req: CreateRequest) -> dict[str, Any]:
        """Check and record a new volume (``creating``), then cast it to the scheduler.

        :raises: InvalidInput, VolumeTypeNotFound, SnapshotNotFound, VolumeNotFound,
            BackupNotFound, ImageNotFound, InvalidAvailabilityZone, QuotaExceeded.
        """
        src = self._sources(ctxt, req)
        size = req.size if req.size is not None else src["min_size"]
        if req.size is None and src["what"] is None:
            raise exception.InvalidInput(reason="Volume size must be given.")
        if src["what"] is not None:
            self._check_size(size, src["min_size"], src["what"])
        type_ref = req.volume_type
        if type_ref is None and src["type_id"] is not None:
            type_ref = src["type_id"]
        vtype = self._volume_type(ctxt, type_ref)
        zone = self._zone(req.availability_zone, src["zone"])
        deltas = quotas.volume_deltas(size, vtype["name"])
        limits = self.quotas.limits_for(ctxt.project_id,
                                        ["per_volume_gigabytes", *deltas])
        self.quotas.check_volume_size(ctxt.project_id, size, limits)
        values = {"project_id": ctxt.project_id, "user_id": ctxt.user_id,
                  "name": req.name, "description": req.description, "size": size,
                  "status": states.CREATING, "attach_status": states.DETACHED,
                  "availability_zone": zone, "volume_type_id": vtype["id"],
                  "snapshot_id": req.snapshot_id, "source_volid": req.source_volid,
                  "image_id": req.image_id, "backup_id": req.backup_id,
                  "bootable": src["bootable"],
                  "multiattach": req.multiattach or multiattach_type(vtype)}
        with self.quotas.reserve(ctxt.project_id, deltas, limits):
            volume = self.store.create(values, metadata=req.metadata,
                                       glance_metadata=src["glance"])
        spec = {"volume_properties": {k: values[k] for k in (
                    "size", "availability_zone", "project_id", "user_id", "multiattach")},
                "volume_type": vtype, "snapshot_id": req.snapshot_id,
                "source_volid": req.source_volid, "image_id": req.image_id,
                "backup_id": req.backup_id, "volume_id": volume["id"]}
        filters = {"scheduler_hints": req.scheduler_hints, "availability_zone": zone}
        self.scheduler_rpc().create_volume(ctxt, volume["id"], spec, filters)
        LOG.info("Volume %(id)s (%(size)d GiB) sent to the scheduler",
                 {"id": volume["id"], "size": size})
        return volume

    # -- update and delete
    def update(self, ctxt: Any, volume: dict[str, Any], values: dict[str, Any],
               metadata: dict[str, str] | None) -> dict[str, Any]:
        """Rename or describe a volume; ``metadata`` (when given) replaces its own."""
        if metadata is not None:
            self.store.set_metadata(volume["id"], metadata, replace=True)
        return self.store.update(volume["id"], values)

    def delete(self, ctxt: Any, volume: dict[str, Any], cascade: bool = False,
               force: bool = False) -> None:
        """Start deleting a volume: ``deleting`` and a cast to its backend, or, for a
        volume never placed on one, the row at once.

        :raises: InvalidVolume (status, attachments, snapshots),
            InvalidVolumeStatus (another request moved it).
        """
        if not force:
            self._check_deletable(volume, cascade)
        expected = None if force else sorted(states.VOLUME_DELETABLE)
        snapshots = self.store.snapshot_count(volume["id"])
        if not volume["host"] and not snapshots:
            self.store.update(volume["id"], {"status": states.DELETING},
                              expected_status=expected)
            self.store.delete(volume["id"])
            LOG.info("Volume %(id)s had no backend: row deleted", {"id": volume["id"]})
            return
        updated = self.store.update(volume["id"], {"status": states.DELETING},
                                    expected_status=expected)
        if cascade and snapshots:
            self.store.snapshots_deleting(volume["id"])
        self.volume_rpc().delete_volume(ctxt, updated["host"] or "", volume["id"],
                                        cascade=cascade)

    def _check_deletable(self, volume: dict[str, Any], cascade: bool) -> None:
        if (volume["status"] not in states.VOLUME_DELETABLE
                or volume["attach_status"] == states.ATTACHED
                or volume.get("migration_status") not in (None, "", "success", "error")):
            raise exception.InvalidVolume(
                reason="Volume status must be available or error or error_restoring or "
                       "error_extending or error_managing and must not be migrating, "
                       "attached, belong to a group, have snapshots or be disassociated "
                       "from snapshots after volume transfer.")
        snapshots = self.store.snapshot_count(volume["id"])
        if snapshots and not cascade:
            raise exception.InvalidVolume(
                reason="Volume %s still has %d dependent snapshots."
                       % (volume["id"], snapshots))
        if snapshots and not self.store.snapshots_deletable(volume["id"]):
            raise exception.InvalidVolume(
                reason="Snapshots of volume %s are busy." % volume["id"])


def image_metadata(image: dict[str, Any]) -> dict[str, str]:
    """What a volume created from ``image`` keeps of it (its id, core fields and
    free-form properties, as strings)."""
    meta = {"image_id": str(image["id"])}
    if image.get("name") is not None:
        meta["image_name"] = str(image["name"])
    for key in _IMAGE_KEYS[:-1]:
        if image.get(key) is not None:
            meta[key] = str(image[key])
    for key, value in image.items():
        if key not in _IMAGE_NOT_PROPERTIES and key not in meta and value is not None:
            meta[key] = value if isinstance(value, str) else str(value)
    return meta
