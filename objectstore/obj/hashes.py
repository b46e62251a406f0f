"""Partition-level views of the object layout: suffix hashes, inventories, quarantine.

``objects/<partition>/hashes.json`` caches ``{suffix: hash}``; a write invalidates
its suffix by appending its name to ``hashes.invalid`` (much cheaper than rewriting
``hashes.json`` on every write), and :func:`get_hashes` folds those in and
recalculates them lazily. The hash of a suffix is the md5 of ``<hash>/<file name>``
of every object file in it, sorted, after removing obsolete files — so two replicas
holding the same files (same timestamps) hash equal, and the replicator only compares
suffixes that differ.

The partition's ``.lock`` file (``flock``) serializes readers and writers of
``hashes.json`` and ``hashes.invalid`` across threads and processes.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import uuid
from typing import Iterator

from objectstore.obj import ondisk

HASHES_FILE = "hashes.json"
INVALID_FILE = "hashes.invalid"
LOCK_FILE = ".lock"


def partition_dir(device_path: str, partition: int | str) -> str:
    return os.path.join(device_path, "objects", str(partition))


def _is_suffix(name: str) -> bool:
    return len(name) == 3 and all(c in "0123456789abcdef" for c in name)


@contextlib.contextmanager
def _locked(part_dir: str) -> Iterator[None]:
    fd = os.open(os.path.join(part_dir, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _load(part_dir: str) -> dict[str, str | None] | None:
    """The cached hashes, or None when there is no usable cache."""
    try:
        with open(os.path.join(part_dir, HASHES_FILE), "rb") as f:
            hashes = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(hashes, dict):
        return None
    return {str(k): (str(v) if v is not None else None) for k, v in hashes.items()}


def _save(part_dir: str, hashes: dict[str, str | None]) -> None:
    """Replace hashes.json (the partition lock held: one temporary name is enough)."""
    tmp = os.path.join(part_dir, ".hashes.tmp")
    try:
        with open(tmp, "w") as f:
            f.write(json.dumps(hashes, sort_keys=True))
        os.rename(tmp, os.path.join(part_dir, HASHES_FILE))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _take_invalid(part_dir: str) -> tuple[set[str], bool]:
    """The suffixes listed in hashes.invalid (partition lock held), and whether the
    file has anything to empty once they are accounted for."""
    try:
        with open(os.path.join(part_dir, INVALID_FILE), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return set(), False
    return {s for s in data.decode("ascii", "replace").split() if _is_suffix(s)}, bool(data)


def invalidate_suffix(part_dir: str, suffix: str) -> None:
    """Mark a suffix changed, so the next :func:`get_hashes` rehashes it."""
    with _locked(part_dir):
        fd = os.open(os.path.join(part_dir, INVALID_FILE),
                     os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, suffix.encode("ascii") + b"\n")
        finally:
            os.close(fd)


def hash_suffix(suffix_dir: str, reclaim_age: float | None = ondisk.ONE_WEEK) -> str | None:
    """The md5 of a suffix's object files after cleaning each hash directory; None (and
    the directory removed) when nothing is left in it."""
    md5 = hashlib.md5(usedforsecurity=False)
    found = False
    try:
        names = sorted(os.listdir(suffix_dir))
    except FileNotFoundError:
        return None
    for obj_hash in names:
        hash_dir = os.path.join(suffix_dir, obj_hash)
        if not os.path.isdir(hash_dir):
            continue
        remaining = ondisk.cleanup_hash_dir(hash_dir, reclaim_age)
        for path in sorted(remaining.files):
            md5.update(("%s/%s\n" % (obj_hash, os.path.basename(path))).encode())
            found = True
    if not found:
        with contextlib.suppress(OSError):
            os.rmdir(suffix_dir)
        return None
    return md5.hexdigest()


def get_hashes(device_path: str, partition: int | str, recalculate: list[str] | None = None,
               reclaim_age: float | None = ondisk.ONE_WEEK) -> dict[str, str]:
    """``{suffix: hash}`` of a partition (empty when it does not exist here),
    recalculating invalidated suffixes, new ones and those in ``recalculate``."""
    part_dir = partition_dir(device_path, partition)
    if not os.path.isdir(part_dir):
        return {}
    with _locked(part_dir):
        cached = _load(part_dir)
        hashes: dict[str, str | None] = dict(cached) if cached is not None else {}
        invalid, pending = _take_invalid(part_dir)
        on_disk = {name for name in os.listdir(part_dir)
                   if _is_suffix(name) and os.path.isdir(os.path.join(part_dir, name))}
        for suffix in on_disk:
            hashes.setdefault(suffix, None)
        for suffix in invalid.union(recalculate or []):
            if suffix in hashes:
                hashes[suffix] = None
        for suffix in list(hashes):
            if suffix not in on_disk:
                del hashes[suffix]
            elif hashes[suffix] is None:
                value = hash_suffix(os.path.join(part_dir, suffix), reclaim_age)
                if value is None:
                    del hashes[suffix]
                else:
                    hashes[suffix] = value
        if hashes != cached:
            _save(part_dir, hashes)
        if pending:
            # after the save: a crash in between leaves suffixes to rehash, not stale
            os.truncate(os.path.join(part_dir, INVALID_FILE), 0)
    return {k: v for k, v in hashes.items() if v is not None}


def suffix_inventory(device_path: str, partition: int | str, suffixes: list[str]
                     ) -> dict[str, dict[str, str | None]]:
    """``{hash: {"data", "meta", "ts", "name"}}`` of the objects in some suffixes of a
    partition: the timestamps of the files that count (None when absent) and the
    object's name (``/a/c/o``, None when unreadable). The replicator compares these
    with its own before pushing files."""
    part_dir = partition_dir(device_path, partition)
    result: dict[str, dict[str, str | None]] = {}
    for suffix in suffixes:
        if not _is_suffix(suffix):
            continue
        suffix_dir = os.path.join(part_dir, suffix)
        try:
            names = sorted(os.listdir(suffix_dir))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for obj_hash in names:
            files = ondisk.gather_files(os.path.join(suffix_dir, obj_hash))
            if not files.files:
                continue
            result[obj_hash] = {
                "data": files.timestamp_of("data"), "meta": files.timestamp_of("meta"),
                "ts": files.timestamp_of("ts"),
                "name": ondisk.hash_dir_metadata(files).get("name"),
            }
    return result


def list_partitions(device_path: str) -> list[str]:
    """The object partitions present on a device (names of ``objects/<partition>``)."""
    try:
        names = os.listdir(os.path.join(device_path, "objects"))
    except FileNotFoundError:
        return []
    return sorted((n for n in names if n.isdigit()), key=int)


def iter_hash_dirs(device_path: str, partitions: list[str] | None = None
                   ) -> Iterator[tuple[str, str, str, str]]:
    """``(partition, suffix, hash, hash_dir)`` of every object directory on a device
    (or in some partitions of it), for the auditor and the replicator."""
    for partition in partitions if partitions is not None else list_partitions(device_path):
        part_dir = partition_dir(device_path, partition)
        try:
            suffixes = sorted(n for n in os.listdir(part_dir) if _is_suffix(n))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for suffix in suffixes:
            suffix_dir = os.path.join(part_dir, suffix)
            try:
                hashes = sorted(os.listdir(suffix_dir))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for obj_hash in hashes:
                hash_dir = os.path.join(suffix_dir, obj_hash)
                if os.path.isdir(hash_dir):
                    yield partition, suffix, obj_hash, hash_dir


def quarantine(hash_dir: str) -> str:
    """Move a bad object directory (``<device>/objects/<p>/<suffix>/<hash>``) to
    ``<device>/quarantined/objects/<hash>`` (with a unique ending when that exists)
    and invalidate its suffix; returns the new path."""
    hash_dir = os.path.normpath(hash_dir)
    suffix_dir = os.path.dirname(hash_dir)
    part_dir = os.path.dirname(suffix_dir)
    device_path = os.path.dirname(os.path.dirname(part_dir))
    target_root = os.path.join(device_path, "quarantined", "objects")
    os.makedirs(target_root, exist_ok=True)
    target = os.path.join(target_root, os.path.basename(hash_dir))
    if os.path.exists(target):
        target += "-" + uuid.uuid4().hex
    os.rename(hash_dir, target)
    invalidate_suffix(part_dir, os.path.basename(suffix_dir))
    return target
