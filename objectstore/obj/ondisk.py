"""The file level of the object layout: metadata xattrs, file names, obsolete files.

Used by :mod:`objectstore.obj.diskfile` (which re-exports what other parts need) and
:mod:`objectstore.obj.hashes`. See objectstore/README.md, "On disk".

A hash directory holds ``<timestamp>.data`` (the bytes, metadata in xattrs),
``<timestamp>.meta`` (an empty file whose xattrs replace the user metadata: a POST) and
``<timestamp>.ts`` (an empty tombstone: a DELETE). Only the newest state matters;
older files are obsolete and removed after each write (:func:`cleanup_hash_dir`).
"""
from __future__ import annotations

import dataclasses
import errno
import json
import os
import tempfile
import time
from typing import Any

from objectstore.common.utils import Timestamp

#: xattr name of the JSON metadata; longer blobs continue in ``…metadata1``, ``…2``, …
METADATA_XATTR = "user.stratus.metadata"
#: Bytes of JSON per xattr (the Linux limit of one xattr value is 64 KiB).
XATTR_CHUNK = 65536
#: Seconds a tombstone is kept by default before it is reclaimed.
ONE_WEEK = 604800

DATA, META, TOMBSTONE = ".data", ".meta", ".ts"
_EXT_RANK = {TOMBSTONE: 2, DATA: 1, META: 0}


class DiskFileError(Exception):
    """Base of the disk layer's errors."""


class DiskFileNoSpace(DiskFileError):
    """The device is full (507)."""


class DiskFileMetadataError(DiskFileError):
    """A file's metadata xattrs are missing or not a JSON object (quarantine it)."""


class XattrNotSupported(DiskFileError, RuntimeError):
    """The file system of a device does not keep user extended attributes."""


def _xattr_key(index: int) -> str:
    return METADATA_XATTR + (str(index) if index else "")


def write_metadata(target: int | str, metadata: dict[str, str]) -> None:
    """Store ``metadata`` (str -> str) as JSON in the xattrs of a file (fd or path).

    :raises XattrNotSupported: when the file system refuses user xattrs.
    :raises DiskFileNoSpace: when the file system has no room for them.
    """
    blob = json.dumps(metadata, sort_keys=True).encode("ascii")
    chunks = [blob[i:i + XATTR_CHUNK] for i in range(0, len(blob), XATTR_CHUNK)] or [b""]
    try:
        for index, chunk in enumerate(chunks):
            os.setxattr(target, _xattr_key(index), chunk)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            raise XattrNotSupported("the file system does not support user xattrs")
        if exc.errno in (errno.ENOSPC, errno.E2BIG, errno.EDQUOT):
            raise DiskFileNoSpace("no room for the metadata: %s" % exc)
        raise


def read_metadata(target: int | str) -> dict[str, str]:
    """The metadata of a file (fd or path).

    :raises DiskFileMetadataError: when the xattrs are missing or corrupt.
    :raises FileNotFoundError: when the path does not exist.
    """
    blob = b""
    index = 0
    while True:
        try:
            blob += os.getxattr(target, _xattr_key(index))
        except OSError as exc:
            if exc.errno == errno.ENODATA and index:
                break
            if exc.errno == errno.ENODATA:
                raise DiskFileMetadataError("no metadata on %s" % target)
            raise
        index += 1
    try:
        metadata = json.loads(blob)
    except ValueError:
        raise DiskFileMetadataError("corrupt metadata on %s" % target)
    if not isinstance(metadata, dict):
        raise DiskFileMetadataError("metadata of %s is not an object" % target)
    return {str(k): str(v) for k, v in metadata.items()}


def check_xattr_support(path: str) -> None:
    """Make sure ``path`` (a device directory) keeps user xattrs, where all object
    metadata lives.

    :raises XattrNotSupported: with a message naming the directory and what to use.
    """
    fd, probe = tempfile.mkstemp(dir=path, prefix=".xattr-check-")
    try:
        os.setxattr(fd, "user.stratus.check", b"1")
        if os.getxattr(fd, "user.stratus.check") != b"1":
            raise OSError(errno.ENOTSUP, "xattr value not kept")
    except OSError as exc:
        if exc.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        raise XattrNotSupported(
            "object store device directory %s does not support user extended attributes "
            "(xattrs), where object metadata is kept; put the devices on ext4 or xfs, or "
            "on a loop-mounted file system image of one of them" % path)
    finally:
        os.close(fd)
        os.unlink(probe)


def fsync_dir(path: str) -> None:
    """Make a rename or create in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_timestamp(path_or_name: str) -> Timestamp:
    """The timestamp in a ``<timestamp>.<ext>`` file name."""
    name = os.path.basename(path_or_name)
    return Timestamp(name.rsplit(".", 1)[0])


@dataclasses.dataclass
class OnDisk:
    """What a hash directory holds: paths of the files that count, and obsolete ones."""

    data: str | None = None
    meta: str | None = None
    ts: str | None = None
    obsolete: list[str] = dataclasses.field(default_factory=list)

    def timestamp_of(self, kind: str) -> str | None:
        """``Timestamp.internal`` of the ``data``, ``meta`` or ``ts`` file, or None."""
        path = getattr(self, kind)
        return file_timestamp(path).internal if path else None

    @property
    def files(self) -> list[str]:
        return [p for p in (self.data, self.meta, self.ts) if p]


def _sorted_files(hash_dir: str) -> list[tuple[Timestamp, str, str]]:
    """``(timestamp, ext, path)`` of the object files, newest first (``.ts`` before
    ``.data`` before ``.meta`` at the same timestamp). Other files are ignored."""
    try:
        names = os.listdir(hash_dir)
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        base, dot, ext = name.rpartition(".")
        if not dot or "." + ext not in _EXT_RANK:
            continue
        try:
            stamp = Timestamp(base)
        except ValueError:
            continue
        found.append((stamp, "." + ext, os.path.join(hash_dir, name)))
    found.sort(key=lambda item: (item[0], _EXT_RANK[item[1]]), reverse=True)
    return found


def gather_files(hash_dir: str, reclaim_age: float | None = None,
                 now: float | None = None) -> OnDisk:
    """Sort a hash directory's files into the ones that count and the obsolete ones.

    The newest ``.data`` or ``.ts`` decides: with a ``.data`` the newest ``.meta``
    newer than it applies; everything older is obsolete. With ``reclaim_age`` a
    tombstone older than that many seconds is obsolete too.
    """
    result = OnDisk()
    decided = False  # a .data or .ts was seen: everything older is obsolete
    for stamp, ext, path in _sorted_files(hash_dir):
        if decided:
            result.obsolete.append(path)
        elif ext == META:
            if result.meta:
                result.obsolete.append(path)
            else:
                result.meta = path
        elif ext == DATA:
            decided = True
            result.data = path
        else:
            decided = True
            result.ts = path
            if result.meta:  # a POST newer than a DELETE has nothing to apply to
                result.obsolete.append(result.meta)
                result.meta = None
            if _older_than(stamp, reclaim_age, now):
                result.obsolete.append(path)
                result.ts = None
    if not decided and result.meta and _older_than(file_timestamp(result.meta), reclaim_age, now):
        result.obsolete.append(result.meta)  # a POST whose object never arrived
        result.meta = None
    return result


def _older_than(stamp: Timestamp, age: float | None, now: float | None) -> bool:
    return age is not None and float(stamp) < (now if now is not None else time.time()) - age


def cleanup_hash_dir(hash_dir: str, reclaim_age: float | None = None) -> OnDisk:
    """Remove the obsolete files of a hash directory (and the directory when nothing
    is left); returns what remains."""
    ondisk = gather_files(hash_dir, reclaim_age)
    for path in ondisk.obsolete:
        _unlink_quietly(path)
    ondisk.obsolete = []
    if not ondisk.files:
        try:
            os.rmdir(hash_dir)
        except OSError:
            pass  # not empty (temp or foreign files) or already gone
    return ondisk


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass  # a concurrent cleanup got there first


def merge_metadata(data_meta: dict[str, str], meta_meta: dict[str, str] | None
                   ) -> dict[str, str]:
    """The metadata an object shows: a ``.meta`` (POST) replaces everything a POST may
    set; what the PUT fixed (name, size, ETag, sysmeta, SLO flag) stays from ``.data``,
    and Content-Type too unless the POST gave one."""
    if not meta_meta:
        return dict(data_meta)
    merged = {key: value for key, value in data_meta.items() if is_data_only_key(key)}
    merged.update(meta_meta)
    if "Content-Type" not in meta_meta and "Content-Type" in data_meta:
        merged["Content-Type"] = data_meta["Content-Type"]
    return merged


_DATA_ONLY_KEYS = {"name", "content-length", "etag", "x-static-large-object"}


def is_data_only_key(key: str) -> bool:
    """True for metadata a POST cannot change."""
    lkey = key.lower()
    return lkey in _DATA_ONLY_KEYS or lkey.startswith("x-object-sysmeta-")


def hash_dir_metadata(ondisk: OnDisk) -> dict[str, Any]:
    """The metadata of the file that names the object best (data, else ts, else meta);
    empty when none is readable."""
    for path in (ondisk.data, ondisk.ts, ondisk.meta):
        if not path:
            continue
        try:
            return read_metadata(path)
        except (OSError, DiskFileMetadataError):
            continue
    return {}
