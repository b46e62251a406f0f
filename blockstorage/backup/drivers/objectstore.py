"""Backups in the object store (like Cinder's Swift backup driver, in facts only).

The volume is read in pieces of ``[backup] backup_object_size`` bytes; each
piece is compressed (``[backup] backup_compression_algorithm``) and stored as
``<prefix>-<nnnnn>`` in the backup's container (the request's, or ``[backup]
backup_container``), its md5 checked by the object store (``ETag``). A JSON
manifest ``<prefix>_metadata`` lists the pieces (name, offset, length, md5 of
the stored bytes, compression); it is written last, so a backup without one
never completed. ``prefix`` is
``volume_<volume_id>/<YYYYmmddHHMMSS>/az_<zone>_backup_<backup_id>`` and is
recorded in the backup's ``service_metadata``. Restores read the manifest and
write each piece back at its offset; deletes remove every object under the
prefix. Runs of zeros are stored too: compressed they are tiny.
"""
from __future__ import annotations

import bz2
import datetime
import hashlib
import json
import zlib
from typing import Any, BinaryIO

from oslo_config import cfg
from oslo_log import log as logging

from blockstorage import exception
from blockstorage.backup.drivers import base
from blockstorage.clients import objectstore

LOG = logging.getLogger(__name__)
MANIFEST_VERSION = "1.0.0"
MANIFEST_SUFFIX = "_metadata"
_DIGITS = 5
_ALIASES = {"gzip": "zlib", "bzip2": "bz2", "off": "none", "no": "none"}


def compression_name(value: str | None) -> str:
    """The canonical name of a compression setting: ``zlib``, ``bz2`` or ``none``."""
    name = (value or "none").lower()
    return _ALIASES.get(name, name)


def compress(data: bytes, algorithm: str) -> bytes:
    """``data`` compressed with ``algorithm`` (a canonical name)."""
    if algorithm == "zlib":
        # level 1: several times faster than the default on data that does not
        # compress (most of a used disk), nearly as small on runs of zeros
        return zlib.compress(data, 1)
    if algorithm == "bz2":
        return bz2.compress(data)
    return data


def decompress(data: bytes, algorithm: str | None) -> bytes:
    """The inverse of :func:`compress`.

    :raises: BackupDriverException for an unknown algorithm or corrupt data.
    """
    name = compression_name(algorithm)
    try:
        if name == "zlib":
            return zlib.decompress(data)
        if name == "bz2":
            return bz2.decompress(data)
    except (zlib.error, OSError, ValueError) as err:
        raise exception.BackupDriverException(reason="corrupt %s data: %s" % (name, err))
    if name != "none":
        raise exception.BackupDriverException(reason="unknown compression %s" % algorithm)
    return data


def _timestamp(value: Any) -> str:
    if isinstance(value, str) and value:
        value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime.now(datetime.timezone.utc)
    return value.strftime("%Y%m%d%H%M%S")


def object_prefix(backup: dict[str, Any]) -> str:
    """The prefix of the backup's objects: its ``service_metadata`` once recorded,
    else ``volume_<volume_id>/<created_at>/az_<zone>_backup_<id>``."""
    recorded = backup.get("service_metadata")
    if recorded:
        return str(recorded)
    return "volume_%s/%s/az_%s_backup_%s" % (
        backup["volume_id"], _timestamp(backup.get("created_at")),
        backup.get("availability_zone") or "nova", backup["id"])


def _read_full(source: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes, short only at the end of ``source``."""
    parts: list[bytes] = []
    left = size
    while left > 0:
        piece = source.read(left)
        if not piece:
            break
        parts.append(piece)
        left -= len(piece)
    return b"".join(parts)


class ObjectStoreBackupDriver(base.BackupDriver):
    """Backups as compressed objects plus a manifest in the project's account."""

    name = "objectstore"

    def __init__(self, conf: cfg.ConfigOpts, store: objectstore.ObjectStoreAPI) -> None:
        self.conf = conf
        self.store = store

    def _container(self, backup: dict[str, Any]) -> str:
        return str(backup.get("container") or self.conf.backup.backup_container)

    def backup(self, backup: dict[str, Any], volume_file: BinaryIO) -> dict[str, Any]:
        """Store the volume's data as pieces and a manifest; see the module docstring.

        Pieces already stored are removed again when the backup fails.

        :raises: ObjectStoreError; OSError when the volume cannot be read.
        """
        container = self._container(backup)
        prefix = object_prefix(backup)
        algorithm = compression_name(self.conf.backup.backup_compression_algorithm)
        size = int(self.conf.backup.backup_object_size)
        self.store.put_container(container)
        pieces: list[dict[str, Any]] = []
        try:
            offset = 0
            while True:
                data = _read_full(volume_file, size)
                if not data:
                    break
                pieces.append(self._put_piece(container, prefix, len(pieces) + 1, offset,
                                              data, algorithm))
                offset += len(data)
            manifest = self._manifest(backup, container, prefix, algorithm, offset, pieces)
            self.store.put_object(container, prefix + MANIFEST_SUFFIX,
                                  json.dumps(manifest, indent=1).encode(),
                                  {"Content-Type": "application/json"})
        except BaseException:
            self._remove(container, [p["name"] for p in pieces])
            raise
        LOG.info("Backup %(backup)s: %(n)d objects, %(bytes)d bytes in %(c)s/%(p)s",
                 {"backup": backup["id"], "n": len(pieces), "bytes": offset,
                  "c": container, "p": prefix})
        return {"container": container, "object_count": len(pieces),
                "service_metadata": prefix, "service": self.name}

    def _put_piece(self, container: str, prefix: str, number: int, offset: int,
                   data: bytes, algorithm: str) -> dict[str, Any]:
        stored = compress(data, algorithm)
        md5 = hashlib.md5(stored, usedforsecurity=False).hexdigest()
        name = "%s-%0*d" % (prefix, _DIGITS, number)
        # The ETag makes the object store check what it received (422 otherwise).
        self.store.put_object(container, name, stored, {"ETag": md5})
        return {"name": name, "offset": offset, "length": len(data), "md5": md5,
                "compression": algorithm}

    def _manifest(self, backup: dict[str, Any], container: str, prefix: str,
                  algorithm: str, size: int, pieces: list[dict[str, Any]]) -> dict[str, Any]:
        created = backup.get("created_at")
        return {"version": MANIFEST_VERSION, "backup_id": backup["id"],
                "volume_id": backup["volume_id"], "backup_name": backup.get("name"),
                "backup_description": backup.get("description"),
                "created_at": created if isinstance(created, str) else str(created),
                "container": container, "prefix": prefix, "compression": algorithm,
                "object_size": int(self.conf.backup.backup_object_size),
                "size_bytes": size, "objects": pieces}

    def read_manifest(self, backup: dict[str, Any]) -> dict[str, Any]:
        """The backup's manifest.

        :raises: BackupDriverException when it is missing or unreadable;
            ObjectStoreError on other failures.
        """
        container = self._container(backup)
        name = object_prefix(backup) + MANIFEST_SUFFIX
        try:
            raw = b"".join(self.store.get_object(container, name))
        except exception.ObjectStoreError as err:
            if err.kwargs.get("status") == 404:
                raise exception.BackupDriverException(
                    reason="backup %s has no manifest %s/%s (never completed?)"
                    % (backup["id"], container, name)) from err
            raise
        try:
            manifest = json.loads(raw)
        except ValueError as err:
            raise exception.BackupDriverException(
                reason="manifest %s/%s is not JSON: %s" % (container, name, err)) from err
        if not isinstance(manifest, dict) or not isinstance(manifest.get("objects"), list):
            raise exception.BackupDriverException(
                reason="manifest %s/%s lists no objects" % (container, name))
        return manifest

    def restore(self, backup: dict[str, Any], volume_id: str,
                volume_file: BinaryIO) -> None:
        """Write every piece of the manifest back at its offset, each checked.

        :raises: BackupDriverException (no manifest, a piece missing or corrupt),
            ObjectStoreError; OSError on writes.
        """
        manifest = self.read_manifest(backup)
        container = str(manifest.get("container") or self._container(backup))
        for piece in manifest["objects"]:
            data = self._get_piece(container, piece)
            volume_file.seek(int(piece["offset"]))
            volume_file.write(data)
        volume_file.flush()
        LOG.info("Restored backup %(backup)s (%(n)d objects) into volume %(volume)s",
                 {"backup": backup["id"], "n": len(manifest["objects"]), "volume": volume_id})

    def _get_piece(self, container: str, piece: dict[str, Any]) -> bytes:
        name = str(piece["name"])
        try:
            stored = b"".join(self.store.get_object(container, name))
        except exception.ObjectStoreError as err:
            if err.kwargs.get("status") == 404:
                raise exception.BackupDriverException(
                    reason="object %s/%s is missing" % (container, name)) from err
            raise
        md5 = hashlib.md5(stored, usedforsecurity=False).hexdigest()
        if piece.get("md5") and md5 != piece["md5"]:
            raise exception.BackupDriverException(
                reason="object %s/%s: md5 %s, the manifest says %s"
                % (container, name, md5, piece["md5"]))
        data = decompress(stored, piece.get("compression"))
        if len(data) != int(piece["length"]):
            raise exception.BackupDriverException(
                reason="object %s/%s holds %d bytes, the manifest says %s"
                % (container, name, len(data), piece["length"]))
        return data

    def delete_backup(self, backup: dict[str, Any]) -> None:
        """Delete every object under the backup's prefix (pieces and manifest).

        :raises: ObjectStoreError.
        """
        container = self._container(backup)
        names = self.store.list_objects(container, prefix=object_prefix(backup))
        for name in names:
            self.store.delete_object(container, name)
        LOG.info("Deleted %(n)d objects of backup %(backup)s from %(c)s",
                 {"n": len(names), "backup": backup["id"], "c": container})

    def _remove(self, container: str, names: list[str]) -> None:
        for name in names:
            try:
                self.store.delete_object(container, name)
            except exception.ObjectStoreError as err:
                LOG.warning("Could not remove %(c)s/%(n)s of a failed backup: %(e)s",
                            {"c": container, "n": name, "e": err})
