"""The rules of backups (the API's service layer): what may be backed up
(an ``available`` volume, an ``in-use`` one with ``force``, or an available
snapshot), incremental parents, quotas, delete and restore; the rows are
written here and the work is cast to the backup daemon (``BackupAPI``).

A backup's volume is ``backing-up`` while it is copied; the backup daemon puts
it back (``in-use`` when it is attached, else ``available``). A restore into a
new volume goes through the volume create of 3.47 (``backup_id``): the volume
daemon creates the volume and has the backup restored onto it.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from common.db import engine
from blockstorage import exception
from blockstorage import quotas
from blockstorage import rpcapi
from blockstorage import states
from blockstorage import volumes as volumes_service
from blockstorage.db import backups as backups_db
from blockstorage.db import services as services_db
from blockstorage.db import snapshots as snapshots_db

LOG = logging.getLogger(__name__)
is_admin = volumes_service.is_admin
DELETABLE = (states.AVAILABLE, states.ERROR)
# What os-reset_status may set (Cinder allows these two for backups).
RESETTABLE = (states.AVAILABLE, states.ERROR)


class BackupService:
    """Backup rules for one API process."""

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database,
                 volumes: volumes_service.VolumeService) -> None:
        self.conf = conf
        self.volumes = volumes
        self.store = backups_db.BackupStore(db)
        self.snapshots = snapshots_db.SnapshotStore(db)
        self.services = services_db.ServiceStore(db)
        self.quotas = quotas.QuotaEngine(conf, db)

    @staticmethod
    def backup_rpc() -> rpcapi.BackupAPI:
        return rpcapi.BackupAPI()

    # -- reads
    def get(self, ctxt: Any, backup_id: str) -> dict[str, Any]:
        """A backup the caller may see. :raises: BackupNotFound."""
        backup = self.store.get(backup_id)
        if backup["project_id"] != ctxt.project_id and not is_admin(ctxt):
            raise exception.BackupNotFound(backup_id=backup_id)
        return backup

    def get_all(self, ctxt: Any, query: backups_db.Query,
                all_tenants: bool = False) -> list[dict[str, Any]]:
        if not (all_tenants and is_admin(ctxt)):
            query.project_id = ctxt.project_id
        return self.store.get_all(query)

    def count(self, ctxt: Any, query: backups_db.Query, all_tenants: bool = False) -> int:
        if not (all_tenants and is_admin(ctxt)):
            query.project_id = ctxt.project_id
        return self.store.count(query)

    # -- create
    def _check_service(self) -> None:
        """:raises: ServiceUnavailable when no backup daemon is alive."""
        if not self.services.list_up(rpcapi.BACKUP_BINARY, self.conf.service_down_time):
            raise exception.ServiceUnavailable(
                "Service %s could not be found." % rpcapi.BACKUP_BINARY)

    def _source(self, ctxt: Any, volume: dict[str, Any], snapshot_id: str | None,
                force: bool) -> dict[str, Any] | None:
        """Check what is backed up; returns the snapshot (None: the volume).

        :raises: SnapshotNotFound, InvalidSnapshot, InvalidVolume.
        """
        if snapshot_id:
            snap = self.snapshots.get(snapshot_id)
            if snap["volume_id"] != volume["id"] or (
                    snap["project_id"] != ctxt.project_id and not is_admin(ctxt)):
                raise exception.SnapshotNotFound(snapshot_id=snapshot_id)
            if snap["status"] != states.AVAILABLE:
                raise exception.InvalidSnapshot(
                    reason="Snapshot to be backed up must be available, but the current "
                           "status is \"%s\"." % snap["status"])
            return snap
        status = volume["status"]
        if status not in (states.AVAILABLE, states.IN_USE):
            raise exception.InvalidVolume(
                reason="Volume to be backed up must be available or in-use, but the "
                       "current status is \"%s\"." % status)
        if status == states.IN_USE and not force:
            raise exception.InvalidVolume(
                reason="Backing up an in-use volume must use the force flag.")
        return None

    def create(self, ctxt: Any, volume_id: str, *, name: str | None = None,
               description: str | None = None, container: str | None = None,
               incremental: bool = False, force: bool = False,
               snapshot_id: str | None = None, metadata: Mapping[str, str] | None = None,
               availability_zone: str | None = None) -> dict[str, Any]:
        """Record a ``creating`` backup, mark its source ``backing-up`` and cast.

        :raises: VolumeNotFound, SnapshotNotFound, InvalidVolume, InvalidSnapshot,
            InvalidBackup (no parent for an incremental one), QuotaExceeded,
            ServiceUnavailable.
        """
        volume = self.volumes.get(ctxt, volume_id)
        snap = self._source(ctxt, volume, snapshot_id, force)
        parent = self.store.latest_available(volume_id) if incremental else None
        if incremental and parent is None:
            raise exception.InvalidBackup(
                reason="No backups available to do an incremental backup.")
        self._check_service()
        with self.quotas.reserve(ctxt.project_id, quotas.backup_deltas(volume["size"])):
            if snap is not None:
                self.snapshots.update(snap["id"], {"status": states.BACKING_UP},
                                      expected_status=[states.AVAILABLE])
            else:
                self.volumes.store.update(volume_id, {"status": states.BACKING_UP},
                                          expected_status=[volume["status"]])
            backup = self.store.create({
                "project_id": ctxt.project_id, "user_id": ctxt.user_id,
                "volume_id": volume_id, "name": name, "description": description,
                "size": volume["size"], "status": states.CREATING,
                "container": container or self.conf.backup.backup_container,
                "service": self.conf.backup.backup_driver,
                "availability_zone": availability_zone or volume["availability_zone"],
                "snapshot_id": snapshot_id, "parent_id": parent["id"] if parent else None,
                "is_incremental": incremental, "object_count": 0,
                "data_timestamp": snapshots_db.utcnow()}, metadata=metadata)
        self.backup_rpc().create_backup(ctxt, backup["id"])
        LOG.info("Backup %(id)s of volume %(volume)s sent to the backup service",
                 {"id": backup["id"], "volume": volume_id})
        return backup

    # -- update, delete, reset
    def update(self, ctxt: Any, backup: dict[str, Any], values: Mapping[str, Any],
               metadata: Mapping[str, str] | None = None) -> dict[str, Any]:
        if metadata is not None:
            self.store.set_metadata(backup["id"], metadata, replace=True)
        return self.store.update(backup["id"], dict(values))

    def delete(self, ctxt: Any, backup: dict[str, Any], force: bool = False) -> None:
        """Start deleting a backup (``deleting``, cast); ``force``: any status.

        :raises: InvalidBackup (status, dependent incremental backups).
        """
        if not force and backup["status"] not in DELETABLE:
            raise exception.InvalidBackup(
                reason="Backup status must be available or error")
        if backup["has_dependent_backups"]:
            raise exception.InvalidBackup(
                reason="Incremental backups exist for this backup.")
        self.store.update(backup["id"], {"status": states.DELETING},
                          expected_status=None if force else list(DELETABLE))
        self.backup_rpc().delete_backup(ctxt, backup["id"], host=backup.get("host"))

    def reset_status(self, ctxt: Any, backup: dict[str, Any], status: str) -> None:
        """:raises: InvalidBackup for a status other than available or error."""
        if status not in RESETTABLE:
            raise exception.InvalidBackup(
                reason="Backup status %r is invalid: must be available or error" % status)
        self.store.update(backup["id"], {"status": status})

    # -- restore
    def restore(self, ctxt: Any, backup: dict[str, Any], volume_id: str | None,
                name: str | None = None) -> dict[str, Any]:
        """Restore onto ``volume_id`` (available, large enough) or a new volume.

        :returns: ``{"backup_id", "volume_id", "volume_name"}``.
        :raises: InvalidBackup, VolumeNotFound, InvalidVolume, QuotaExceeded.
        """
        if backup["status"] != states.AVAILABLE:
            raise exception.InvalidBackup(reason="Backup status must be available")
        if volume_id is None:
            volume = self.volumes.create(ctxt, volumes_service.CreateRequest(
                size=backup["size"], name=name or "restore_backup_%s" % backup["id"],
                description="auto-created_from_restore_from_backup",
                backup_id=backup["id"]))
            return {"backup_id": backup["id"], "volume_id": volume["id"],
                    "volume_name": volume["name"] or ""}
        volume = self.volumes.get(ctxt, volume_id)
        if volume["status"] != states.AVAILABLE:
            raise exception.InvalidVolume(
                reason="Volume to be restored to must be available")
        if volume["size"] < backup["size"]:
            raise exception.InvalidVolume(
                reason="volume size %d is too small to restore backup of size %d."
                       % (volume["size"], backup["size"]))
        self.volumes.store.update(volume_id, {"status": states.RESTORING_BACKUP},
                                  expected_status=[states.AVAILABLE])
        try:
            self.store.update(backup["id"], {"status": states.RESTORING,
                                             "restore_volume_id": volume_id},
                              expected_status=[states.AVAILABLE])
        except exception.InvalidBackupStatus:
            self.volumes.store.update(volume_id, {"status": states.AVAILABLE})
            raise
        self.backup_rpc().restore_backup(ctxt, backup["id"], volume_id,
                                         host=backup.get("host"))
        return {"backup_id": backup["id"], "volume_id": volume_id,
                "volume_name": volume["name"] or ""}
