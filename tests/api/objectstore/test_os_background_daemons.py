"""The updater, the reaper and the expirer against real storage servers on
127.0.0.1 (the cluster of os_replication_cluster.py), and the replicators behind
the proxy fixture's cluster.
"""
from __future__ import annotations

import os
import shutil
import time
from typing import Any


from objectstore.common import account_db, backend
from objectstore.common import db as db_mod
from objectstore.common.ring import Ring
from objectstore.common.utils import Timestamp, hash_path
from objectstore.daemons import db_replicator, obj_replicator, reaper, updater
from objectstore.obj import expiring

from tests.api.objectstore.os_replication_cluster import (
    Cluster, container_placement, listing, object_placement, put_container,
    put_row)


# -- updater ---------------------------------------------------------------------------------

def container_headers(cnodes: list[dict[str, Any]], cpart: int, index: int) -> dict[str, str]:
    return reaper.host_headers(cnodes, index, "Container", cpart)


def test_async_pending_is_delivered_once_the_container_is_back(cluster: Cluster) -> None:
    cluster.need("container")
    cpart, cnodes, _handoff = container_placement(cluster)
    put_container(cluster, cnodes, cpart)
    path, part, primaries, _h = object_placement(cluster)
    down = cluster.node_of(cnodes[0])
    down.stop("container")
    try:
        cluster.put_object(primaries[:1], part, path, b"late", Timestamp.now(),
                           **container_headers(cnodes, cpart, 0))
        object_node = cluster.node_of(primaries[0])
        pending_root = os.path.join(object_node.device_path, "async_pending")
        assert len(list(updater.pending_files(object_node.device_path))) == 1
        stats = updater.Updater(object_node.conf).run_pass()
        assert stats["pending_failed"] == 1
        assert len(list(updater.pending_files(object_node.device_path))) == 1
    finally:
        down.start("container", cluster.apps["container"])
    stats = updater.Updater(object_node.conf).run_pass()
    assert stats["pending_delivered"] == 1
    assert list(updater.pending_files(object_node.device_path)) == []
    assert not os.listdir(pending_root)
    for dev in cnodes:
        assert listing(cluster, dev, cpart)[2] == ["o"]


def test_container_counts_reach_the_account(cluster: Cluster) -> None:
    cluster.need("container", "account")
    apart, anodes = cluster.rings["account"].get_nodes("a")
    for dev in anodes:
        assert cluster.request(dev, apart, "PUT", "/a",
                               {"X-Timestamp": Timestamp.now().internal})[0] == 201
    cpart, cnodes, _handoff = container_placement(cluster)
    put_container(cluster, cnodes, cpart)
    put_row(cluster, cnodes, cpart, "one", size=10)
    put_row(cluster, cnodes, cpart, "two", size=20)
    assert listing(cluster, anodes[0], apart, "/a")[2] == []
    stats = updater.Updater(cluster.node_of(cnodes[0]).conf).run_pass()
    assert stats["reports_sent"] == 1
    for dev in anodes:
        status, headers, names = listing(cluster, dev, apart, "/a")
        assert names == ["c"]
        assert (headers["X-Account-Object-Count"], headers["X-Account-Bytes-Used"]) == (
            "2", "30")
    # Reported: the next pass has nothing to send.
    assert updater.Updater(cluster.node_of(cnodes[0]).conf).run_pass().get(
        "reports_sent", 0) == 0


# -- reaper and expirer -------------------------------------------------------------------------

def test_reaper_empties_a_deleted_account(cluster: Cluster) -> None:
    cluster.need("container", "account")
    apart, anodes = cluster.rings["account"].get_nodes("a")
    for dev in anodes:
        cluster.request(dev, apart, "PUT", "/a", {"X-Timestamp": Timestamp.now().internal})
    cpart, cnodes, _handoff = container_placement(cluster)
    put_container(cluster, cnodes, cpart)
    names = ["o1", "o2"]
    for name in names:
        path, part, primaries, _h = object_placement(cluster, name)
        for index, dev in enumerate(primaries):
            cluster.put_object([dev], part, path, b"data", Timestamp.now(),
                               **container_headers(cnodes, cpart, index))
    # Report the container to the account (the reaper lists the account's containers).
    updater.Updater(cluster.node_of(cnodes[0]).conf).run_pass()
    deleted = Timestamp.now().internal
    for dev in anodes:
        assert cluster.request(dev, apart, "DELETE", "/a", {"X-Timestamp": deleted})[0] == 204
    first = cluster.node_of(anodes[0])
    first.conf.set_override("delay_reaping", 3600, group="reaper")
    assert reaper.Reaper(first.conf).run_pass().get("accounts_reaping", 0) == 0
    first.conf.set_override("delay_reaping", 0, group="reaper")
    # Only the first primary reaps.
    assert reaper.Reaper(cluster.node_of(anodes[1]).conf).run_pass().get(
        "accounts_reaping", 0) == 0
    stats = reaper.Reaper(first.conf).run_pass()
    assert stats["objects_deleted"] == 2 and stats["containers_deleted"] == 1
    assert stats["accounts_emptied"] == 1
    for name in names:
        path, part, primaries, _h = object_placement(cluster, name)
        for dev in primaries:
            assert cluster.get_object(dev, part, path)[0] == 404
    for dev in cnodes:
        assert listing(cluster, dev, cpart)[0] == 404
    path = db_mod.db_path(first.devices, first.device, "account", apart, hash_path("a"))
    broker = account_db.AccountBroker(path)
    assert broker.list_containers(100) == []
    assert broker.get_info()["container_count"] == 0
    broker.close()


def test_expirer_deletes_a_due_object(cluster: Cluster) -> None:
    cluster.need("container")
    cpart, cnodes, _handoff = container_placement(cluster)
    put_container(cluster, cnodes, cpart)
    path, part, primaries, _h = object_placement(cluster, "short-lived")
    delete_at = int(time.time()) + 100
    for index, dev in enumerate(primaries):
        cluster.put_object([dev], part, path, b"tmp", Timestamp.now(),
                           X_Delete_At=str(delete_at),
                           **container_headers(cnodes, cpart, index))
    assert listing(cluster, cnodes[0], cpart)[2] == ["short-lived"]
    keeper_path, kpart, kprimaries, _h = object_placement(cluster, "kept")
    cluster.put_object(kprimaries, kpart, keeper_path, b"stay", Timestamp.now(),
                       X_Delete_At=str(delete_at + 1000))
    for dev in primaries:
        node = cluster.node_of(dev)
        daemon = reaper.Reaper(node.conf)
        daemon.expirer.run_once(now=delete_at - 1)  # not due yet
        assert len(expiring.all_entries(node.device_path)) >= 1
        daemon.expirer.run_once(now=delete_at + 1)
        assert [e.obj for e in expiring.all_entries(node.device_path)] == (
            ["kept"] if any(d["id"] == dev["id"] for d in kprimaries) else [])
    for dev in primaries:
        status, headers, _body = cluster.get_object(dev, part, path)
        assert status == 404
        assert headers["X-Backend-Timestamp"] == Timestamp(delete_at).internal
    for dev in cnodes:
        assert listing(cluster, dev, cpart)[2] == []
    for dev in kprimaries:
        assert cluster.get_object(dev, kpart, keeper_path)[0] == 200


def test_expirer_leaves_an_object_whose_expiry_moved(cluster: Cluster) -> None:
    path, part, primaries, _h = object_placement(cluster, "moved")
    later = int(time.time()) + 1000
    cluster.put_object(primaries, part, path, b"still here", Timestamp.now(),
                       X_Delete_At=str(later))
    node = cluster.node_of(primaries[0])
    # A stale index row (as if the object's X-Delete-At changed after it was written).
    expiring.set_entry(node.device_path, "a", "c", "moved", later - 500,
                       Timestamp.now().internal)
    daemon = reaper.Reaper(node.conf)
    daemon.expirer.run_once(now=later - 400)
    assert daemon.stats["objects_expired"] == 1  # 412 everywhere: done, row dropped
    assert expiring.all_entries(node.device_path) == []
    for dev in primaries:
        assert cluster.get_object(dev, part, path)[0] == 200


# -- with the proxy -------------------------------------------------------------------------

def test_lost_disk_content_comes_back_behind_the_proxy(tmp_path: Any) -> None:
    """Through the proxy fixture's cluster (one devices directory, so one daemon
    serves all three devices): a device loses its objects and container databases;
    one pass of the replicators brings them back."""
    from tests.fixtures import objectstore as os_fixture

    proxy_cluster = os_fixture.Cluster(tmp_path)
    try:
        client = proxy_cluster.client
        client.put("/v1/AUTH_test", status="*")
        client.put("/v1/AUTH_test/c", status=201)
        client.put("/v1/AUTH_test/c/o", b"important", status=201)
        lost = proxy_cluster.device_path("d3")
        for sub in ("objects", "containers"):
            shutil.rmtree(os.path.join(lost, sub))
        conf = proxy_cluster.conf
        assert obj_replicator.ObjectReplicator(conf).run_pass()["pushed"] >= 1
        assert db_replicator.ContainerReplicator(conf).run_pass()["whole_pushes"] >= 1
        ring = Ring(conf.objectstore.swift_dir, "object")
        part, nodes = ring.get_nodes("AUTH_test", "c", "o")
        d3 = next(n for n in nodes if n["device"] == "d3")
        resp = backend.node_request(d3, part, "GET", "/AUTH_test/c/o")
        assert (resp.status, resp.read()) == (200, b"important")
        resp.close()
        cring = Ring(conf.objectstore.swift_dir, "container")
        cpart, cnodes = cring.get_nodes("AUTH_test", "c")
        c3 = next(n for n in cnodes if n["device"] == "d3")
        resp = backend.node_request(c3, cpart, "GET", "/AUTH_test/c",
                                    query={"format": "json"})
        assert resp.status == 200
        assert [e["name"] for e in resp.json()] == ["o"]
        resp.close()
        assert client.get("/v1/AUTH_test/c/o").body == b"important"
    finally:
        proxy_cluster.stop()
