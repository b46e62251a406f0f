"""Objects on disk (objectstore/README.md, "On disk"): read, write, delete, hash, quarantine.

What the object server, the replicator and the auditor use (all importable from here):

Objects
    ``DiskFile(device_path, partition, account, container, obj, chunk_size=65536,
    fsync=True)`` — one object; ``DiskFile.from_hash(device_path, partition, obj_hash)``
    when only the hash is known (replicator, auditor).

    - ``open(now=None, ignore_expiry=False) -> dict``: the merged metadata (``.data`` +
      newest ``.meta``); keeps the data file open for reading. Raises
      :class:`DiskFileNotExist`, :class:`DiskFileDeleted` (``.timestamp``),
      :class:`DiskFileExpired` (``.timestamp``, ``.metadata``) or
      :class:`DiskFileQuarantined` (bad metadata or size: moved aside). After it:
      ``metadata``, ``data_timestamp``, ``timestamp`` (newest of .data/.meta),
      ``content_length``, ``data_file``.
    - ``iter_range(start, stop)``, ``iter_all()`` (checks the ETag at the end and
      quarantines on mismatch), ``close()``.
    - ``writer(size=None)`` -> :class:`DiskFileWriter` (``write(chunk)``,
      ``etag``, ``bytes_written``, ``put(metadata)`` -> path of the ``.data``,
      ``abort()``; a context manager that aborts unless put).
    - ``write_meta(metadata)`` (a POST: ``.meta``), ``write_tombstone(timestamp,
      metadata=None)`` (a DELETE: ``.ts``). Every write goes to ``<device>/tmp``, is
      fsynced, renamed into the hash directory (fsynced too), removes the files it
      makes obsolete and invalidates its suffix hash.
    - ``ondisk() -> OnDisk`` (``data``/``meta``/``ts`` paths that count).

Files and metadata
    ``read_metadata(fd_or_path) -> dict``, ``write_metadata(fd_or_path, dict)``,
    ``check_xattr_support(path)`` (raises :class:`XattrNotSupported`),
    ``gather_files(hash_dir, reclaim_age=None) -> OnDisk``,
    ``cleanup_hash_dir(hash_dir, reclaim_age=None) -> OnDisk``,
    ``file_timestamp(path) -> Timestamp``, ``merge_metadata(data_meta, meta_meta)``.

Partitions
    ``get_hashes(device_path, partition, recalculate=None, reclaim_age=ONE_WEEK) ->
    {suffix: md5}``; ``invalidate_suffix(partition_dir, suffix)``;
    ``suffix_inventory(device_path, partition, suffixes) -> {hash: {"data", "meta", "ts",
    "name"}}``; ``list_partitions(device_path)``; ``iter_hash_dirs(device_path,
    partitions=None)`` -> ``(partition, suffix, hash, hash_dir)``;
    ``quarantine(hash_dir) -> new path`` (``<device>/quarantined/objects/<hash>``);
    ``object_dir(device_path, partition, obj_hash)``.

Metadata values are WSGI strings (header bytes decoded as latin-1), except ``name``
(real text): sent back as headers they give the bytes that came in.
"""
from __future__ import annotations

import concurrent.futures
import errno
import hashlib
import os
import tempfile
import time
from typing import Iterator

from objectstore.common.utils import Timestamp, hash_path
from objectstore.obj.hashes import (  # noqa: F401  (re-exported)
    get_hashes, invalidate_suffix, iter_hash_dirs, list_partitions, partition_dir,
    quarantine, suffix_inventory)
from objectstore.obj.ondisk import (  # noqa: F401  (re-exported)
    DATA, META, ONE_WEEK, TOMBSTONE, DiskFileError, DiskFileMetadataError, DiskFileNoSpace,
    OnDisk, XattrNotSupported, check_xattr_support, cleanup_hash_dir, file_timestamp, fsync_dir,
    gather_files, merge_metadata, read_metadata, write_metadata)


class DiskFileNotExist(DiskFileError):
    """No object here (never written, or quarantined)."""

    timestamp: Timestamp | None = None


class DiskFileDeleted(DiskFileNotExist):
    """The newest file is a tombstone."""

    def __init__(self, timestamp: Timestamp, metadata: dict[str, str]) -> None:
        super().__init__("deleted at %s" % timestamp.internal)
        self.timestamp = timestamp
        self.metadata = metadata


class DiskFileExpired(DiskFileNotExist):
    """The object's X-Delete-At has passed (the data stays until the expirer deletes it)."""

    def __init__(self, timestamp: Timestamp, metadata: dict[str, str]) -> None:
        super().__init__("expired at %s" % metadata.get("X-Delete-At"))
        self.timestamp = timestamp
        self.metadata = metadata


class DiskFileQuarantined(DiskFileNotExist):
    """The object was bad and has just been moved to quarantine."""


#: Bytes from which an upload of known size is preallocated (``posix_fallocate``).
PREALLOCATE_MIN = 65536


def object_dir(device_path: str, partition: int | str, obj_hash: str) -> str:
    """``<device>/objects/<partition>/<suffix>/<hash>``."""
    return os.path.join(partition_dir(device_path, partition), obj_hash[-3:], obj_hash)


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFileNoSpace(str(exc))
            raise
        view = view[written:]


class DiskFile:
    """One object of one device (see the module docstring)."""

    def __init__(self, device_path: str, partition: int | str, account: str | None,
                 container: str | None, obj: str | None, chunk_size: int = 65536,
                 fsync: bool = True, obj_hash: str | None = None) -> None:
        self.device_path = device_path
        self.partition = str(partition)
        self.name = "/%s/%s/%s" % (account, container, obj) if obj is not None else None
        if obj_hash is None:
            if account is None or container is None or obj is None:
                raise ValueError("an object needs its name or its hash")
            obj_hash = hash_path(account, container, obj)
        self.hash = obj_hash
        self.hash_dir = object_dir(device_path, partition, obj_hash)
        self.chunk_size = chunk_size
        self.fsync = fsync
        self.metadata: dict[str, str] = {}
        self.data_file: str | None = None
        self.data_timestamp: Timestamp | None = None
        self.timestamp: Timestamp | None = None
        self.content_length = 0
        self._fd: int | None = None

    @classmethod
    def from_hash(cls, device_path: str, partition: int | str, obj_hash: str,
                  chunk_size: int = 65536, fsync: bool = True) -> DiskFile:
        df = cls(device_path, partition, None, None, None, chunk_size, fsync, obj_hash)
        return df

    # -- reading -----------------------------------------------------------------------

    def ondisk(self) -> OnDisk:
        return gather_files(self.hash_dir)

    def open(self, now: float | None = None, ignore_expiry: bool = False) -> dict[str, str]:
        """Load the object's state and open its data (see the module docstring)."""
        self.close()
        for _attempt in range(3):
            files = self.ondisk()
            if files.ts:
                raise DiskFileDeleted(file_timestamp(files.ts), _quiet_metadata(files.ts))
            if not files.data:
                raise DiskFileNotExist("no object")
            try:
                self._open_data(files)
                break
            except FileNotFoundError:
                continue  # replaced under us: look again
        else:
            raise DiskFileNotExist("object keeps changing")
        delete_at = self.metadata.get("X-Delete-At")
        if delete_at and not ignore_expiry and \
                int(delete_at) <= (now if now is not None else time.time()):
            self.close()
            assert self.timestamp is not None
            raise DiskFileExpired(self.timestamp, self.metadata)
        return self.metadata

    def _open_data(self, files: OnDisk) -> None:
        assert files.data is not None
        fd = os.open(files.data, os.O_RDONLY)
        try:
            data_meta = read_metadata(fd)
            meta_meta = read_metadata(files.meta) if files.meta else None
            size = os.fstat(fd).st_size
            if str(size) != data_meta.get("Content-Length", str(size)):
                raise DiskFileMetadataError("size %d does not match the metadata" % size)
        except DiskFileMetadataError:
            os.close(fd)
            self.quarantine()
            raise DiskFileQuarantined("bad object moved to quarantine")
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self.data_file = files.data
        self.metadata = merge_metadata(data_meta, meta_meta)
        self.data_timestamp = file_timestamp(files.data)
        self.timestamp = max(self.data_timestamp, file_timestamp(files.meta)) \
            if files.meta else self.data_timestamp
        self.content_length = size

    def iter_range(self, start: int, stop: int) -> Iterator[bytes]:
        """The bytes ``start`` to ``stop`` (exclusive) of the open object, in chunks."""
        fd = self._fd
        if fd is None:
            raise DiskFileError("not open")
        pos = start
        while pos < stop:
            chunk = os.pread(fd, min(self.chunk_size, stop - pos), pos)
            if not chunk:
                return
            pos += len(chunk)
            yield chunk

    def iter_all(self) -> Iterator[bytes]:
        """The whole object; when it was read to the end and its md5 is not the stored
        ETag, the object is quarantined (a bit rot found by a reader)."""
        md5 = hashlib.md5(usedforsecurity=False)
        for chunk in self.iter_range(0, self.content_length):
            md5.update(chunk)
            yield chunk
        etag = self.metadata.get("ETag")
        if etag and md5.hexdigest() != etag:
            self.close()
            try:
                self.quarantine()
            except FileNotFoundError:
                pass  # replaced or removed meanwhile

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def quarantine(self) -> str:
        return quarantine(self.hash_dir)

    # -- writing -----------------------------------------------------------------------

    def tmp_dir(self) -> str:
        path = os.path.join(self.device_path, "tmp")
        os.makedirs(path, exist_ok=True)
        return path

    def mkstemp(self) -> tuple[int, str]:
        """A new temporary file in ``<device>/tmp`` (made when missing)."""
        try:
            return tempfile.mkstemp(dir=os.path.join(self.device_path, "tmp"), suffix=".tmp")
        except FileNotFoundError:
            return tempfile.mkstemp(dir=self.tmp_dir(), suffix=".tmp")

    def writer(self, size: int | None = None, sync_every: int = 0,
               sync_pool: concurrent.futures.Executor | None = None) -> DiskFileWriter:
        return DiskFileWriter(self, size, sync_every, sync_pool)

    def write_meta(self, metadata: dict[str, str]) -> str:
        """Store a POST's metadata as ``<X-Timestamp>.meta``; returns its path."""
        return self._write_empty(metadata, META)

    def write_tombstone(self, timestamp: Timestamp,
                        metadata: dict[str, str] | None = None) -> str:
        """Store a DELETE as ``<timestamp>.ts``; returns its path."""
        meta = dict(metadata or {})
        meta["X-Timestamp"] = timestamp.internal
        if self.name:
            meta.setdefault("name", self.name)
        return self._write_empty(meta, TOMBSTONE)

    def _write_empty(self, metadata: dict[str, str], ext: str) -> str:
        fd, tmp = self.mkstemp()
        try:
            write_metadata(fd, metadata)
            if self.fsync:
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        os.close(fd)
        return self.commit(tmp, Timestamp(metadata["X-Timestamp"]).internal + ext)

    def commit(self, tmp_path: str, filename: str) -> str:
        """Rename a finished temp file into the hash directory, make it durable, drop the
        files it obsoletes and invalidate the suffix hash."""
        new_entries = self._make_dirs()
        target = os.path.join(self.hash_dir, filename)
        os.rename(tmp_path, target)
        if self.fsync:
            fsync_dir(self.hash_dir)
            for parent in new_entries:
                fsync_dir(parent)
        cleanup_hash_dir(self.hash_dir)
        invalidate_suffix(os.path.dirname(os.path.dirname(self.hash_dir)), self.hash[-3:])
        return target


    def _make_dirs(self) -> list[str]:
        """Make the hash directory and whichever of its suffix, partition and
        ``objects`` directories are missing; the directories that got a new entry
        (to fsync, so the new directories survive a crash)."""
        missing = []
        path = self.hash_dir
        for _level in range(4):  # hash, suffix, partition, objects
            if os.path.isdir(path):
                break
            missing.append(path)
            path = os.path.dirname(path)
        if missing:
            os.makedirs(self.hash_dir, exist_ok=True)
        return [os.path.dirname(p) for p in missing]


class DiskFileWriter:
    """Writes a new ``.data``: bytes into a temp file (md5 on the way), then
    :meth:`put` with the metadata. Use as a context manager: leaving it without
    ``put`` removes the temp file.

    With ``sync_every`` and a ``sync_pool``, each time that many more bytes were
    written an ``fdatasync`` of the file runs in the pool while the writing goes on
    (one at a time), so that the fsync of :meth:`put` has little left to do: on our
    virtual disks the flush of a whole 256 MiB upload at the end took most of a
    second, which the client waited for after its last byte. The fsync before the
    answer stays; a failed background fdatasync fails the write (its error would not
    be reported again to the final fsync of the same file).

    The synced bytes of such a large upload then leave the page cache (as Swift's
    object server drops what it wrote): the rest of the upload reuses those pages
    instead of taking new ones (on our virtual machines, memory the guest never used
    before costs several times more to write to), and one large object does not
    push everything else out of the cache. Small objects stay cached."""

    def __init__(self, diskfile: DiskFile, size: int | None = None, sync_every: int = 0,
                 sync_pool: concurrent.futures.Executor | None = None) -> None:
        self.diskfile = diskfile
        self.bytes_written = 0
        self.sync_every = sync_every if diskfile.fsync and sync_pool is not None else 0
        self._sync_pool = sync_pool
        self._synced_at = 0
        self._sync: concurrent.futures.Future[None] | None = None
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._fd, self._tmp = diskfile.mkstemp()
        self._done = False
        self._preallocated = False
        # Small objects are not preallocated: their one write finds a full disk as
        # early, and preallocating costs them more than the write.
        if size and size >= PREALLOCATE_MIN:
            try:
                os.posix_fallocate(self._fd, 0, size)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    self.abort()
                    raise DiskFileNoSpace(str(exc))
            else:
                self._preallocated = True

    def __enter__(self) -> DiskFileWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self._done:
            self.abort()

    @property
    def etag(self) -> str:
        return self._md5.hexdigest()

    def write(self, chunk: bytes | memoryview) -> None:
        _write_all(self._fd, chunk)
        self._md5.update(chunk)
        self.bytes_written += len(chunk)
        if self.sync_every and self.bytes_written - self._synced_at >= self.sync_every:
            self._sync_in_background()

    def _sync_in_background(self) -> None:
        """Start an fdatasync in the pool unless one is still running; raises the
        error of the last one."""
        if self._sync is not None:
            if not self._sync.done():
                return
            self._sync.result()
        assert self._sync_pool is not None
        self._sync = self._sync_pool.submit(_sync_and_drop, self._fd, self._synced_at,
                                            self.bytes_written)
        self._synced_at = self.bytes_written

    def _settle_sync(self) -> None:
        """Before the file is closed: no background fdatasync may use its descriptor
        any more (a queued one is dropped). Raises the error of the last one."""
        sync, self._sync = self._sync, None
        if sync is not None and not sync.cancel():
            sync.result()

    def put(self, metadata: dict[str, str]) -> str:
        """Finish: ``metadata`` (with ``X-Timestamp``) goes on the file, which becomes
        ``<X-Timestamp>.data``. Returns its path."""
        timestamp = Timestamp(metadata["X-Timestamp"])
        self._settle_sync()
        if self._preallocated:
            os.ftruncate(self._fd, self.bytes_written)  # drop unused preallocation
        write_metadata(self._fd, metadata)
        if self.diskfile.fsync:
            os.fsync(self._fd)
        if self.sync_every and self.bytes_written >= self.sync_every:
            _drop_cache(self._fd, 0, 0)  # a large upload: none of it stays cached
        os.close(self._fd)
        self._done = True
        try:
            return self.diskfile.commit(self._tmp, timestamp.internal + DATA)
        except BaseException:
            if os.path.exists(self._tmp):
                os.unlink(self._tmp)
            raise

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        try:
            self._settle_sync()
        except OSError:
            pass  # the upload is dropped anyway
        os.close(self._fd)
        try:
            os.unlink(self._tmp)
        except FileNotFoundError:
            pass


def _drop_cache(fd: int, start: int, end: int) -> None:
    """Drop bytes ``start`` to ``end`` (0: the end of the file) of ``fd`` from the page
    cache; written pages must have been synced (dirty ones would stay)."""
    os.posix_fadvise(fd, start, end - start if end else 0, os.POSIX_FADV_DONTNEED)


def _sync_and_drop(fd: int, start: int, end: int) -> None:
    """The background sync of :class:`DiskFileWriter`: make the file's data durable so
    far, then drop bytes ``start`` to ``end`` from the page cache."""
    os.fdatasync(fd)
    _drop_cache(fd, start, end)


def _quiet_metadata(path: str) -> dict[str, str]:
    try:
        return read_metadata(path)
    except (OSError, DiskFileMetadataError):
        return {}
