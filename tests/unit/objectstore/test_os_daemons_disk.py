"""The daemons' decisions on real disk state (no servers): what the replicator pushes
and reclaims, what the auditor quarantines, how the updater picks pending files."""
from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

import pytest
from oslo_config import cfg

from objectstore import conf as objectstore_conf
from objectstore.common import container_db
from objectstore.common.utils import Timestamp, hash_path
from objectstore.conf import daemons as daemons_conf
from objectstore.daemons import auditor, obj_replicator, updater
from objectstore.obj import diskfile, ondisk, updates


@pytest.fixture
def conf(tmp_path: Any) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    daemons_conf.register_cli_opts(conf)
    objectstore_conf.register_opts(conf)
    conf([], project="stratus-test", default_config_files=[])
    conf.set_override("devices", str(tmp_path / "node"), group="objectstore")
    conf.set_override("swift_dir", str(tmp_path), group="objectstore")
    conf.set_override("files_per_second", 0, group="auditor")
    conf.set_override("bytes_per_second", 0, group="auditor")
    return conf


@pytest.fixture
def dev_path(tmp_path: Any) -> str:
    path = tmp_path / "node" / "d1"
    (path / "tmp").mkdir(parents=True)
    return str(path)


def put_object(dev_path: str, body: bytes, stamp: Timestamp, obj: str = "o",
               part: int = 5, **extra: str) -> diskfile.DiskFile:
    df = diskfile.DiskFile(dev_path, part, "a", "c", obj, fsync=False)
    with df.writer() as writer:
        writer.write(body)
        metadata = {"name": "/a/c/" + obj, "X-Timestamp": stamp.internal,
                    "Content-Length": str(len(body)), "ETag": writer.etag,
                    "Content-Type": "text/plain"}
        metadata.update(extra)
        writer.put(metadata)
    return df


# -- replicator decisions -------------------------------------------------------------

def onDisk(data: str | None = None, meta: str | None = None,
           ts: str | None = None) -> ondisk.OnDisk:
    def path(stamp: str | None, ext: str) -> str | None:
        return "/x/%s%s" % (Timestamp(stamp).internal, ext) if stamp else None

    return ondisk.OnDisk(data=path(data, ".data"), meta=path(meta, ".meta"),
                         ts=path(ts, ".ts"))


def names(paths: list[str]) -> list[str]:
    return [os.path.basename(p) for p in paths]


def test_push_everything_to_an_empty_remote() -> None:
    local = onDisk(data="100", meta="200")
    assert names(obj_replicator.files_to_push(local, None)) == [
        "0000000100.00000.data", "0000000200.00000.meta"]


def test_push_nothing_when_remote_is_current() -> None:
    local = onDisk(data="100", meta="200")
    remote = {"data": "0000000100.00000", "meta": "0000000200.00000", "ts": None}
    assert obj_replicator.files_to_push(local, remote) == []


def test_push_only_newer_meta() -> None:
    local = onDisk(data="100", meta="300")
    remote = {"data": "0000000100.00000", "meta": "0000000200.00000", "ts": None}
    assert names(obj_replicator.files_to_push(local, remote)) == ["0000000300.00000.meta"]


def test_older_local_data_is_not_pushed() -> None:
    local = onDisk(data="100", meta="150")
    remote = {"data": "0000000200.00000", "meta": None, "ts": None}
    assert obj_replicator.files_to_push(local, remote) == []
    newer_meta = onDisk(data="100", meta="250")
    assert names(obj_replicator.files_to_push(newer_meta, remote)) == [
        "0000000250.00000.meta"]


def test_tombstone_wins_over_older_data_only() -> None:
    local = onDisk(ts="300")
    assert names(obj_replicator.files_to_push(
        local, {"data": "0000000200.00000", "meta": None, "ts": None})) == [
        "0000000300.00000.ts"]
    assert obj_replicator.files_to_push(
        local, {"data": "0000000400.00000", "meta": None, "ts": None}) == []
    assert obj_replicator.files_to_push(
        local, {"data": None, "meta": None, "ts": "0000000300.00000"}) == []


def test_data_newer_than_remote_tombstone_is_pushed() -> None:
    local = onDisk(data="500")
    remote = {"data": None, "meta": None, "ts": "0000000400.00000"}
    assert names(obj_replicator.files_to_push(local, remote)) == ["0000000500.00000.data"]


def test_replicator_reclaims_old_tombstones(conf: cfg.ConfigOpts, dev_path: str) -> None:
    old = diskfile.DiskFile(dev_path, 5, "a", "c", "old", fsync=False)
    old.write_tombstone(Timestamp(time.time() - 8 * 24 * 3600))
    fresh = diskfile.DiskFile(dev_path, 5, "a", "c", "fresh", fsync=False)
    fresh.write_tombstone(Timestamp.now())
    replicator = obj_replicator.ObjectReplicator(conf)
    replicator.reclaim_tombstones(dev_path, 5)
    assert not os.path.exists(old.hash_dir)
    assert os.listdir(fresh.hash_dir)
    assert replicator.stats["reclaimed"] == 1
    hashes = diskfile.get_hashes(dev_path, 5)
    assert hashes == {fresh.hash[-3:]: hashes[fresh.hash[-3:]]}


# -- auditor ------------------------------------------------------------------------------

def test_auditor_passes_a_good_object(conf: cfg.ConfigOpts, dev_path: str) -> None:
    df = put_object(dev_path, b"hello world", Timestamp.now())
    daemon = auditor.Auditor(conf)
    assert daemon.audit_object(df.hash_dir)
    assert daemon.stats["objects_passed"] == 1


def test_auditor_quarantines_a_corrupted_body(conf: cfg.ConfigOpts, dev_path: str) -> None:
    df = put_object(dev_path, b"hello world", Timestamp.now())
    diskfile.get_hashes(dev_path, 5)
    data = ondisk.gather_files(df.hash_dir).data
    assert data is not None
    with open(data, "r+b") as handle:  # same size, other bytes
        handle.write(b"J")
    daemon = auditor.Auditor(conf)
    assert not daemon.audit_object(df.hash_dir)
    assert not os.path.exists(df.hash_dir)
    assert os.path.isdir(os.path.join(dev_path, "quarantined", "objects", df.hash))
    assert daemon.stats["objects_quarantined"] == 1
    # The suffix is invalidated: the partition no longer claims the object.
    assert df.hash[-3:] not in diskfile.get_hashes(dev_path, 5)


def test_auditor_quarantines_wrong_size(conf: cfg.ConfigOpts, dev_path: str) -> None:
    df = put_object(dev_path, b"hello", Timestamp.now())
    data = ondisk.gather_files(df.hash_dir).data
    assert data is not None
    with open(data, "ab") as handle:
        handle.write(b"!")
    with pytest.raises(auditor.AuditError, match="size 6"):
        auditor.audit_data_file(data)


def test_auditor_quarantines_unreadable_metadata(conf: cfg.ConfigOpts, dev_path: str) -> None:
    df = put_object(dev_path, b"hello", Timestamp.now())
    data = ondisk.gather_files(df.hash_dir).data
    assert data is not None
    os.setxattr(data, ondisk.METADATA_XATTR, b"{not json")
    daemon = auditor.Auditor(conf)
    assert not daemon.audit_object(df.hash_dir)
    assert daemon.stats["objects_quarantined"] == 1


def test_auditor_checks_databases(conf: cfg.ConfigOpts, tmp_path: Any) -> None:
    good = str(tmp_path / "node/d1/containers/1/abc/fabc/fabc.db")
    bad = str(tmp_path / "node/d1/containers/1/def/fdef/fdef.db")
    for path in (good, bad):
        broker = container_db.ContainerBroker(path, "a", "c")
        broker.initialize(Timestamp.now().internal)
        broker.put_object("o", Timestamp.now().internal, 1, "text/plain", "x")
        broker.close()
    with open(bad, "r+b") as handle:
        handle.seek(100)
        handle.write(b"\xff" * 4000)
    daemon = auditor.Auditor(conf)
    daemon.audit_dbs(str(tmp_path / "node/d1"), "container")
    assert daemon.stats["dbs_passed"] == 1
    assert daemon.stats["dbs_quarantined"] == 1
    assert os.path.exists(good)
    assert not os.path.exists(bad)
    assert os.path.isdir(str(tmp_path / "node/d1/quarantined/containers/fdef"))


def test_audit_data_file_reads_at_the_byte_rate(dev_path: str) -> None:
    df = put_object(dev_path, b"x" * 200000, Timestamp.now())
    data = ondisk.gather_files(df.hash_dir).data
    assert data is not None
    limiter = auditor.base.RateLimiter(1000000)
    started = time.monotonic()
    auditor.audit_data_file(data, limiter)
    assert time.monotonic() - started >= 0.12
    assert hashlib.md5(open(data, "rb").read()).hexdigest() == \
        ondisk.read_metadata(data)["ETag"]


# -- updater ---------------------------------------------------------------------------------

def test_pending_files_keep_only_the_newest_per_object(dev_path: str) -> None:
    for stamp in ("100", "300", "200"):
        updates.write_async_pending(dev_path, "PUT", "a", "c", "o",
                                    {"X-Timestamp": Timestamp(stamp).internal}, fsync=False)
    updates.write_async_pending(dev_path, "DELETE", "a", "c", "other",
                                {"X-Timestamp": Timestamp("50").internal}, fsync=False)
    found = sorted(updater.pending_files(dev_path))
    assert len(found) == 2
    newest = updates.async_pending_path(dev_path, "a", "c", "o", Timestamp("300").internal)
    assert newest in found
    suffix_dir = os.path.dirname(newest)
    assert [n for n in os.listdir(suffix_dir) if n.startswith(hash_path("a", "c", "o"))] == [
        os.path.basename(newest)]
    with open(newest) as handle:
        assert json.load(handle)["op"] == "PUT"
