"""The RPC endpoint of ``stratus-blockstorage-backup`` (topic ``blockstorage-backup``).

Each method of :class:`blockstorage.rpcapi.BackupAPI` is a cast whose progress
lives in the statuses: the API has already moved the backup (``creating``,
``restoring``, ``deleting``) and the volume (``backing-up``,
``restoring-backup``); this daemon does the work and sets the final statuses,
or the error ones with a ``fail_reason``. It reads and writes the volume's
bytes through the volume daemon's export to this host
(``VolumeAPI.initialize_connection`` with this host's connector): the file
target gives a local path (raw, or qcow2 converted with ``qemu-img``). At start
it settles what a crash left in flight (:meth:`BackupManager.init_host`).
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from blockstorage import exception
from blockstorage import rpcapi
from blockstorage import states
from blockstorage.backup import drivers
from blockstorage.backup.drivers import base as driver_base
from blockstorage.db import backups as backups_db
from blockstorage.db import snapshots as snapshots_db
from blockstorage.db import volumes as volumes_db
from common import context
from common.db import engine

LOG = logging.getLogger(__name__)
BINARY = rpcapi.BACKUP_BINARY
#: Longest ``fail_reason`` kept (the column is a short string).
REASON_LENGTH = 255
DriverFactory = Callable[[cfg.ConfigOpts, Any, dict[str, Any]], driver_base.BackupDriver]


def _reason(err: BaseException) -> str:
    text = getattr(err, "message", None) or str(err) or type(err).__name__
    return str(text)[:REASON_LENGTH]


def connector(conf: cfg.ConfigOpts) -> dict[str, Any]:
    """This host's connector: the backup reads and writes volume files on this host
    (``protocols``: a volume daemon on this host hands over the file itself, even
    when it exports volumes over iSCSI to guests)."""
    return {"host": conf.host, "multipath": False, "os_type": sys.platform,
            "platform": platform.machine(), "initiator": None, "ip": None,
            "protocols": ["file"]}


class VolumeAccess:
    """Opens a volume's bytes on this host through the volume daemon's export."""

    def __init__(self, conf: cfg.ConfigOpts, volume_api: Any) -> None:
        self.conf = conf
        self.volume_api = volume_api

    @contextlib.contextmanager
    def open(self, ctxt: Any, volume: dict[str, Any], write: bool) -> Iterator[BinaryIO]:
        """The volume as a binary file at offset 0 (for writing: ``r+b``, synced
        before the export is removed).

        :raises: BackupDriverException (no host, a connection this host
            cannot read); whatever the volume daemon raises; OSError.
        """
        if not volume.get("host"):
            raise exception.BackupDriverException(
                reason="volume %s has no host" % volume["id"])
        conn = connector(self.conf)
        info = self.volume_api.initialize_connection(ctxt, volume["host"], volume["id"], conn)
        try:
            path, fmt = _local_path(info, volume["id"])
            if fmt == "raw":
                with open(path, "r+b" if write else "rb") as data:
                    yield data
                    if write:
                        os.fsync(data.fileno())
            else:
                with self._converted(path, fmt, write) as data:
                    yield data
        finally:
            try:
                self.volume_api.terminate_connection(ctxt, volume["host"], volume["id"], conn)
            except Exception as err:  # the export stays; the work itself is done
                LOG.warning("Removing the export of volume %(volume)s failed: %(err)s",
                            {"volume": volume["id"], "err": err})

    @contextlib.contextmanager
    def _converted(self, path: str, fmt: str, write: bool) -> Iterator[BinaryIO]:
        """A raw copy of an image file (read), or a raw file converted into it
        after the block (write), in a temporary directory under state_path."""
        with tempfile.TemporaryDirectory(prefix="backup-", dir=_temp_root(self.conf)) as tmp:
            raw = os.path.join(tmp, "volume.raw")
            if write:
                with open(raw, "wb") as data:
                    data.truncate(_virtual_size(path, fmt))
                with open(raw, "r+b") as data:
                    yield data
                    data.flush()
                _qemu_img("convert", "-n", "-f", "raw", "-O", fmt, raw, path)
            else:
                _qemu_img("convert", "-f", fmt, "-O", "raw", path, raw)
                with open(raw, "rb") as data:
                    yield data


def _temp_root(conf: cfg.ConfigOpts) -> str | None:
    root = getattr(conf, "state_path", None)
    return root if root and os.path.isdir(root) else None


def _qemu_img(*args: str) -> str:
    try:
        done = subprocess.run(["qemu-img", *args], check=True, capture_output=True,
                              text=True)
    except (OSError, subprocess.CalledProcessError) as err:
        detail = getattr(err, "stderr", None) or str(err)
        raise exception.BackupDriverException(
            reason="qemu-img %s failed: %s" % (args[0], detail.strip()[:200])) from err
    return done.stdout


def _virtual_size(path: str, fmt: str) -> int:
    info = json.loads(_qemu_img("info", "--output=json", "-f", fmt, path))
    return int(info["virtual-size"])


def _local_path(info: dict[str, Any], volume_id: str) -> tuple[str, str]:
    kind = info.get("driver_volume_type")
    data = info.get("data") or {}
    path = data.get("device_path")
    if kind != "file" or not path:
        raise exception.BackupDriverException(
            reason="volume %s is exported as %s; the backup host reads only local "
                   "files ([volume] target_protocol = file)" % (volume_id, kind))
    return str(path), str(data.get("format") or "raw")


class BackupManager:
    """Serves the backup daemon's RPC API (version 1.0)."""

    RPC_API_VERSION = "1.0"
    target = messaging.Target(version=RPC_API_VERSION)

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database,
                 volume_api: Any = None, load_driver: DriverFactory | None = None) -> None:
        self.conf = conf
        self.backups = backups_db.BackupStore(db)
        self.volumes = volumes_db.VolumeStore(db)
        self.snapshots = snapshots_db.SnapshotStore(db)
        if volume_api is None:
            # The real client needs common.rpc.init() first (done by the daemon's main).
            volume_api = rpcapi.VolumeAPI(timeout=conf.backup.backup_connect_timeout)
        self.access = VolumeAccess(conf, volume_api)
        self.load_driver: DriverFactory = load_driver or drivers.load
        self._recovery: threading.Thread | None = None

    # -- create
    def create_backup(self, ctxt: Any, backup_id: str) -> None:
        """Copy the volume of a ``creating`` backup to the backup store.

        Success: backup ``available`` (container, object_count, size), volume
        back to ``available`` or ``in-use``. Failure: backup ``error`` with its
        ``fail_reason``, the volume back as it was.

        :raises: nothing (a cast): failures are recorded in the statuses.
        """
        try:
            backup = self.backups.update(
                backup_id, {"host": self.conf.host, "fail_reason": None},
                expected_status=[states.CREATING])
        except (exception.BackupNotFound, exception.InvalidBackupStatus) as err:
            LOG.warning("Not backing up %(backup)s: %(err)s", {"backup": backup_id, "err": err})
            return
        try:
            volume = self.volumes.get(backup["volume_id"])
            if backup.get("snapshot_id"):
                raise exception.InvalidBackup(reason="backups of snapshots are not supported")
            if volume["status"] != states.BACKING_UP:
                raise exception.InvalidVolume(reason="volume %s is %s, not %s" % (
                    volume["id"], volume["status"], states.BACKING_UP))
            driver = self.load_driver(self.conf, ctxt, backup)
            with self.access.open(ctxt, volume, write=False) as data:
                update = driver.backup(backup, data)
        except Exception as err:  # the boundary of a cast: record, log once
            LOG.exception("Backup %(backup)s failed", {"backup": backup_id})
            self._backup_failed(backup, err)
            return
        self._settle_volume(backup["volume_id"])
        update.update(status=states.AVAILABLE, size=volume["size"])
        self.backups.update(backup_id, update, expected_status=[states.CREATING])
        LOG.info("Backup %(backup)s of volume %(volume)s is available",
                 {"backup": backup_id, "volume": volume["id"]})

    def _backup_failed(self, backup: dict[str, Any], err: BaseException) -> None:
        self._settle_volume(backup["volume_id"])
        if backup.get("snapshot_id"):
            self._settle_snapshot(backup["snapshot_id"])
        try:
            self.backups.update(backup["id"], {"status": states.ERROR,
                                               "fail_reason": _reason(err)},
                                expected_status=[states.CREATING])
        except (exception.BackupNotFound, exception.InvalidBackupStatus):
            LOG.warning("Backup %(backup)s moved on; its error is not recorded",
                        {"backup": backup["id"]})

    def _settle_volume(self, volume_id: str) -> None:
        """A ``backing-up`` volume back to ``in-use`` (attached) or ``available``."""
        try:
            volume = self.volumes.get(volume_id)
            status = (states.IN_USE if volume.get("attach_status") == states.ATTACHED
                      else states.AVAILABLE)
            self.volumes.update(volume_id, {"status": status},
                                expected_status=[states.BACKING_UP])
        except (exception.VolumeNotFound, exception.InvalidVolumeStatus) as err:
            LOG.debug("Volume %(volume)s not reset: %(err)s", {"volume": volume_id, "err": err})

    def _settle_snapshot(self, snapshot_id: str) -> None:
        try:
            self.snapshots.update(snapshot_id, {"status": states.AVAILABLE},
                                  expected_status=[states.BACKING_UP])
        except (exception.SnapshotNotFound, exception.InvalidSnapshotStatus) as err:
            LOG.debug("Snapshot %(snap)s not reset: %(err)s",
                      {"snap": snapshot_id, "err": err})

    # -- restore
    def restore_backup(self, ctxt: Any, backup_id: str, volume_id: str) -> None:
        """Write a ``restoring`` backup onto the ``restoring-backup`` volume.

        Success: volume ``available``. Failure (including a volume smaller
        than the backup): volume ``error_restoring``. The backup is
        ``available`` again either way.

        :raises: nothing (a cast): failures are recorded in the statuses.
        """
        try:
            backup = self.backups.get(backup_id)
            volume = self.volumes.get(volume_id)
            if backup["status"] != states.RESTORING:
                raise exception.InvalidBackup(reason="backup %s is %s, not %s" % (
                    backup_id, backup["status"], states.RESTORING))
            if volume["status"] != states.RESTORING_BACKUP:
                raise exception.InvalidVolume(reason="volume %s is %s, not %s" % (
                    volume_id, volume["status"], states.RESTORING_BACKUP))
            if int(volume["size"]) < int(backup["size"] or 0):
                raise exception.InvalidVolume(
                    reason="volume %s (%s GiB) is smaller than backup %s (%s GiB)"
                    % (volume_id, volume["size"], backup_id, backup["size"]))
            driver = self.load_driver(self.conf, ctxt, backup)
            with self.access.open(ctxt, volume, write=True) as data:
                driver.restore(backup, volume_id, data)
        except Exception:  # the boundary of a cast: record, log once
            LOG.exception("Restoring backup %(backup)s to volume %(volume)s failed",
                          {"backup": backup_id, "volume": volume_id})
            self._restore_done(backup_id, volume_id, states.ERROR_RESTORING)
            return
        self._restore_done(backup_id, volume_id, states.AVAILABLE)
        LOG.info("Restored backup %(backup)s to volume %(volume)s",
                 {"backup": backup_id, "volume": volume_id})

    def _restore_done(self, backup_id: str, volume_id: str | None,
                      volume_status: str) -> None:
        try:
            if volume_id:
                self.volumes.update(volume_id, {"status": volume_status},
                                    expected_status=[states.RESTORING_BACKUP])
        except (exception.VolumeNotFound, exception.InvalidVolumeStatus) as err:
            LOG.warning("Volume %(volume)s not set %(status)s: %(err)s",
                        {"volume": volume_id, "status": volume_status, "err": err})
        try:
            self.backups.update(backup_id, {"status": states.AVAILABLE,
                                            "restore_volume_id": None},
                                expected_status=[states.RESTORING])
        except (exception.BackupNotFound, exception.InvalidBackupStatus) as err:
            LOG.warning("Backup %(backup)s not set available: %(err)s",
                        {"backup": backup_id, "err": err})

    # -- delete
    def delete_backup(self, ctxt: Any, backup_id: str) -> None:
        """Delete a ``deleting`` backup's data, then its row; ``error_deleting``
        (with the reason) when the data could not be removed.

        :raises: nothing (a cast): failures are recorded in the statuses.
        """
        try:
            backup = self.backups.get(backup_id)
        except exception.BackupNotFound:
            return
        if backup["status"] != states.DELETING:
            LOG.warning("Not deleting backup %(backup)s: it is %(status)s",
                        {"backup": backup_id, "status": backup["status"]})
            return
        try:
            if backup.get("container") or backup.get("service_metadata"):
                self.load_driver(self.conf, ctxt, backup).delete_backup(backup)
        except Exception as err:  # the boundary of a cast: record, log once
            LOG.exception("Deleting backup %(backup)s failed", {"backup": backup_id})
            try:
                self.backups.update(backup_id, {"status": states.ERROR_DELETING,
                                                "fail_reason": _reason(err)},
                                    expected_status=[states.DELETING])
            except (exception.BackupNotFound, exception.InvalidBackupStatus):
                pass
            return
        try:
            self.backups.delete(backup_id)
        except exception.BackupNotFound:
            pass
        LOG.info("Deleted backup %(backup)s", {"backup": backup_id})

    # -- start
    def init_host(self) -> None:
        """Settle the backups of this host a crash left in flight.

        ``creating`` become ``error`` (their volumes back from ``backing-up``);
        ``restoring`` become ``available`` and the volume restored into
        ``error_restoring``; ``deleting`` are deleted again, on a thread so
        the daemon starts serving at once.
        """
        ctxt = context.admin_context()
        mine = [b for b in self.backups.get_all(backups_db.Query(
            statuses=[states.CREATING, states.RESTORING, states.DELETING]))
            if b.get("host") == self.conf.host]
        deleting = []
        for backup in mine:
            if backup["status"] == states.CREATING:
                self._backup_failed(backup, RuntimeError(
                    "the backup service restarted during the backup"))
            elif backup["status"] == states.RESTORING:
                self._restore_done(backup["id"], backup.get("restore_volume_id"),
                                   states.ERROR_RESTORING)
            else:
                deleting.append(backup["id"])
        if mine:
            LOG.info("Recovering %(n)d backups left in flight", {"n": len(mine)})
        if deleting:
            self._recovery = threading.Thread(
                target=self._delete_all, args=(ctxt, deleting), name="backup-recovery",
                daemon=True)
            self._recovery.start()

    def _delete_all(self, ctxt: Any, backup_ids: list[str]) -> None:
        for backup_id in backup_ids:
            self.delete_backup(ctxt, backup_id)

    def cleanup_host(self) -> None:
        """Wait briefly for the start-up deletions (they are resumable)."""
        if self._recovery is not None:
            self._recovery.join(5)
