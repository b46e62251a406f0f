"""The on-disk object layer (objectstore.obj.diskfile) on a real temp directory."""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from objectstore.common.utils import Timestamp, hash_path
from objectstore.obj import diskfile, expiring, ondisk

BODY = b"hello object store" * 1000


@pytest.fixture
def dev(tmp_path: Path) -> str:
    path = tmp_path / "d1"
    path.mkdir()
    return str(path)


def put(dev: str, obj: str = "o", body: bytes = BODY, ts: float = 1000.0,
        part: int = 7, **extra: str) -> diskfile.DiskFile:
    df = diskfile.DiskFile(dev, part, "a", "c", obj)
    with df.writer(len(body)) as writer:
        writer.write(body[:10])
        writer.write(body[10:])
        meta = {"name": df.name or "", "X-Timestamp": Timestamp(ts).internal,
                "Content-Length": str(writer.bytes_written), "ETag": writer.etag,
                "Content-Type": "text/plain"}
        meta.update(extra)
        writer.put(meta)
    return df


def files(df: diskfile.DiskFile) -> list[str]:
    return sorted(os.listdir(df.hash_dir)) if os.path.isdir(df.hash_dir) else []


def read_all(df: diskfile.DiskFile) -> bytes:
    try:
        return b"".join(df.iter_all())
    finally:
        df.close()


def test_write_then_read(dev: str) -> None:
    df = put(dev)
    obj_hash = hash_path("a", "c", "o")
    assert df.hash_dir == os.path.join(dev, "objects", "7", obj_hash[-3:], obj_hash)
    assert files(df) == [Timestamp(1000).internal + ".data"]
    assert os.listdir(os.path.join(dev, "tmp")) == []
    reader = diskfile.DiskFile(dev, 7, "a", "c", "o")
    meta = reader.open()
    assert meta["ETag"] == hashlib.md5(BODY).hexdigest()
    assert meta["name"] == "/a/c/o"
    assert reader.content_length == len(BODY)
    assert reader.data_timestamp == Timestamp(1000)
    assert b"".join(reader.iter_range(5, 25)) == BODY[5:25]
    assert read_all(reader) == BODY
    raw = os.getxattr(os.path.join(df.hash_dir, files(df)[0]), ondisk.METADATA_XATTR)
    assert json.loads(raw)["Content-Type"] == "text/plain"


def test_small_chunks_are_streamed(dev: str) -> None:
    put(dev)
    reader = diskfile.DiskFile(dev, 7, "a", "c", "o", chunk_size=1000)
    reader.open()
    chunks = list(reader.iter_all())
    reader.close()
    assert {len(c) for c in chunks[:-1]} == {1000}
    assert b"".join(chunks) == BODY


def test_missing_object(dev: str) -> None:
    with pytest.raises(diskfile.DiskFileNotExist) as info:
        diskfile.DiskFile(dev, 7, "a", "c", "nope").open()
    assert info.value.timestamp is None


def test_overwrite_removes_older_files(dev: str) -> None:
    put(dev, body=b"old", ts=1000)
    df = put(dev, body=b"new", ts=2000)
    assert files(df) == [Timestamp(2000).internal + ".data"]
    df.open()
    assert read_all(df) == b"new"


def test_aborted_write_leaves_nothing(dev: str) -> None:
    df = diskfile.DiskFile(dev, 7, "a", "c", "o")
    with df.writer(100) as writer:
        writer.write(b"partial")
    assert os.listdir(os.path.join(dev, "tmp")) == []
    assert not os.path.exists(df.hash_dir)


def test_tombstone(dev: str) -> None:
    df = put(dev, ts=1000)
    df.write_tombstone(Timestamp(2000))
    assert files(df) == [Timestamp(2000).internal + ".ts"]
    with pytest.raises(diskfile.DiskFileDeleted) as info:
        df.open()
    assert info.value.timestamp == Timestamp(2000)
    assert info.value.metadata["name"] == "/a/c/o"
    # a newer PUT brings it back and removes the tombstone
    put(dev, body=b"again", ts=3000)
    assert files(df) == [Timestamp(3000).internal + ".data"]


def test_meta_applies_and_replaces_user_metadata(dev: str) -> None:
    extra: dict[str, Any] = {"X-Object-Meta-Color": "red", "X-Object-Meta-Size": "big",
                             "X-Object-Sysmeta-Slo": "yes", "X-Delete-At": "9999999999"}
    df = put(dev, ts=1000, **extra)
    df.write_meta({"X-Timestamp": Timestamp(1500).internal, "X-Object-Meta-Color": "blue"})
    df.write_meta({"X-Timestamp": Timestamp(2000).internal, "X-Object-Meta-Shape": "round",
                   "Content-Type": "image/png"})
    assert files(df) == [Timestamp(1000).internal + ".data", Timestamp(2000).internal + ".meta"]
    meta = df.open()
    df.close()
    assert meta["X-Object-Meta-Shape"] == "round"
    assert "X-Object-Meta-Color" not in meta and "X-Object-Meta-Size" not in meta
    assert "X-Delete-At" not in meta  # a POST without it removes it
    assert meta["X-Object-Sysmeta-Slo"] == "yes"  # what the PUT fixed stays
    assert meta["Content-Type"] == "image/png"
    assert meta["ETag"] == hashlib.md5(BODY).hexdigest()
    assert meta["X-Timestamp"] == Timestamp(2000).internal
    assert df.timestamp == Timestamp(2000) and df.data_timestamp == Timestamp(1000)


def test_meta_without_content_type_keeps_the_data_one(dev: str) -> None:
    df = put(dev, ts=1000)
    df.write_meta({"X-Timestamp": Timestamp(2000).internal})
    assert df.open()["Content-Type"] == "text/plain"
    df.close()


def test_file_ordering_rules(tmp_path: Path) -> None:
    hash_dir = tmp_path / "h"
    hash_dir.mkdir()
    for name in ("0000001000.00000.data", "0000002000.00000.meta", "0000001500.00000.meta",
                 "0000000500.00000.ts", "0000003000.00000.tmp", "junk"):
        (hash_dir / name).touch()
    got = ondisk.gather_files(str(hash_dir))
    assert os.path.basename(got.data or "") == "0000001000.00000.data"
    assert os.path.basename(got.meta or "") == "0000002000.00000.meta"
    assert got.ts is None
    assert sorted(os.path.basename(p) for p in got.obsolete) == [
        "0000000500.00000.ts", "0000001500.00000.meta"]
    # a tombstone newer than the data wins, and a .meta older than it goes
    (hash_dir / "0000001800.00000.ts").touch()
    got = ondisk.cleanup_hash_dir(str(hash_dir))
    assert got.data is None and got.meta is None
    assert os.path.basename(got.ts or "") == "0000001800.00000.ts"
    assert sorted(os.listdir(hash_dir)) == ["0000001800.00000.ts", "0000003000.00000.tmp",
                                            "junk"]


def test_old_tombstones_are_reclaimed(dev: str) -> None:
    df = put(dev, ts=1000)
    df.write_tombstone(Timestamp(time.time() - 100))
    assert ondisk.gather_files(df.hash_dir, reclaim_age=1000).ts is not None
    assert diskfile.get_hashes(dev, 7, reclaim_age=10) == {}
    assert not os.path.exists(df.hash_dir)
    assert not os.path.exists(os.path.dirname(df.hash_dir))


def test_orphan_meta_is_reclaimed(tmp_path: Path) -> None:
    hash_dir = tmp_path / "h"
    hash_dir.mkdir()
    (hash_dir / "0000001000.00000.meta").touch()
    assert ondisk.gather_files(str(hash_dir)).meta is not None
    assert ondisk.cleanup_hash_dir(str(hash_dir), reclaim_age=60).files == []
    assert not hash_dir.exists()


def test_expired_object(dev: str) -> None:
    extra: dict[str, Any] = {"X-Delete-At": "5000"}
    df = put(dev, ts=1000, **extra)
    with pytest.raises(diskfile.DiskFileExpired) as info:
        df.open(now=5000)
    assert info.value.metadata["X-Delete-At"] == "5000"
    assert info.value.timestamp == Timestamp(1000)
    assert df.open(now=4999)["X-Delete-At"] == "5000"
    df.close()
    assert df.open(now=6000, ignore_expiry=True)
    df.close()


def test_bad_size_is_quarantined(dev: str) -> None:
    df = put(dev)
    data = os.path.join(df.hash_dir, files(df)[0])
    with open(data, "ab") as f:
        f.write(b"extra")
    with pytest.raises(diskfile.DiskFileQuarantined):
        df.open()
    assert not os.path.exists(df.hash_dir)
    moved = os.path.join(dev, "quarantined", "objects", df.hash)
    assert os.listdir(moved) == [os.path.basename(data)]


def test_bit_rot_found_by_a_full_read_is_quarantined(dev: str) -> None:
    df = put(dev)
    data = os.path.join(df.hash_dir, files(df)[0])
    with open(data, "r+b") as f:
        f.write(b"J")
    df.open()
    assert read_all(df) != BODY
    assert os.path.isdir(os.path.join(dev, "quarantined", "objects", df.hash))
    with pytest.raises(diskfile.DiskFileNotExist):
        df.open()


def test_quarantine_twice_keeps_both(dev: str) -> None:
    first = diskfile.quarantine(put(dev, body=b"1").hash_dir)
    second = diskfile.quarantine(put(dev, body=b"2", ts=2000).hash_dir)
    assert first != second
    assert os.path.basename(second).startswith(os.path.basename(first) + "-")


def test_missing_metadata_is_quarantined(dev: str) -> None:
    df = put(dev)
    data = os.path.join(df.hash_dir, files(df)[0])
    os.removexattr(data, ondisk.METADATA_XATTR)
    with pytest.raises(diskfile.DiskFileQuarantined):
        df.open()


def test_long_metadata_is_split_over_xattrs(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # ext4 keeps only ~4 KB of xattrs per file, so split at a smaller size here
    monkeypatch.setattr(ondisk, "XATTR_CHUNK", 256)
    target = tmp_path / "f"
    target.touch()
    meta = {"X-Object-Meta-%d" % i: "v" * 30 for i in range(30)}
    diskfile.write_metadata(str(target), meta)
    assert len(os.getxattr(str(target), ondisk.METADATA_XATTR)) == 256
    assert os.getxattr(str(target), ondisk.METADATA_XATTR + "4")
    assert diskfile.read_metadata(str(target)) == meta


def test_metadata_beyond_the_file_system_limit_is_no_space(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # one xattr value over Linux's 64 KiB limit: E2BIG on every file system
    monkeypatch.setattr(ondisk, "XATTR_CHUNK", 70000)
    target = tmp_path / "f"
    target.touch()
    with pytest.raises(diskfile.DiskFileNoSpace):
        diskfile.write_metadata(str(target), {"X-Object-Meta-Big": "v" * 69000})


def test_hashes_follow_writes(dev: str) -> None:
    df = put(dev, ts=1000)
    suffix = df.hash[-3:]
    first = diskfile.get_hashes(dev, 7)
    assert list(first) == [suffix]
    cached = json.load(open(os.path.join(dev, "objects", "7", "hashes.json")))
    assert cached == first
    assert diskfile.get_hashes(dev, 7) == first  # from the cache
    df.write_meta({"X-Timestamp": Timestamp(2000).internal})
    # invalidated by the write: listed in hashes.invalid, hashes.json left alone
    invalid = os.path.join(dev, "objects", "7", "hashes.invalid")
    assert open(invalid).read().split() == [suffix]
    assert json.load(open(os.path.join(dev, "objects", "7", "hashes.json"))) == first
    second = diskfile.get_hashes(dev, 7)
    assert second[suffix] != first[suffix]
    assert json.load(open(os.path.join(dev, "objects", "7", "hashes.json"))) == second
    assert open(invalid).read() == ""  # folded in


def test_unchanged_hashes_are_not_rewritten(dev: str) -> None:
    put(dev, ts=1000)
    first = diskfile.get_hashes(dev, 7)
    cache = os.path.join(dev, "objects", "7", "hashes.json")
    inode = os.stat(cache).st_ino
    assert diskfile.get_hashes(dev, 7) == first
    assert os.stat(cache).st_ino == inode  # a replication pass over quiet partitions
    # A suffix invalidated by a write that changed nothing in the end (the same
    # files) is rehashed, and the file still stays.
    diskfile.invalidate_suffix(os.path.join(dev, "objects", "7"), list(first)[0])
    assert diskfile.get_hashes(dev, 7) == first
    assert os.stat(cache).st_ino == inode


def test_equal_files_hash_equal_across_devices(tmp_path: Path) -> None:
    one, two = tmp_path / "d1", tmp_path / "d2"
    one.mkdir()
    two.mkdir()
    put(str(one), ts=1000)
    put(str(two), body=b"other bytes, same timestamp", ts=1000)
    assert diskfile.get_hashes(str(one), 7) == diskfile.get_hashes(str(two), 7)
    put(str(two), ts=1001)
    assert diskfile.get_hashes(str(one), 7) != diskfile.get_hashes(str(two), 7)


def test_recalculate_finds_changes_behind_the_cache(dev: str) -> None:
    df = put(dev, ts=1000)
    before = diskfile.get_hashes(dev, 7)
    os.rename(os.path.join(df.hash_dir, files(df)[0]),
              os.path.join(df.hash_dir, Timestamp(1234).internal + ".data"))
    assert diskfile.get_hashes(dev, 7) == before  # cached
    assert diskfile.get_hashes(dev, 7, recalculate=[df.hash[-3:]]) != before


def test_inventory_and_listing(dev: str) -> None:
    a = put(dev, obj="a", ts=1000)
    a.write_meta({"X-Timestamp": Timestamp(1100).internal})
    b = put(dev, obj="b", ts=1000)
    b.write_tombstone(Timestamp(1200))
    inventory = diskfile.suffix_inventory(dev, 7, [a.hash[-3:], b.hash[-3:], "zzz"])
    assert inventory[a.hash] == {"data": Timestamp(1000).internal,
                                 "meta": Timestamp(1100).internal, "ts": None,
                                 "name": "/a/c/a"}
    assert inventory[b.hash] == {"data": None, "meta": None,
                                 "ts": Timestamp(1200).internal, "name": "/a/c/b"}
    put(dev, obj="c", part=12)
    assert diskfile.list_partitions(dev) == ["7", "12"]
    found = {(p, h) for p, _s, h, _d in diskfile.iter_hash_dirs(dev)}
    assert found == {("7", a.hash), ("7", b.hash), ("12", hash_path("a", "c", "c"))}


def test_from_hash_reads_without_a_name(dev: str) -> None:
    df = put(dev)
    other = diskfile.DiskFile.from_hash(dev, 7, df.hash)
    assert other.open()["name"] == "/a/c/o"
    other.close()


def test_xattr_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    diskfile.check_xattr_support(str(tmp_path))  # a real ext4/tmpfs directory passes
    assert os.listdir(tmp_path) == []

    def refuse(*_args: object) -> None:
        raise OSError(95, "Operation not supported")

    monkeypatch.setattr(os, "setxattr", refuse)
    with pytest.raises(RuntimeError, match="does not support user extended attributes") as info:
        diskfile.check_xattr_support(str(tmp_path))
    assert str(tmp_path) in str(info.value) and "xfs" in str(info.value)
    assert os.listdir(tmp_path) == []


def test_expiring_index(dev: str) -> None:
    assert expiring.due(dev, time.time()) == []
    expiring.set_entry(dev, "a", "c", "o1", 100, Timestamp(10).internal)
    expiring.set_entry(dev, "a", "c", "o2", 50, Timestamp(10).internal)
    expiring.set_entry(dev, "a", "c", "o3", 500, Timestamp(10).internal)
    assert [e.obj for e in expiring.due(dev, 100)] == ["o2", "o1"]
    assert expiring.due(dev, 100, limit=1)[0] == expiring.Entry(
        50, "a", "c", "o2", Timestamp(10).internal)
    # a later write moves the time; an older one does not
    expiring.set_entry(dev, "a", "c", "o1", 400, Timestamp(20).internal)
    expiring.set_entry(dev, "a", "c", "o1", 10, Timestamp(15).internal)
    assert [(e.obj, e.delete_at) for e in expiring.due(dev, 450)] == [("o2", 50), ("o1", 400)]
    # the expirer removes only the row it handled
    expiring.remove(dev, "a", "c", "o1", delete_at=100)
    assert len(expiring.all_entries(dev)) == 3
    expiring.remove(dev, "a", "c", "o1", delete_at=400)
    expiring.set_entry(dev, "a", "c", "o3", None, Timestamp(30).internal)
    assert [e.obj for e in expiring.all_entries(dev)] == ["o2"]


def test_new_directories_are_made_durable(dev: str, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real = diskfile.fsync_dir
    monkeypatch.setattr(diskfile, "fsync_dir", lambda path: (synced.append(path),
                                                             real(path)))
    df = put(dev, "o", ts=1000)
    suffix_dir = os.path.dirname(df.hash_dir)
    part_dir = os.path.dirname(suffix_dir)
    # a first object: the hash, suffix, partition and objects directories are new
    assert synced == [df.hash_dir, suffix_dir, part_dir, os.path.dirname(part_dir), dev]
    synced.clear()
    put(dev, "o", ts=2000)  # an overwrite: only the new file's directory
    assert synced == [df.hash_dir]
    synced.clear()
    other = diskfile.DiskFile(dev, 7, "a", "c", "other")
    os.makedirs(os.path.dirname(other.hash_dir), exist_ok=True)  # its suffix exists
    put(dev, "other", ts=1000)
    assert synced == [other.hash_dir, os.path.dirname(other.hash_dir)]


def test_only_large_uploads_are_preallocated(dev: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    real = os.posix_fallocate
    monkeypatch.setattr(diskfile.os, "posix_fallocate",
                        lambda fd, off, size: (sizes.append(size), real(fd, off, size)))
    small = put(dev, "small", body=b"x" * 4096)
    big = put(dev, "big", body=b"y" * diskfile.PREALLOCATE_MIN)
    assert sizes == [diskfile.PREALLOCATE_MIN]
    reader = diskfile.DiskFile(dev, 7, "a", "c", "small")
    reader.open()
    assert read_all(reader) == b"x" * 4096
    assert os.path.getsize(os.path.join(big.hash_dir, files(big)[0])) == \
        diskfile.PREALLOCATE_MIN
    assert files(small)
