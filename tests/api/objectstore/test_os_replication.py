"""The background daemons against real storage servers on 127.0.0.1.

A small cluster: four nodes, each with one device (``d0``…``d3``) in its own devices
directory and its own object, container and account servers; rings of three replicas
over the four devices (so every partition has one handoff device). The daemons run
one pass (``run_pass``) per node, as ``--once`` would.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import time
from typing import Any, Iterator

import pytest
from oslo_config import cfg

from common.wsgi.server import Server
from objectstore import conf as objectstore_conf
from objectstore.common import account_db, backend
from objectstore.common import db as db_mod
from objectstore.common.ring import Ring, RingBuilder
from objectstore.common.utils import Timestamp, hash_path
from objectstore.conf import daemons as daemons_conf
from objectstore.daemons import auditor, db_replicator, obj_replicator, reaper, updater
from objectstore.obj import diskfile, expiring, ondisk
from objectstore.obj import server as obj_server

KINDS = ("object", "container", "account")


def _apps() -> dict[str, Any]:
    """The create_app of each kind of storage server that exists in this checkout."""
    apps: dict[str, Any] = {"object": obj_server.create_app}
    try:
        from objectstore.container import server as container_server
        apps["container"] = container_server.create_app
    except ImportError:
        pass
    try:
        from objectstore.account import server as account_server
        apps["account"] = account_server.create_app
    except ImportError:
        pass
    return apps


class Node:
    """One storage host: a devices directory with one device, its servers, its conf."""

    def __init__(self, root: str, index: int, swift_dir: str) -> None:
        self.index = index
        self.device = "d%d" % index
        self.devices = os.path.join(root, "node%d" % index)
        os.makedirs(os.path.join(self.devices, self.device, "tmp"))
        self.conf = cfg.ConfigOpts()
        daemons_conf.register_cli_opts(self.conf)
        objectstore_conf.register_opts(self.conf)
        self.conf([], project="stratus-test", default_config_files=[])
        for name, value in (("devices", self.devices), ("swift_dir", swift_dir)):
            self.conf.set_override(name, value, group="objectstore")
        self.conf.set_override("my_ip", "127.0.0.1", group="daemons")
        # No background container -> account reports: the updater's sweep is tested.
        self.conf.set_override("account_update_interval", 0, group="container_server")
        self.conf.set_override("node_timeout", 5.0, group="daemons")
        self.conf.set_override("files_per_second", 0, group="auditor")
        self.conf.set_override("bytes_per_second", 0, group="auditor")
        self.servers: dict[str, Server] = {}
        self.apps: dict[str, Any] = {}
        self.ports: dict[str, int] = {}

    @property
    def device_path(self) -> str:
        return os.path.join(self.devices, self.device)

    def start(self, kind: str, create_app: Any) -> None:
        app = create_app(self.conf)
        server = Server(app, "127.0.0.1", self.ports.get(kind, 0),
                        threads=8, name="%s-%d" % (kind, self.index))
        server.start()
        self.apps[kind] = app
        self.servers[kind] = server
        self.ports[kind] = server.port

    def stop(self, kind: str) -> None:
        # Close the kept client connections first: the server closing them would leave
        # its side in TIME_WAIT, and start() binds the same (once ephemeral, so not
        # SO_REUSEADDR) port again.
        backend.POOL.clear()
        self.servers.pop(kind).stop()
        close = getattr(self.apps.pop(kind), "close", None)
        if close is not None:
            close()  # the container server's background reporter


class Cluster:
    def __init__(self, root: str, nodes: int = 4, replicas: int = 3) -> None:
        self.swift_dir = os.path.join(root, "etc")
        os.makedirs(self.swift_dir)
        self.apps = _apps()
        self.nodes = [Node(root, i, self.swift_dir) for i in range(nodes)]
        for node in self.nodes:
            for kind, create_app in self.apps.items():
                node.start(kind, create_app)
        for kind in KINDS:
            builder = RingBuilder(2, replicas, 0)
            for node in self.nodes:
                builder.add_dev({"region": 1, "zone": node.index + 1, "ip": "127.0.0.1",
                                 "port": node.ports.get(kind, 1), "device": node.device,
                                 "weight": 100})
            builder.rebalance(seed=1)
            builder.write_ring(os.path.join(self.swift_dir, kind + ".ring.gz"))
        self.rings = {kind: Ring(self.swift_dir, kind) for kind in KINDS}

    def node_of(self, dev: dict[str, Any]) -> Node:
        return self.nodes[int(dev["device"][1:])]

    def close(self) -> None:
        """Stop every server (at once: each stop waits for its worker threads)."""
        stoppers = [threading.Thread(target=node.stop, args=(kind,))
                    for node in self.nodes for kind in list(node.servers)]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join(30)

    def need(self, *kinds: str) -> None:
        missing = [k for k in kinds if k not in self.apps]
        if missing:
            pytest.skip("no %s server in this checkout yet" % ", ".join(missing))

    # -- direct backend requests ------------------------------------------------------

    def request(self, dev: dict[str, Any], part: int, method: str, path: str,
                headers: dict[str, str] | None = None, body: bytes | None = None,
                query: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        resp = backend.node_request(dev, part, method, path, headers=headers or {},
                                    body=body, query=query)
        try:
            return resp.status, dict(resp.headers.items()), resp.read()
        finally:
            resp.close()

    def put_object(self, devs: list[dict[str, Any]], part: int, path: str, body: bytes,
                   stamp: Timestamp, **headers: str) -> None:
        all_headers = {"X-Timestamp": stamp.internal, "Content-Type": "text/plain"}
        all_headers.update({k.replace("_", "-"): v for k, v in headers.items()})
        for dev in devs:
            status, _h, _b = self.request(dev, part, "PUT", path, all_headers, body)
            assert status == 201, status

    def get_object(self, dev: dict[str, Any], part: int,
                   path: str) -> tuple[int, dict[str, str], bytes]:
        return self.request(dev, part, "GET", path)


@pytest.fixture
def cluster(tmp_path: Any) -> Iterator[Cluster]:
    cluster = Cluster(str(tmp_path))
    try:
        yield cluster
    finally:
        cluster.close()


def object_placement(cluster: Cluster, name: str = "o"
                     ) -> tuple[str, int, list[dict[str, Any]], dict[str, Any]]:
    """Path, partition, primaries and the handoff device of ``/a/c/<name>``."""
    part, primaries = cluster.rings["object"].get_nodes("a", "c", name)
    handoff = next(cluster.rings["object"].get_more_nodes(part))
    return "/a/c/" + name, part, primaries, handoff


def replicate(cluster: Cluster, dev: dict[str, Any]) -> dict[str, int]:
    node = cluster.node_of(dev)
    return obj_replicator.ObjectReplicator(node.conf).run_pass()


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

def container_placement(cluster: Cluster, container: str = "c"
                        ) -> tuple[int, list[dict[str, Any]], dict[str, Any]]:
    part, primaries = cluster.rings["container"].get_nodes("a", container)
    return part, primaries, next(cluster.rings["container"].get_more_nodes(part))


def put_container(cluster: Cluster, devs: list[dict[str, Any]], part: int,
                  container: str = "c", **headers: str) -> None:
    all_headers = {"X-Timestamp": Timestamp.now().internal}
    all_headers.update({k.replace("_", "-"): v for k, v in headers.items()})
    for dev in devs:
        status, _h, _b = cluster.request(dev, part, "PUT", "/a/" + container, all_headers)
        assert status in (201, 202), status


def put_row(cluster: Cluster, devs: list[dict[str, Any]], part: int, name: str,
            size: int = 3, container: str = "c") -> None:
    headers = {"X-Timestamp": Timestamp.now().internal, "X-Size": str(size),
               "X-Content-Type": "text/plain", "X-Etag": "e" * 32}
    for dev in devs:
        status, _h, _b = cluster.request(dev, part, "PUT", "/a/%s/%s" % (container, name),
                                         headers)
        assert status == 201, status


def listing(cluster: Cluster, dev: dict[str, Any], part: int,
            path: str = "/a/c") -> tuple[int, dict[str, str], list[str]]:
    status, headers, body = cluster.request(dev, part, "GET", path,
                                            query={"format": "json"})
    names = [e["name"] for e in json.loads(body)] if status == 200 else []
    return status, headers, names


def replicate_dbs(cluster: Cluster, dev: dict[str, Any], kind: str = "container"
                  ) -> dict[str, int]:
    cls = (db_replicator.ContainerReplicator if kind == "container"
           else db_replicator.AccountReplicator)
    return cls(cluster.node_of(dev).conf).run_pass()


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
