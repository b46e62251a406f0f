"""The auditor: finds damaged objects and databases and sets them aside.

Objects: every ``.data`` is read whole; its md5 and size must match the ``ETag`` and
``Content-Length`` of its metadata, and the metadata of every file must be readable.
Databases: ``PRAGMA quick_check`` and a read of the stat row. A bad object directory is
quarantined (``<device>/quarantined/objects/<hash>``) and its suffix invalidated, a
bad database moved to ``quarantined/accounts|containers``; the replicators of the other
replicas then restore a good copy. ``files_per_second`` and ``bytes_per_second`` keep
the disks free for clients.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from objectstore.common import db as db_mod
from objectstore.common.ring import ring as ring_mod
from objectstore.daemons import base
from objectstore.obj import hashes as hashes_mod
from objectstore.obj import ondisk

LOG = logging.getLogger(__name__)

CHUNK = 65536
#: The rings whose devices the auditor walks, and what it checks on them.
RINGS = ("object", "container", "account")


class AuditError(Exception):
    """Why a file is bad."""


def audit_data_file(path: str, limiter: base.RateLimiter | None = None) -> None:
    """Check one ``.data`` file against its metadata.

    :raises AuditError: when the metadata is unreadable or the bytes do not match.
    """
    try:
        metadata = ondisk.read_metadata(path)
    except ondisk.DiskFileMetadataError as err:
        raise AuditError(str(err))
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(CHUNK)
            if not chunk:
                break
            md5.update(chunk)
            size += len(chunk)
            if limiter is not None:
                limiter.wait(len(chunk))
    expected_size = metadata.get("Content-Length")
    if expected_size is not None and str(size) != expected_size:
        raise AuditError("size %d, metadata says %s" % (size, expected_size))
    etag = (metadata.get("ETag") or "").strip('"')
    if etag and etag != md5.hexdigest():
        raise AuditError("md5 %s, metadata says %s" % (md5.hexdigest(), etag))


def audit_db_file(path: str, kind: str) -> None:
    """Check one database file.

    :raises AuditError: when SQLite finds it damaged or its stat row is missing.
    """
    try:
        conn = sqlite3.connect(path, timeout=db_mod.BUSY_TIMEOUT)
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()
            if not result or result[0] != "ok":
                raise AuditError("quick_check: %s" % (result[0] if result else "no answer"))
            if conn.execute("SELECT * FROM %s_stat" % kind).fetchone() is None:
                raise AuditError("no stat row")
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        raise AuditError("%s: %s" % (type(err).__name__, err))


class Auditor(base.Daemon):
    name = "auditor"
    group = "auditor"

    def __init__(self, conf: cfg.ConfigOpts, **filters: Any) -> None:
        super().__init__(conf, **filters)
        self._rings: dict[str, ring_mod.Ring] = {}
        self.files = base.RateLimiter(conf.auditor.files_per_second, self.stop_event)
        self.bytes = base.RateLimiter(conf.auditor.bytes_per_second, self.stop_event)

    def ring(self, name: str) -> ring_mod.Ring:
        if name not in self._rings:
            self._rings[name] = ring_mod.Ring(self.conf.objectstore.swift_dir, name,
                                              self.conf.objectstore.ring_check_interval)
        return self._rings[name]

    def run_once(self) -> None:
        self.files = base.RateLimiter(self.conf.auditor.files_per_second, self.stop_event)
        self.bytes = base.RateLimiter(self.conf.auditor.bytes_per_second, self.stop_event)
        for name in RINGS:
            try:
                devices = base.local_devices(self.conf, self.ring(name), self.only_devices)
            except ring_mod.RingLoadError as err:
                LOG.warning("%s: %s", self.name, err)
                self.stats.incr("ring_errors")
                continue
            for dev in devices:
                if self.stop_event.is_set():
                    return
                path = base.device_dir(self.conf, dev["device"])
                if name == "object":
                    self.audit_objects(path)
                else:
                    self.audit_dbs(path, name)

    # -- objects ----------------------------------------------------------------

    def audit_objects(self, dev_path: str) -> None:
        parts = [p for p in hashes_mod.list_partitions(dev_path) if self.partition_wanted(p)]
        for _part, _suffix, _hash, hash_dir in hashes_mod.iter_hash_dirs(dev_path, parts):
            if self.stop_event.is_set():
                return
            self.audit_object(hash_dir)

    def audit_object(self, hash_dir: str) -> bool:
        """Audit one object directory; False (and quarantined) when it is bad."""
        files = ondisk.gather_files(hash_dir)
        if not files.files:
            return True
        self.files.wait()
        try:
            for path in (files.ts, files.meta):
                if path:
                    self._check_metadata(path)
            if files.data:
                audit_data_file(files.data, self.bytes)
        except FileNotFoundError:
            return True  # replaced or deleted while we looked: not damage
        except AuditError as err:
            self._quarantine_object(hash_dir, str(err))
            return False
        self.stats.incr("objects_passed")
        return True

    @staticmethod
    def _check_metadata(path: str) -> None:
        try:
            ondisk.read_metadata(path)
        except ondisk.DiskFileMetadataError as err:
            raise AuditError(str(err))

    def _quarantine_object(self, hash_dir: str, reason: str) -> None:
        try:
            target = hashes_mod.quarantine(hash_dir)
        except OSError as err:
            LOG.error("%s: cannot quarantine %s (%s): %s", self.name, hash_dir, reason, err)
            self.stats.incr("errors")
            return
        LOG.warning("%s: quarantined %s to %s: %s", self.name, hash_dir, target, reason)
        self.stats.incr("objects_quarantined")

    # -- databases --------------------------------------------------------------

    def audit_dbs(self, dev_path: str, kind: str) -> None:
        root = os.path.join(dev_path, kind + "s")
        for part, part_dir in base.walk_dirs(root):
            if not self.partition_wanted(part):
                continue
            for _suffix, suffix_dir in base.walk_dirs(part_dir):
                for hash_, hash_dir in base.walk_dirs(suffix_dir):
                    if self.stop_event.is_set():
                        return
                    path = os.path.join(hash_dir, hash_ + ".db")
                    if os.path.isfile(path):
                        self.audit_db(path, kind)

    def audit_db(self, path: str, kind: str) -> bool:
        """Audit one database; False (and quarantined) when it is bad."""
        self.files.wait()
        try:
            audit_db_file(path, kind)
        except AuditError as err:
            try:
                target = db_mod.quarantine_db(path, kind)
            except OSError as move_err:
                LOG.error("%s: cannot quarantine %s: %s", self.name, path, move_err)
                self.stats.incr("errors")
                return False
            LOG.warning("%s: quarantined %s to %s: %s", self.name, path, target, err)
            self.stats.incr("dbs_quarantined")
            return False
        self.stats.incr("dbs_passed")
        return True
