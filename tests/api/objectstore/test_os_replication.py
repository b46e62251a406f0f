"""Replication against real storage servers on 127.0.0.1 (the cluster of
os_replication_cluster.py): objects, tombstones, handoffs, quarantine, and the
account and container databases.
"""
from __future__ import annotations

import os
import shutil
import time
from typing import Any

import pytest

from objectstore.common import db as db_mod
from objectstore.common.utils import Timestamp, hash_path
from objectstore.daemons import auditor, obj_replicator
from objectstore.obj import diskfile, ondisk
from objectstore.obj import server as obj_server

from tests.api.objectstore.os_replication_cluster import (
    Cluster, container_placement, listing, object_placement, put_container,
    put_row, replicate, replicate_dbs)


# -- objects ---------------------------------------------------------------------------

def test_missing_replica_is_restored(cluster: Cluster) -> None:
    path, part, primaries, _handoff = object_placement(cluster)
    stamp = Timestamp.now()
    cluster.put_object(primaries[:2], part, path, b"payload", stamp, X_Object_Meta_Color="blue")
    assert cluster.get_object(primaries[2], part, path)[0] == 404
    stats = replicate(cluster, primaries[0])
    assert stats["pushed"] == 1 and stats.get("failures", 0) == 0
    status, headers, body = cluster.get_object(primaries[2], part, path)
    assert (status, body) == (200, b"payload")
    assert headers["X-Object-Meta-Color"] == "blue"
    assert headers["X-Backend-Timestamp"] == stamp.internal
    # Everyone is in sync now: a second pass pushes nothing.
    assert replicate(cluster, primaries[0]).get("pushed", 0) == 0


def test_newer_replica_overwrites_older(cluster: Cluster) -> None:
    path, part, primaries, _handoff = object_placement(cluster)
    cluster.put_object(primaries, part, path, b"old", Timestamp(time.time() - 10))
    cluster.put_object(primaries[:1], part, path, b"new", Timestamp.now())
    meta_stamp = Timestamp.now()
    status, _h, _b = cluster.request(primaries[0], part, "POST", path, {
        "X-Timestamp": meta_stamp.internal, "X-Object-Meta-State": "posted"})
    assert status == 202
    replicate(cluster, primaries[0])
    for dev in primaries[1:]:
        status, headers, body = cluster.get_object(dev, part, path)
        assert (status, body) == (200, b"new")
        assert headers["X-Object-Meta-State"] == "posted"
    # The older side replicating back changes nothing.
    assert replicate(cluster, primaries[1]).get("pushed", 0) == 0
    assert cluster.get_object(primaries[0], part, path)[2] == b"new"


def test_tombstone_propagates(cluster: Cluster) -> None:
    path, part, primaries, _handoff = object_placement(cluster)
    cluster.put_object(primaries, part, path, b"doomed", Timestamp(time.time() - 10))
    deleted = Timestamp.now()
    status, _h, _b = cluster.request(primaries[1], part, "DELETE", path,
                                     {"X-Timestamp": deleted.internal})
    assert status == 204
    replicate(cluster, primaries[1])
    for dev in primaries:
        status, headers, _body = cluster.get_object(dev, part, path)
        assert status == 404
        assert headers["X-Backend-Timestamp"] == deleted.internal


def test_handoff_data_moves_back_and_is_removed(cluster: Cluster) -> None:
    path, part, primaries, handoff = object_placement(cluster)
    cluster.put_object([handoff], part, path, b"stray", Timestamp.now())
    handoff_node = cluster.node_of(handoff)
    part_dir = os.path.join(handoff_node.device_path, "objects", str(part))
    assert os.path.isdir(part_dir)
    stats = replicate(cluster, handoff)
    assert stats["pushed"] == 3 and stats["removed_handoffs"] == 1
    for dev in primaries:
        assert cluster.get_object(dev, part, path)[:3:2] == (200, b"stray")
    assert not os.path.exists(part_dir)


def test_quiet_partitions_are_skipped_between_full_passes(cluster: Cluster,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    path, part, primaries, _handoff = object_placement(cluster)
    cluster.put_object(primaries, part, path, b"v1", Timestamp.now())
    node = cluster.node_of(primaries[0])
    node.conf.set_override("full_pass_every", 4, group="replicator")
    asked: list[int] = []
    real = obj_replicator.ObjectReplicator._replicate

    def counting(self: Any, dev: Any, partition: int, *args: Any, **kwargs: Any) -> Any:
        asked.append(partition)
        return real(self, dev, partition, *args, **kwargs)
    monkeypatch.setattr(obj_replicator.ObjectReplicator, "_replicate", counting)
    daemon = obj_replicator.ObjectReplicator(node.conf, only_partitions=[part])

    assert daemon.run_pass().get("skipped", 0) == 0  # the first pass is full
    assert asked == [part, part]  # each other primary's hashes
    asked.clear()
    assert daemon.run_pass()["skipped"] == 1  # nothing changed here: no request
    assert asked == []

    # A local write: the partition is compared (and the change pushed) at once.
    cluster.put_object(primaries[:1], part, path, b"v2", Timestamp.now())
    stats = daemon.run_pass()
    assert stats.get("skipped", 0) == 0 and stats["pushed"] == 2
    assert all(cluster.get_object(dev, part, path)[2] == b"v2" for dev in primaries)

    # A replica that lost its copy on its own is not seen between full passes ...
    lost = cluster.node_of(primaries[1])
    shutil.rmtree(os.path.join(lost.device_path, "objects", str(part)))
    assert daemon.run_pass()["skipped"] == 1  # the fourth pass, not a full one
    assert cluster.get_object(primaries[1], part, path)[0] == 404
    # ... and filled again by the next full one (the fifth).
    stats = daemon.run_pass()
    assert stats.get("skipped", 0) == 0 and stats["pushed"] == 1
    assert cluster.get_object(primaries[1], part, path)[2] == b"v2"


def test_handoff_is_kept_while_a_primary_is_down(cluster: Cluster) -> None:
    path, part, primaries, handoff = object_placement(cluster)
    cluster.put_object([handoff], part, path, b"stray", Timestamp.now())
    down = cluster.node_of(primaries[2])
    down.stop("object")
    try:
        stats = replicate(cluster, handoff)
    finally:
        down.start("object", obj_server.create_app)
    assert stats["failures"] == 1 and stats.get("removed_handoffs", 0) == 0
    assert os.path.isdir(os.path.join(cluster.node_of(handoff).device_path, "objects",
                                      str(part)))
    assert replicate(cluster, handoff)["removed_handoffs"] == 1
    assert cluster.get_object(primaries[2], part, path)[0] == 200


def test_corrupted_object_is_quarantined_then_restored(cluster: Cluster) -> None:
    path, part, primaries, _handoff = object_placement(cluster)
    cluster.put_object(primaries, part, path, b"precious bytes", Timestamp.now())
    victim = cluster.node_of(primaries[1])
    obj_hash = hash_path("a", "c", "o")
    hash_dir = diskfile.object_dir(victim.device_path, part, obj_hash)
    data = ondisk.gather_files(hash_dir).data
    assert data is not None
    with open(data, "r+b") as handle:
        handle.write(b"P")  # "Precious bytes": same size, other md5
    stats = auditor.Auditor(victim.conf).run_pass()
    assert stats["objects_quarantined"] == 1
    assert os.path.isdir(os.path.join(victim.device_path, "quarantined", "objects", obj_hash))
    assert cluster.get_object(primaries[1], part, path)[0] == 404
    replicate(cluster, primaries[0])
    status, _headers, body = cluster.get_object(primaries[1], part, path)
    assert (status, body) == (200, b"precious bytes")
    assert auditor.Auditor(victim.conf).run_pass()["objects_passed"] >= 1


def test_partition_filter_limits_the_pass(cluster: Cluster) -> None:
    path, part, primaries, _handoff = object_placement(cluster)
    cluster.put_object(primaries[:1], part, path, b"x", Timestamp.now())
    node = cluster.node_of(primaries[0])
    other = (part + 1) % 4
    stats = obj_replicator.ObjectReplicator(node.conf, only_partitions=[other]).run_pass()
    assert stats.get("pushed", 0) == 0
    assert cluster.get_object(primaries[1], part, path)[0] == 404
    stats = obj_replicator.ObjectReplicator(node.conf, only_partitions=[part]).run_pass()
    assert stats["pushed"] == 2


# -- databases -------------------------------------------------------------------------

def test_missing_container_db_is_pushed_whole_and_rows_merged(cluster: Cluster) -> None:
    cluster.need("container")
    part, primaries, _handoff = container_placement(cluster)
    put_container(cluster, primaries[:2], part, X_Container_Meta_Tag="v1")
    put_row(cluster, primaries[:1], part, "o1")
    put_row(cluster, primaries[:1], part, "o2", size=5)
    assert listing(cluster, primaries[2], part)[0] == 404
    stats = replicate_dbs(cluster, primaries[0])
    assert stats["whole_pushes"] == 1 and stats["diffs"] == 1
    for dev in primaries:
        status, headers, names = listing(cluster, dev, part)
        assert (status, names) == (200, ["o1", "o2"])
        assert headers["X-Container-Bytes-Used"] == "8"
        assert headers["X-Container-Meta-Tag"] == "v1"
    # In sync now: nothing more is sent.
    stats = replicate_dbs(cluster, primaries[0])
    assert stats["no_change"] == 2 and stats.get("rows_sent", 0) == 0


def test_rows_and_metadata_flow_both_ways(cluster: Cluster) -> None:
    cluster.need("container")
    part, primaries, _handoff = container_placement(cluster)
    put_container(cluster, primaries, part)
    put_row(cluster, primaries[:1], part, "from-0")
    put_row(cluster, primaries[1:2], part, "from-1")
    status, _h, _b = cluster.request(primaries[1], part, "POST", "/a/c", {
        "X-Timestamp": Timestamp.now().internal, "X-Container-Meta-Owner": "one"})
    assert status == 204
    replicate_dbs(cluster, primaries[0])
    replicate_dbs(cluster, primaries[1])
    for dev in primaries:
        status, headers, names = listing(cluster, dev, part)
        assert names == ["from-0", "from-1"]
        assert headers["X-Container-Meta-Owner"] == "one"


def test_handoff_db_moves_to_primaries_and_is_removed(cluster: Cluster) -> None:
    cluster.need("container")
    part, primaries, handoff = container_placement(cluster)
    put_container(cluster, [handoff], part)
    put_row(cluster, [handoff], part, "stray")
    path = db_mod.db_path(cluster.node_of(handoff).devices, handoff["device"], "container",
                          part, hash_path("a", "c"))
    assert os.path.exists(path)
    stats = replicate_dbs(cluster, handoff)
    assert stats["whole_pushes"] == 3 and stats["removed_handoffs"] == 1
    assert not os.path.exists(path)
    for dev in primaries:
        assert listing(cluster, dev, part)[2] == ["stray"]


def test_account_db_replicates(cluster: Cluster) -> None:
    cluster.need("account")
    part, primaries = cluster.rings["account"].get_nodes("a")
    for dev in primaries[:1]:
        assert cluster.request(dev, part, "PUT", "/a",
                               {"X-Timestamp": Timestamp.now().internal})[0] == 201
        assert cluster.request(dev, part, "PUT", "/a/c", {
            "X-Put-Timestamp": Timestamp.now().internal, "X-Object-Count": "4",
            "X-Bytes-Used": "40"})[0] == 201
    replicate_dbs(cluster, primaries[0], "account")
    for dev in primaries:
        status, headers, names = listing(cluster, dev, part, "/a")
        assert (status, names) == (200, ["c"])
        assert headers["X-Account-Object-Count"] == "4"


def test_corrupted_db_is_quarantined_then_restored(cluster: Cluster) -> None:
    cluster.need("container")
    part, primaries, _handoff = container_placement(cluster)
    put_container(cluster, primaries, part)
    put_row(cluster, primaries, part, "kept")
    victim = cluster.node_of(primaries[2])
    path = db_mod.db_path(victim.devices, victim.device, "container", part,
                          hash_path("a", "c"))
    with open(path, "r+b") as handle:
        handle.seek(100)
        handle.write(b"\xff" * 4000)
    assert auditor.Auditor(victim.conf).run_pass()["dbs_quarantined"] == 1
    assert not os.path.exists(path)
    replicate_dbs(cluster, primaries[0])
    assert listing(cluster, primaries[2], part)[2] == ["kept"]
