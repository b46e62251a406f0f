"""Unit tests of the SQLite brokers (objectstore.common.db, account_db, container_db)."""
from __future__ import annotations

import os
import sqlite3

import pytest

from objectstore.common import account_db, container_db, db
from objectstore.common.utils import Timestamp


def _container(tmp_path, name="c", device="sda", hash_="0123456789abcdef0123456789abcdef"):
    path = db.db_path(str(tmp_path), device, "container", 7, hash_)
    broker = container_db.ContainerBroker(path, "a", name)
    broker.initialize(Timestamp(1).internal)
    return broker


def _account(tmp_path, device="sda", hash_="fedcba9876543210fedcba9876543210"):
    path = db.db_path(str(tmp_path), device, "account", 3, hash_)
    broker = account_db.AccountBroker(path, "a")
    broker.initialize(Timestamp(1).internal)
    return broker


def _names(listing):
    return [e.get("name", e.get("subdir")) for e in listing]


def _fill(broker, names, stamp="2"):
    for name in names:
        broker.put_object(name, stamp, 1, "text/plain", "etag")


# -- creation -------------------------------------------------------------------


def test_initialize_lays_out_file_and_cleans_tmp(tmp_path):
    broker = _container(tmp_path)
    assert broker.path == os.path.join(
        str(tmp_path), "sda", "containers", "7", "def",
        "0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef.db")
    assert os.path.isfile(broker.path)
    assert os.listdir(tmp_path / "sda" / "tmp") == []
    info = broker.get_info()
    assert (info["account"], info["container"]) == ("a", "c")
    assert info["put_timestamp"] == Timestamp(1).internal
    assert info["delete_timestamp"] == db.ZERO
    assert info["object_count"] == 0 and info["bytes_used"] == 0
    assert len(info["id"]) == 36
    mode = broker.conn().execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_initialize_twice_raises(tmp_path):
    broker = _container(tmp_path)
    again = container_db.ContainerBroker(broker.path, "a", "c")
    with pytest.raises(db.DatabaseAlreadyExists):
        again.initialize(Timestamp(5).internal)
    assert broker.get_info()["put_timestamp"] == Timestamp(1).internal


def test_missing_db_raises_not_found(tmp_path):
    broker = container_db.ContainerBroker(str(tmp_path / "d/containers/1/abc/x/x.db"))
    assert not broker.exists()
    with pytest.raises(db.DatabaseNotFound):
        broker.get_info()


# -- object rows ------------------------------------------------------------------


def test_put_and_delete_object_rows_keep_counts(tmp_path):
    broker = _container(tmp_path)
    broker.put_object("o1", "2", 10, "text/plain", "e1")
    broker.put_object("o2", "2", 32, "text/plain", "e2")
    assert (broker.get_info()["object_count"], broker.get_info()["bytes_used"]) == (2, 42)
    broker.put_object("o1", "3", 5, "text/plain", "e3")  # overwrite
    assert (broker.get_info()["object_count"], broker.get_info()["bytes_used"]) == (2, 37)
    broker.put_object("o1", "2.5", 100, "text/plain", "old")  # older: ignored
    assert broker.get_info()["bytes_used"] == 37
    broker.delete_object("o2", "4")
    assert (broker.get_info()["object_count"], broker.get_info()["bytes_used"]) == (1, 5)
    assert _names(broker.list_objects(100)) == ["o1"]
    broker.put_object("o2", "3.5", 7, "text/plain", "stale")  # older than the tombstone
    assert _names(broker.list_objects(100)) == ["o1"]


def test_rows_are_replaced_with_growing_rowids(tmp_path):
    broker = _container(tmp_path)
    _fill(broker, ["a", "b"])
    first = broker.get_max_row()
    broker.put_object("a", "3", 1, "text/plain", "x")
    assert broker.get_max_row() > first
    items = broker.get_items_since(-1)
    assert [i["name"] for i in items] == ["b", "a"]
    assert all("ROWID" in i for i in items)
    broker.delete_object("b", "4")
    items = broker.get_items_since(first)
    assert [(i["name"], i["deleted"]) for i in items] == [("a", 0), ("b", 1)]
    with pytest.raises(sqlite3.DatabaseError):
        broker.conn().execute("UPDATE object SET size = 3")


def test_hash_is_order_independent(tmp_path):
    one = _container(tmp_path, device="d1")
    two = _container(tmp_path, device="d2")
    _fill(one, ["x", "y", "z"])
    _fill(two, ["z", "x", "y"])
    assert one.get_info()["hash"] == two.get_info()["hash"]
    two.put_object("x", "9", 1, "text/plain", "etag")
    assert one.get_info()["hash"] != two.get_info()["hash"]


def test_container_deleted_state_and_metadata_cleared(tmp_path):
    broker = _container(tmp_path)
    broker.update_metadata({"X-Container-Meta-Color": ["red", Timestamp(2).internal]})
    assert not broker.is_deleted()
    broker.delete_db(Timestamp(3).internal)
    assert broker.is_deleted()
    assert broker.metadata["X-Container-Meta-Color"][0] == ""
    broker.update_put_timestamp(Timestamp(4).internal)
    assert not broker.is_deleted()


# -- listings ---------------------------------------------------------------------

NAMES = ["a", "dir/1", "dir/2", "dir/sub/3", "dir0", "dir.txt", "e/x", "f"]


@pytest.fixture
def listed(tmp_path):
    broker = _container(tmp_path)
    _fill(broker, NAMES)
    return broker


def test_listing_limit_marker_end_marker_prefix(listed):
    assert _names(listed.list_objects(100)) == sorted(NAMES)
    assert _names(listed.list_objects(2)) == ["a", "dir.txt"]
    assert _names(listed.list_objects(100, marker="dir0")) == ["e/x", "f"]
    assert _names(listed.list_objects(100, end_marker="dir/2")) == ["a", "dir.txt", "dir/1"]
    assert _names(listed.list_objects(100, prefix="dir/")) == ["dir/1", "dir/2", "dir/sub/3"]
    assert _names(listed.list_objects(100, prefix="dir/", marker="dir/1",
                                      end_marker="dir/sub/3")) == ["dir/2"]


def test_listing_delimiter(listed):
    assert _names(listed.list_objects(100, delimiter="/")) == [
        "a", "dir.txt", "dir/", "dir0", "e/", "f"]
    assert _names(listed.list_objects(100, prefix="dir/", delimiter="/")) == [
        "dir/1", "dir/2", "dir/sub/"]
    # a client paging with the last subdir as marker does not get it again
    assert _names(listed.list_objects(100, delimiter="/", marker="dir/")) == [
        "dir0", "e/", "f"]
    assert _names(listed.list_objects(3, delimiter="/")) == ["a", "dir.txt", "dir/"]
    assert listed.list_objects(100, delimiter="/")[2] == {"subdir": "dir/"}


def test_listing_multichar_delimiter(listed):
    _fill(listed, ["x--1", "x--2", "x-3"])
    assert _names(listed.list_objects(100, prefix="x", delimiter="--")) == ["x--", "x-3"]


def test_listing_reverse(listed):
    assert _names(listed.list_objects(100, reverse=True)) == sorted(NAMES, reverse=True)
    assert _names(listed.list_objects(100, reverse=True, delimiter="/")) == [
        "f", "e/", "dir0", "dir/", "dir.txt", "a"]
    # going backwards, marker is the upper bound and end_marker the lower one
    assert _names(listed.list_objects(100, reverse=True, marker="dir0",
                                      end_marker="a")) == [
        "dir/sub/3", "dir/2", "dir/1", "dir.txt"]
    assert _names(listed.list_objects(2, reverse=True, prefix="dir/")) == [
        "dir/sub/3", "dir/2"]


def test_listing_path(listed):
    _fill(listed, ["dir/sub/"])  # a directory marker object
    assert _names(listed.list_objects(100, path="dir")) == ["dir/1", "dir/2", "dir/sub/"]
    assert _names(listed.list_objects(100, path="dir/")) == ["dir/1", "dir/2", "dir/sub/"]
    assert _names(listed.list_objects(100, path="")) == ["a", "dir.txt", "dir0", "f"]


def test_listing_entries(listed):
    listed.put_object("ü", "1700000000.12345", 12, "image/png", "cafe")
    entry = listed.list_objects(1, prefix="ü")[0]
    assert entry == {"name": "ü", "hash": "cafe", "bytes": 12, "content_type": "image/png",
                     "last_modified": Timestamp("1700000000.12345").isoformat}


def test_delimiter_listing_skips_directories(tmp_path):
    """10,000 rows under 100 directories: the delimiter listing seeks past each
    directory instead of reading its rows."""
    broker = _container(tmp_path)
    rows = [{"name": "d%03d/%05d" % (i % 100, i), "created_at": Timestamp(2).internal,
             "size": 1, "content_type": "x", "etag": "e", "deleted": 0}
            for i in range(10000)]
    broker.merge_items(rows)
    assert broker.get_info()["object_count"] == 10000
    steps = []
    broker.conn().set_progress_handler(lambda: steps.append(1), 1000)
    listing = broker.list_objects(10000, delimiter="/")
    broker.conn().set_progress_handler(None, 0)
    assert _names(listing) == ["d%03d/" % i for i in range(100)]
    full = []
    broker.conn().set_progress_handler(lambda: full.append(1), 1000)
    assert len(broker.list_objects(10000)) == 10000
    broker.conn().set_progress_handler(None, 0)
    assert len(steps) * 5 < len(full)


# -- metadata -------------------------------------------------------------------


def test_metadata_newer_wins_and_removals_are_kept(tmp_path):
    broker = _container(tmp_path)
    t = [Timestamp(n).internal for n in range(10)]
    assert broker.update_metadata({"X-Container-Meta-A": ["1", t[2]],
                                   "X-Container-Meta-B": ["x", t[2]]})
    assert not broker.update_metadata({"X-Container-Meta-A": ["old", t[1]]})
    broker.update_metadata({"X-Container-Meta-A": ["", t[3]]})  # removal
    broker.update_metadata({"X-Container-Meta-A": ["late", t[2]]})  # older than the removal
    assert broker.metadata == {"X-Container-Meta-A": ["", t[3]],
                               "X-Container-Meta-B": ["x", t[2]]}
    broker.reclaim(t[4])
    assert broker.metadata == {"X-Container-Meta-B": ["x", t[2]]}


# -- replication ------------------------------------------------------------------


def test_merge_items_newest_wins_and_is_idempotent(tmp_path):
    src = _container(tmp_path, device="d1")
    dst = _container(tmp_path, device="d2")
    _fill(src, ["a", "b", "c"], stamp="5")
    src.delete_object("c", "6")
    dst.put_object("a", "9", 99, "text/plain", "newer")
    dst.put_object("b", "1", 1, "text/plain", "older")
    items = src.get_items_since(-1)
    dst.merge_items(items, src.get_info()["id"])
    listing = {e["name"]: e["hash"] for e in dst.list_objects(10)}
    assert listing == {"a": "newer", "b": "etag"}
    assert dst.get_sync(src.get_info()["id"]) == src.get_max_row()
    before = (dst.get_max_row(), dst.get_info()["hash"], dst.get_info()["object_count"])
    dst.merge_items(items, src.get_info()["id"])
    assert (dst.get_max_row(), dst.get_info()["hash"], dst.get_info()["object_count"]) == before
    # the other way round the replicas converge
    src.merge_items(dst.get_items_since(-1), dst.get_info()["id"])
    assert src.get_info()["hash"] == dst.get_info()["hash"]
    assert src.list_objects(10) == dst.list_objects(10)


def test_sync_points_never_move_back(tmp_path):
    broker = _container(tmp_path)
    assert broker.get_sync("remote") == -1
    broker.merge_syncs([{"remote_id": "remote", "sync_point": 10}])
    broker.merge_syncs([{"remote_id": "remote", "sync_point": 4}])
    assert broker.get_sync("remote") == 10
    broker.merge_syncs([{"remote_id": "remote", "sync_point": 3}], incoming=False)
    assert broker.get_sync("remote", incoming=False) == 3
    assert broker.get_syncs() == [{"remote_id": "remote", "sync_point": 10}]


def test_replication_info_and_merge_timestamps(tmp_path):
    broker = _container(tmp_path)
    _fill(broker, ["a", "b"])
    broker.update_metadata({"X-Container-Meta-K": ["v", Timestamp(2).internal]})
    info = broker.get_replication_info()
    assert info["max_row"] == 2 and info["count"] == 2
    assert info["metadata"] == {"X-Container-Meta-K": ["v", Timestamp(2).internal]}
    assert set(info) >= {"hash", "id", "created_at", "put_timestamp", "delete_timestamp"}
    broker.merge_timestamps(Timestamp(0.5).internal, Timestamp(3).internal,
                            Timestamp(2).internal)
    info = broker.get_info()
    assert info["created_at"] == Timestamp(0.5).internal
    assert info["put_timestamp"] == Timestamp(3).internal
    assert info["delete_timestamp"] == Timestamp(2).internal


def test_reclaim_drops_old_tombstones_only(tmp_path):
    broker = _container(tmp_path)
    _fill(broker, ["a", "b", "c"])
    broker.delete_object("a", "3")
    broker.delete_object("b", "8")
    assert broker.reclaim(Timestamp(5).internal) == 1
    names = [i["name"] for i in broker.get_items_since(-1)]
    assert sorted(names) == ["b", "c"]
    assert broker.get_info()["object_count"] == 1


def test_newid_and_snapshot(tmp_path):
    broker = _container(tmp_path)
    _fill(broker, ["a", "b"])
    copy = str(tmp_path / "copy.db")
    broker.snapshot(copy)
    other = container_db.ContainerBroker(copy, tmp_dir=str(tmp_path))
    old_id = other.get_info()["id"]
    assert other.list_objects(10) == broker.list_objects(10)
    other.newid(old_id)
    assert other.get_info()["id"] != old_id
    assert other.get_sync(old_id) == 2


def test_reported_and_account_location(tmp_path):
    broker = _container(tmp_path)
    _fill(broker, ["a"])
    assert broker.needs_report()
    info = broker.get_info()
    broker.reported(info["put_timestamp"], info["delete_timestamp"], 1, 1)
    assert not broker.needs_report()
    broker.set_account_location("127.0.0.1:6202", "3", "sda")
    info = broker.get_info()
    assert (info["account_host"], info["account_partition"], info["account_device"]) == (
        "127.0.0.1:6202", "3", "sda")


# -- accounts -------------------------------------------------------------------


def test_account_sums_follow_container_reports(tmp_path):
    broker = _account(tmp_path)
    t = [Timestamp(n).internal for n in range(10)]
    broker.put_container("c1", t[2], db.ZERO, 3, 30)
    broker.put_container("c2", t[2], db.ZERO, 1, 5)
    info = broker.get_info()
    assert (info["container_count"], info["object_count"], info["bytes_used"]) == (2, 4, 35)
    broker.put_container("c1", t[2], db.ZERO, 4, 40)  # new counts, same put
    assert broker.get_info()["bytes_used"] == 45
    broker.put_container("c2", t[2], t[3], 0, 0)  # deleted
    info = broker.get_info()
    assert (info["container_count"], info["object_count"], info["bytes_used"]) == (1, 4, 40)
    assert _names(broker.list_containers(10)) == ["c1"]
    broker.put_container("c2", t[1], db.ZERO, 9, 9)  # a stale report: stays deleted
    assert _names(broker.list_containers(10)) == ["c1"]
    assert broker.reclaim(t[5]) == 1
    assert [i["name"] for i in broker.get_items_since(-1)] == ["c1"]


def test_account_listing_and_merge_idempotence(tmp_path):
    src = _account(tmp_path, device="d1")
    dst = _account(tmp_path, device="d2")
    for name in ("a-1", "a-2", "b", "c-1"):
        src.put_container(name, Timestamp(2).internal, db.ZERO, 1, 10)
    assert _names(src.list_containers(10, delimiter="-")) == ["a-", "b", "c-"]
    assert _names(src.list_containers(10, prefix="a-", reverse=True)) == ["a-2", "a-1"]
    entry = src.list_containers(1)[0]
    assert entry == {"name": "a-1", "count": 1, "bytes": 10,
                     "last_modified": Timestamp(2).isoformat}
    items = src.get_items_since(-1)
    dst.merge_items(items, "src")
    dst.merge_items(items, "src")
    assert dst.get_info()["hash"] == src.get_info()["hash"]
    assert dst.get_info()["container_count"] == 4
    assert dst.get_max_row() == 4


def test_account_delete_sets_status(tmp_path):
    broker = _account(tmp_path)
    assert not broker.is_deleted()
    broker.delete_db(Timestamp(2).internal)
    assert broker.is_status_deleted() and broker.is_deleted()
    assert broker.get_info()["status"] == account_db.DELETED


def test_quarantine_db(tmp_path):
    broker = _container(tmp_path)
    broker.close()
    moved = db.quarantine_db(broker.path, "container")
    assert moved == str(tmp_path / "sda" / "quarantined" / "containers" /
                        "0123456789abcdef0123456789abcdef")
    assert os.path.isfile(os.path.join(moved, os.path.basename(broker.path)))
    assert not os.path.exists(broker.path)
