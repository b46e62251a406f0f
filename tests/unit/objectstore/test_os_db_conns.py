"""The connections the database servers keep between requests (objectstore.common.db_conns):
reused for the same file, never for a file that replaced or removed it."""
from __future__ import annotations

import os
import shutil
import sqlite3
import time

import pytest

from objectstore.common import container_db, db, db_conns
from objectstore.common.utils import Timestamp

HASH = "0123456789abcdef0123456789abcdef"


def _path(tmp_path) -> str:
    return db.db_path(str(tmp_path), "sda", "container", 7, HASH)


def _broker(path, cache) -> container_db.ContainerBroker:
    return container_db.ContainerBroker(path, "a", "c", cache=cache)


def _create(path, name="first") -> None:
    """A container database at ``path`` holding one object row ``name``."""
    maker = container_db.ContainerBroker(path, "a", "c")
    maker.initialize(Timestamp(1).internal)
    maker.put_object(name, Timestamp(2).internal, 1, "text/plain", "etag")
    maker.close()


def _names(broker) -> list[str]:
    return [row["name"] for row in broker.list_objects(100)]


def test_a_connection_is_reused_for_the_same_file(tmp_path):
    path = _path(tmp_path)
    _create(path)
    cache = db_conns.ConnectionCache()
    first = _broker(path, cache)
    conn = first.conn()
    first.close()
    assert len(cache) == 1
    second = _broker(path, cache)
    assert second.conn() is conn
    assert _names(second) == ["first"]
    second.close()
    # without reuse (a request that failed) the connection is closed, not kept
    third = _broker(path, cache)
    assert third.conn() is conn
    third.close(reuse=False)
    assert len(cache) == 0
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT 1")


def test_a_replaced_file_gets_a_new_connection(tmp_path):
    """Replication links a new file into place after a quarantine: the kept connection
    (still on the old file) is closed, and the new file's not yet checkpointed rows
    survive that close."""
    path = _path(tmp_path)
    _create(path, "old")
    cache = db_conns.ConnectionCache()
    broker = _broker(path, cache)
    stale = broker.conn()
    assert _names(broker) == ["old"]
    broker.close()

    db.quarantine_db(path, "container")
    _create(path, "new")
    writer = container_db.ContainerBroker(path, "a", "c")
    writer.put_object("in-wal", Timestamp(3).internal, 1, "text/plain", "etag")
    assert os.path.getsize(path + "-wal") > 0  # the writer keeps the WAL alive

    again = _broker(path, cache)
    fresh = again.conn()
    assert fresh is not stale
    with pytest.raises(sqlite3.ProgrammingError):
        stale.execute("SELECT 1")  # closed
    assert _names(again) == ["in-wal", "new"]
    again.close()
    writer.close()
    reader = container_db.ContainerBroker(path, "a", "c")
    assert _names(reader) == ["in-wal", "new"]
    reader.close()


def test_a_removed_file_is_not_found(tmp_path):
    path = _path(tmp_path)
    _create(path)
    cache = db_conns.ConnectionCache()
    broker = _broker(path, cache)
    stale = broker.conn()
    broker.close()
    shutil.rmtree(os.path.dirname(path))  # the replicator drops a pushed handoff
    gone = _broker(path, cache)
    with pytest.raises(db.DatabaseNotFound):
        gone.conn()
    assert len(cache) == 0
    with pytest.raises(sqlite3.ProgrammingError):
        stale.execute("SELECT 1")
    assert not os.path.exists(path)  # and opening did not make an empty database


def test_a_connection_inside_a_transaction_is_not_kept(tmp_path):
    path = _path(tmp_path)
    _create(path)
    cache = db_conns.ConnectionCache()
    broker = _broker(path, cache)
    broker.conn().execute("BEGIN IMMEDIATE")
    broker.close()
    assert len(cache) == 0
    other = container_db.ContainerBroker(path, "a", "c", timeout=0.5)
    other.put_object("x", Timestamp(5).internal, 1, "text/plain", "etag")  # not locked
    other.close()


def test_size_and_age_limits(tmp_path, monkeypatch):
    paths = []
    for n in range(3):
        path = db.db_path(str(tmp_path), "sda", "container", n, HASH)
        _create(path)
        paths.append(path)
    cache = db_conns.ConnectionCache(size=2, max_age=30.0)
    conns = []
    for path in paths:
        broker = _broker(path, cache)
        conns.append(broker.conn())
        broker.close()
    assert len(cache) == 2  # the oldest went
    with pytest.raises(sqlite3.ProgrammingError):
        conns[0].execute("SELECT 1")
    assert cache.checkout(paths[0]) is None
    now = time.monotonic()
    monkeypatch.setattr(db_conns.time, "monotonic", lambda: now + 31)
    assert cache.checkout(paths[2]) is None  # idle too long: closed
    assert len(cache) == 0
    cache.clear()


def test_commits_are_synced(tmp_path):
    """Kept connections rarely checkpoint, so each commit syncs the WAL itself."""
    path = _path(tmp_path)
    _create(path)
    broker = _broker(path, db_conns.ConnectionCache())
    assert broker.conn().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    broker.close()
