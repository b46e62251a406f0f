"""The volume daemon's long workflows: create (empty, from a snapshot, a clone,
from an image, with reschedule), delete (with cascade), snapshots, extend,
retype (the upload to an image is in :mod:`blockstorage.volume.images`).

Each runs on the manager's pool under the lock of the volume it touches and
moves statuses with compare-and-set updates, so an API request that moved the
volume meanwhile (a delete during a create) is noticed instead of overwritten.
A failure leaves the documented error status (``error``, ``error_deleting``,
``error_extending``) and the reason in the volume's admin metadata
``fail_reason``; nothing is left in a working status.
"""
from __future__ import annotations

import collections
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from oslo_config import cfg
from oslo_log import log as logging

from common.db import engine
from common.db import models as base_models
from blockstorage import exception
from blockstorage import states
from blockstorage.db import attachments as attachments_db
from blockstorage.db import backups as backups_db
from blockstorage.db import services as services_db
from blockstorage.db import snapshots as snapshots_db
from blockstorage.db import volumes as volumes_db
from blockstorage.volume.drivers import base as driver_base

LOG = logging.getLogger(__name__)
FAIL_REASON_KEY = "fail_reason"
# Image properties a volume keeps (volume_image_metadata), besides custom ones.
_IMAGE_CORE = ("id", "name", "checksum", "container_format", "disk_format", "min_disk",
               "min_ram", "size")
_IMAGE_SKIP = frozenset(("status", "visibility", "protected", "owner", "created_at",
                         "updated_at", "file", "schema", "self", "direct_url", "locations",
                         "tags", "os_hash_algo", "os_hash_value", "virtual_size", "stores",
                         "os_hidden"))
# Failures that another backend would meet too: never rescheduled.
_PERMANENT = (exception.ImageNotFound, exception.ImageNotAuthorized,
              exception.ImageUnacceptable, exception.ImageCopyFailure,
              exception.SnapshotNotFound, exception.VolumeNotFound)

class SchedulerRPC(Protocol):
    def create_volume(self, ctxt: Any, volume_id: str, request_spec: dict[str, Any],
                      filter_properties: dict[str, Any]) -> None: ...


class BackupRPC(Protocol):
    def restore_backup(self, ctxt: Any, backup_id: str, volume_id: str,
                       host: str | None = None) -> None: ...


class ImageAPI(Protocol):
    def download_image(self, ctxt: Any, image_id: str, path: str) -> dict[str, Any]: ...

    def upload_image_data(self, ctxt: Any, image_id: str, path: str) -> dict[str, Any]: ...

    def delete_image(self, ctxt: Any, image_id: str) -> None: ...


class Backend:
    """What the workflows share: this backend's host, driver, stores and neighbours."""

    def __init__(self, conf: cfg.ConfigOpts, host: str, db: engine.Database,
                 driver: driver_base.VolumeDriver, scheduler_rpc: SchedulerRPC,
                 image_api: ImageAPI, backup_rpc: BackupRPC) -> None:
        self.conf = conf
        self.host = host
        self.driver = driver
        self.volumes = volumes_db.VolumeStore(db)
        self.snapshots = snapshots_db.SnapshotStore(db)
        self.attachments = attachments_db.AttachmentStore(db)
        self.services = services_db.ServiceStore(db)
        self.backups = backups_db.BackupStore(db)
        self.scheduler_rpc = scheduler_rpc
        self.image_api = image_api
        self.backup_rpc = backup_rpc
        self._locks: dict[str, threading.Lock] = collections.defaultdict(threading.Lock)
        self._locks_lock = threading.Lock()

    @contextmanager
    def locked(self, volume_id: str) -> Iterator[None]:
        """Serialize the operations on one volume (and its snapshots)."""
        with self._locks_lock:
            lock = self._locks[volume_id]
        with lock:
            yield

    def forget(self, volume_id: str) -> None:
        with self._locks_lock:
            self._locks.pop(volume_id, None)

    def fail(self, volume_id: str, status: str, reason: str,
             expected: list[str] | None = None) -> None:
        """Put the volume in ``status`` and keep ``reason``; a volume gone or moved
        on meanwhile is left alone."""
        LOG.error("Volume %(id)s -> %(status)s: %(reason)s",
                  {"id": volume_id, "status": status, "reason": reason})
        # The reason first: whoever sees the status also finds why.
        try:
            self.volumes.set_metadata(volume_id, {FAIL_REASON_KEY: reason[:255]},
                                      kind="admin_metadata")
            self.volumes.change(volume_id, {"status": status}, expected_status=expected)
        except exception.VolumeNotFound:
            return
        except exception.InvalidVolumeStatus as err:
            LOG.info("Volume %(id)s moved on meanwhile: %(err)s",
                     {"id": volume_id, "err": err})
            try:
                self.volumes.delete_metadata(volume_id, FAIL_REASON_KEY, kind="admin_metadata")
            except (exception.VolumeNotFound, exception.VolumeAdminMetadataNotFound):
                pass


def _now() -> Any:
    return base_models.utcnow()


def resting_status(volume: dict[str, Any]) -> str:
    """``in-use`` for an attached volume, else ``available``."""
    return states.IN_USE if volume.get("attach_status") == states.ATTACHED \
        else states.AVAILABLE


def message(err: BaseException) -> str:
    return str(getattr(err, "message", None) or err or type(err).__name__)


# -- create -------------------------------------------------------------------------------


def create_volume(backend: Backend, ctxt: Any, volume_id: str, request_spec: dict[str, Any],
                  filter_properties: dict[str, Any], allow_reschedule: bool) -> None:
    """Make the backend object of a ``creating`` volume, then mark it ``available``."""
    with backend.locked(volume_id):
        try:
            volume = backend.volumes.get(volume_id)
        except exception.VolumeNotFound:
            LOG.info("Volume %s was deleted before its create ran", volume_id)
            return
        if volume["status"] != states.CREATING:
            LOG.info("Volume %(id)s is %(status)s, not creating it",
                     {"id": volume_id, "status": volume["status"]})
            return
        delay = float(backend.conf.volume.debug_create_delay)
        if delay:
            time.sleep(delay)
        try:
            extra = _build(backend, ctxt, volume, request_spec)
        except Exception as err:  # the boundary of a create: clean up, fail or retry
            _create_failed(backend, ctxt, volume, request_spec, filter_properties,
                           allow_reschedule, err)
            return
        values = {"status": states.AVAILABLE, "launched_at": _now(), **extra}
        try:
            backend.volumes.change(volume_id, values,
                                   expected_status=[states.CREATING, states.DOWNLOADING])
        except (exception.VolumeNotFound, exception.InvalidVolumeStatus) as err:
            LOG.info("Volume %(id)s changed during its create (%(err)s)",
                     {"id": volume_id, "err": err})
            return
        if values["status"] == states.RESTORING_BACKUP:
            _restore(backend, ctxt, volume)
            return
    LOG.info("Created volume %(id)s (%(size)s GiB)", {"id": volume_id, "size": volume["size"]})


def _build(backend: Backend, ctxt: Any, volume: dict[str, Any],
           request_spec: dict[str, Any]) -> dict[str, Any]:
    """Run the driver for the volume's source; the columns to set on success."""
    driver = backend.driver
    snapshot_id = volume.get("snapshot_id") or request_spec.get("snapshot_id")
    source_id = volume.get("source_volid") or request_spec.get("source_volid")
    image_id = volume.get("image_id") or request_spec.get("image_id")
    extra: dict[str, Any] = {}
    if snapshot_id:
        snapshot = backend.snapshots.get(str(snapshot_id))
        origin = backend.volumes.get(str(snapshot["volume_id"]))
        update = driver.create_volume_from_snapshot(volume, _snapshot_for_driver(
            snapshot, origin))
        _inherit(backend, volume["id"], origin, extra)
    elif source_id:
        source = backend.volumes.get(str(source_id))
        update = driver.create_cloned_volume(volume, source)
        _inherit(backend, volume["id"], source, extra)
    else:
        update = driver.create_volume(volume)
        if volume.get("backup_id"):
            # The backup daemon fills the volume, then makes it available.
            extra["status"] = states.RESTORING_BACKUP
    _save(backend, volume, update)
    if image_id and not snapshot_id and not source_id:
        _copy_image(backend, ctxt, {**volume, **update}, str(image_id))
        extra["bootable"] = True
    return extra


def _restore(backend: Backend, ctxt: Any, volume: dict[str, Any]) -> None:
    """Hand a ``restoring-backup`` volume to the backup daemon (backup ``restoring``)."""
    backup_id = str(volume["backup_id"])
    try:
        backup = backend.backups.update(backup_id, {"status": states.RESTORING,
                                                    "restore_volume_id": volume["id"]},
                                        expected_status=[states.AVAILABLE])
    except (exception.BackupNotFound, exception.InvalidBackupStatus) as err:
        backend.fail(str(volume["id"]), states.ERROR_RESTORING, message(err),
                     [states.RESTORING_BACKUP])
        return
    backend.backup_rpc.restore_backup(ctxt, backup_id, str(volume["id"]),
                                      host=backup.get("host"))
    LOG.info("Volume %(id)s made; backup %(backup)s restores into it",
             {"id": volume["id"], "backup": backup_id})


def _save(backend: Backend, volume: dict[str, Any], update: dict[str, Any]) -> None:
    # Recorded at once: a failure later must still find (and delete) the object.
    volume.update(update)
    if update:
        backend.volumes.change(volume["id"], update,
                               expected_status=[states.CREATING, states.DOWNLOADING])


def _snapshot_for_driver(snapshot: dict[str, Any], origin: dict[str, Any]) -> dict[str, Any]:
    return {**snapshot, "volume_size": snapshot.get("volume_size") or origin.get("size")}


def _inherit(backend: Backend, volume_id: str, source: dict[str, Any],
             extra: dict[str, Any]) -> None:
    """A copy is bootable and keeps the image metadata when its source did."""
    extra["bootable"] = bool(source.get("bootable"))
    glance = source.get("glance_metadata") or {}
    if glance:
        backend.volumes.set_metadata(volume_id, glance, kind="glance_metadata")


def _copy_image(backend: Backend, ctxt: Any, volume: dict[str, Any], image_id: str) -> None:
    backend.volumes.update(volume["id"], {"status": states.DOWNLOADING},
                           expected_status=[states.CREATING])
    directory = str(backend.conf.volume.image_conversion_dir)
    os.makedirs(directory, exist_ok=True)
    fd, path = tempfile.mkstemp(dir=directory, prefix="image-%s." % image_id)
    os.close(fd)
    try:
        image = backend.image_api.download_image(ctxt, image_id, path)
        backend.driver.copy_image_to_volume(volume, path)
    finally:
        unlink(path)
    backend.volumes.set_metadata(volume["id"], image_metadata(image), kind="glance_metadata")


def image_metadata(image: dict[str, Any]) -> dict[str, str]:
    """The image properties a volume made from ``image`` keeps (as strings)."""
    meta: dict[str, str] = {}
    for key, value in image.items():
        if value is None or key in _IMAGE_SKIP:
            continue
        if key in _IMAGE_CORE:
            meta["image_id" if key == "id" else "image_name" if key == "name" else key] = \
                str(value)
        else:
            meta[key] = value if isinstance(value, str) else str(value)
    return meta


def _create_failed(backend: Backend, ctxt: Any, volume: dict[str, Any],
                   request_spec: dict[str, Any], filter_properties: dict[str, Any],
                   allow_reschedule: bool, err: BaseException) -> None:
    volume_id = str(volume["id"])
    reason = message(err)
    LOG.warning("Creating volume %(id)s on %(host)s failed: %(err)s",
                {"id": volume_id, "host": backend.host, "err": reason})
    try:
        backend.driver.delete_volume(volume)
    except Exception:  # best effort: the object may not exist at all
        LOG.exception("Cleaning up volume %s after its failed create failed", volume_id)
    sourced = volume.get("snapshot_id") or volume.get("source_volid") \
        or request_spec.get("snapshot_id") or request_spec.get("source_volid")
    if allow_reschedule and not sourced and not isinstance(err, _PERMANENT):
        try:
            backend.volumes.change(volume_id, {"status": states.CREATING,
                                               "provider_location": None},
                                   expected_status=[states.CREATING, states.DOWNLOADING])
        except (exception.VolumeNotFound, exception.InvalidVolumeStatus):
            return
        props = dict(filter_properties or {})
        props["retry"] = {**(props.get("retry") or {}), "exc": reason}
        LOG.info("Rescheduling volume %s", volume_id)
        backend.scheduler_rpc.create_volume(ctxt, volume_id, request_spec, props)
        return
    backend.fail(volume_id, states.ERROR, reason, [states.CREATING, states.DOWNLOADING])


# -- delete -------------------------------------------------------------------------------


def delete_volume(backend: Backend, ctxt: Any, volume_id: str, cascade: bool) -> None:
    """Delete a ``deleting`` volume's object and row (snapshots first with ``cascade``)."""
    with backend.locked(volume_id):
        try:
            volume = backend.volumes.get(volume_id)
        except exception.VolumeNotFound:
            return
        if volume["status"] != states.DELETING:
            LOG.info("Volume %(id)s is %(status)s, not deleting it",
                     {"id": volume_id, "status": volume["status"]})
            return
        snaps = backend.snapshots.get_all(snapshots_db.Query(volume_id=volume_id))
        if snaps and not cascade:
            backend.fail(volume_id, states.AVAILABLE,
                         "Volume %s still has %d snapshots" % (volume_id, len(snaps)),
                         [states.DELETING])
            return
        for snap in snaps:
            if not _delete_snapshot_locked(backend, snap, set_deleting=True):
                backend.fail(volume_id, states.ERROR_DELETING,
                             "Could not delete snapshot %s" % snap["id"], [states.DELETING])
                return
        try:
            backend.driver.delete_volume(volume)
        except Exception as err:  # the boundary of a delete: error_deleting
            backend.fail(volume_id, states.ERROR_DELETING, message(err), [states.DELETING])
            return
        try:
            backend.volumes.delete(volume_id)
        except exception.VolumeNotFound:
            pass
    backend.forget(volume_id)
    LOG.info("Deleted volume %s", volume_id)


# -- snapshots ----------------------------------------------------------------------------


def create_snapshot(backend: Backend, ctxt: Any, snapshot_id: str) -> None:
    """Snapshot the volume of a ``creating`` snapshot; ``available`` or ``error``."""
    try:
        snapshot = backend.snapshots.get(snapshot_id)
    except exception.SnapshotNotFound:
        return
    with backend.locked(str(snapshot["volume_id"])):
        try:
            volume = backend.volumes.get(str(snapshot["volume_id"]))
            update = backend.driver.create_snapshot(_snapshot_for_driver(snapshot, volume),
                                                    volume)
            backend.snapshots.update(snapshot_id, {**update, "status": states.AVAILABLE,
                                                   "progress": "100%"},
                                     expected_status=[states.CREATING])
        except exception.InvalidSnapshotStatus as err:
            LOG.info("Snapshot %(id)s changed during its create: %(err)s",
                     {"id": snapshot_id, "err": err})
            return
        except Exception as err:  # the boundary of a snapshot create: error
            LOG.error("Snapshot %(id)s failed: %(err)s", {"id": snapshot_id,
                                                          "err": message(err)})
            set_snapshot(backend, snapshot_id, states.ERROR, [states.CREATING])
            return
    LOG.info("Created snapshot %s", snapshot_id)


def set_snapshot(backend: Backend, snapshot_id: str, status: str,
                  expected: list[str] | None) -> None:
    try:
        backend.snapshots.update(snapshot_id, {"status": status}, expected_status=expected)
    except (exception.SnapshotNotFound, exception.InvalidSnapshotStatus):
        pass


def delete_snapshot(backend: Backend, ctxt: Any, snapshot_id: str) -> None:
    """Delete a ``deleting`` snapshot's object and row."""
    try:
        snapshot = backend.snapshots.get(snapshot_id)
    except exception.SnapshotNotFound:
        return
    with backend.locked(str(snapshot["volume_id"])):
        _delete_snapshot_locked(backend, snapshot, set_deleting=False)


def _delete_snapshot_locked(backend: Backend, snapshot: dict[str, Any],
                            set_deleting: bool) -> bool:
    snapshot_id = str(snapshot["id"])
    try:
        if set_deleting:
            backend.snapshots.update(snapshot_id, {"status": states.DELETING},
                                     expected_status=sorted(states.SNAPSHOT_DELETABLE
                                                            | {states.DELETING,
                                                               states.CREATING}))
        elif snapshot["status"] != states.DELETING:
            LOG.info("Snapshot %s is not deleting; left alone", snapshot_id)
            return False
        backend.driver.delete_snapshot(snapshot)
        backend.snapshots.delete(snapshot_id)
    except exception.SnapshotNotFound:
        return True
    except Exception as err:  # the boundary of a snapshot delete: error_deleting
        LOG.error("Deleting snapshot %(id)s failed: %(err)s",
                  {"id": snapshot_id, "err": message(err)})
        set_snapshot(backend, snapshot_id, states.ERROR_DELETING, None)
        return False
    LOG.info("Deleted snapshot %s", snapshot_id)
    return True


# -- extend, retype ------------------------------------------------------------------


def extend_volume(backend: Backend, ctxt: Any, volume_id: str, new_size: int) -> None:
    """Grow an ``extending`` volume; back to ``available``/``in-use`` or ``error_extending``."""
    with backend.locked(volume_id):
        try:
            volume = backend.volumes.get(volume_id)
            if volume["status"] != states.EXTENDING:
                return
            backend.driver.extend_volume(volume, int(new_size))
        except exception.VolumeNotFound:
            return
        except Exception as err:  # the boundary of an extend: error_extending
            backend.fail(volume_id, states.ERROR_EXTENDING, message(err), [states.EXTENDING])
            return
        try:
            backend.volumes.update(volume_id, {"size": int(new_size),
                                               "status": resting_status(volume)},
                                   expected_status=[states.EXTENDING])
        except (exception.VolumeNotFound, exception.InvalidVolumeStatus):
            return
    LOG.info("Extended volume %(id)s to %(size)d GiB", {"id": volume_id, "size": new_size})


def retype(backend: Backend, ctxt: Any, volume_id: str, new_type_id: str) -> None:
    """Record a ``retyping`` volume's new type (the scheduler checked this backend
    meets it; one-pool backends move no data)."""
    with backend.locked(volume_id):
        try:
            volume = backend.volumes.get(volume_id)
            backend.volumes.update(volume_id, {"volume_type_id": new_type_id,
                                               "status": resting_status(volume)},
                                   expected_status=[states.RETYPING])
        except (exception.VolumeNotFound, exception.InvalidVolumeStatus) as err:
            LOG.info("Retype of %(id)s dropped: %(err)s", {"id": volume_id, "err": err})
        except Exception as err:  # the boundary of a retype: back to resting
            backend.fail(volume_id, resting_status(volume), "Retype failed: %s"
                         % message(err), [states.RETYPING])


def unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
