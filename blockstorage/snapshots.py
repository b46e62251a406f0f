"""The rules of snapshots (the API's service layer): which volume statuses
allow a snapshot, the quotas, the status moves of delete, reset and the
backend's status updates; rows are written here and the work is cast to the
volume's backend (``VolumeAPI.create_snapshot`` / ``delete_snapshot``).

Another project's snapshot is "not found", as Cinder hides it.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from common.db import engine
from blockstorage import exception
from blockstorage import quotas
from blockstorage import states
from blockstorage import volumes as volumes_service
from blockstorage.db import snapshots as snapshots_db

LOG = logging.getLogger(__name__)
# What os-update_snapshot_status (the backend's progress report) may move to.
_UPDATE_STATUS = {states.CREATING: (states.CREATING, states.AVAILABLE, states.ERROR),
                  states.DELETING: (states.DELETING, states.ERROR_DELETING)}
# Statuses a user may delete a snapshot from (Cinder: available or error).
DELETABLE = (states.AVAILABLE, states.ERROR, states.ERROR_DELETING)
is_admin = volumes_service.is_admin


class SnapshotService:
    """Snapshot rules for one API process."""

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database,
                 volumes: volumes_service.VolumeService) -> None:
        self.conf = conf
        self.volumes = volumes
        self.store = snapshots_db.SnapshotStore(db)
        self.quotas = quotas.QuotaEngine(conf, db)

    # -- reads
    def get(self, ctxt: Any, snapshot_id: str) -> dict[str, Any]:
        """A snapshot the caller may see. :raises: SnapshotNotFound."""
        snap = self.store.get(snapshot_id)
        if snap["project_id"] != ctxt.project_id and not is_admin(ctxt):
            raise exception.SnapshotNotFound(snapshot_id=snapshot_id)
        return snap

    def get_all(self, ctxt: Any, query: snapshots_db.Query,
                all_tenants: bool = False) -> list[dict[str, Any]]:
        """Snapshots of the caller's project (every project's for an admin
        asking ``all_tenants``, unless the query names a project)."""
        if not (all_tenants and is_admin(ctxt)):
            query.project_id = ctxt.project_id
        return self.store.get_all(query)

    def count(self, ctxt: Any, query: snapshots_db.Query, all_tenants: bool = False) -> int:
        if not (all_tenants and is_admin(ctxt)):
            query.project_id = ctxt.project_id
        return self.store.count(query)

    # -- create
    @staticmethod
    def _check_volume(volume: dict[str, Any], force: bool) -> None:
        """:raises: InvalidVolume when the volume's status forbids a snapshot."""
        status = volume["status"]
        if force and status not in (states.AVAILABLE, states.IN_USE):
            raise exception.InvalidVolume(
                reason="Volume %s status must be available or in-use, but current "
                       "status is: %s." % (volume["id"], status))
        if not force and status != states.AVAILABLE:
            raise exception.InvalidVolume(
                reason="Volume %s status must be available, but current status is: "
                       "%s." % (volume["id"], status))
        if not volume.get("host"):
            raise exception.InvalidVolume(
                reason="Volume %s is not on a backend yet." % volume["id"])

    def create(self, ctxt: Any, volume_id: str | None, *, name: str | None = None,
               description: str | None = None, force: bool = False,
               metadata: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Record a ``creating`` snapshot of a volume and cast it to its backend.

        :raises: VolumeNotFound, InvalidVolume, QuotaExceeded.
        """
        if not volume_id:
            raise exception.VolumeNotFound(volume_id=volume_id)
        volume = self.volumes.get(ctxt, volume_id)
        self._check_volume(volume, force)
        deltas = quotas.snapshot_deltas(volume["size"], volume.get("volume_type_name"))
        with self.quotas.reserve(ctxt.project_id, deltas):
            snap = self.store.create({
                "project_id": ctxt.project_id, "user_id": ctxt.user_id,
                "volume_id": volume_id, "volume_type_id": volume.get("volume_type_id"),
                "name": name, "description": description, "size": volume["size"],
                "status": states.CREATING, "progress": "0%"}, metadata=metadata)
        self.volumes.volume_rpc().create_snapshot(ctxt, volume["host"], snap["id"])
        LOG.info("Snapshot %(snap)s of volume %(volume)s sent to %(host)s",
                 {"snap": snap["id"], "volume": volume_id, "host": volume["host"]})
        return snap

    # -- update and delete
    def update(self, ctxt: Any, snap: dict[str, Any],
               values: Mapping[str, Any]) -> dict[str, Any]:
        """Rename or describe a snapshot."""
        return self.store.update(snap["id"], dict(values))

    def delete(self, ctxt: Any, snap: dict[str, Any], force: bool = False) -> None:
        """Start deleting a snapshot (``deleting``, cast to the volume's backend);
        ``force`` (admins) from any status.

        :raises: InvalidSnapshot (status), InvalidSnapshotStatus (moved meanwhile).
        """
        if not force and snap["status"] not in DELETABLE:
            raise exception.InvalidSnapshot(
                reason="Volume Snapshot status must be available or error and must not "
                       "be part of a group, but current status is: %s." % snap["status"])
        expected = None if force else list(DELETABLE)
        self.store.update(snap["id"], {"status": states.DELETING}, expected_status=expected)
        volume = self.volumes.store.get(snap["volume_id"])
        if not volume.get("host"):
            self.store.delete(snap["id"])
            return
        self.volumes.volume_rpc().delete_snapshot(ctxt, volume["host"], snap["id"])

    def reset_status(self, ctxt: Any, snap: dict[str, Any], status: str) -> None:
        """Set any snapshot status (admins). :raises: InvalidInput for an unknown one."""
        if status not in states.SNAPSHOT_STATUSES:
            raise exception.InvalidInput(
                reason="Invalid status %r: must be one of %s"
                       % (status, ", ".join(sorted(states.SNAPSHOT_STATUSES))))
        self.store.update(snap["id"], {"status": status})

    def update_status(self, ctxt: Any, snap: dict[str, Any], status: str,
                      progress: str | None = None) -> None:
        """The backend's report of a creating or deleting snapshot.

        :raises: InvalidSnapshot for a move Cinder does not allow.
        """
        current = snap["status"]
        allowed = _UPDATE_STATUS.get(current, ())
        if status not in allowed:
            raise exception.InvalidSnapshot(
                reason="Snapshot status %s not allowed from %s (allowed: %s)"
                       % (status, current, ", ".join(allowed) or "none"))
        values: dict[str, Any] = {"status": status}
        if progress is not None:
            values["progress"] = progress
        self.store.update(snap["id"], values, expected_status=[current])

    # -- metadata
    def set_metadata(self, ctxt: Any, snap: dict[str, Any], items: Mapping[str, str],
                     replace: bool = False) -> dict[str, str]:
        return self.store.set_metadata(snap["id"], items, replace=replace)

    def delete_metadata(self, ctxt: Any, snap: dict[str, Any], key: str) -> None:
        self.store.delete_metadata(snap["id"], key)
