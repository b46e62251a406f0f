"""Probe tests: real processes, servers taken down and disks damaged on purpose, then
the background daemons (``--once``) must put every replica right again.

The cloud runs one account, container and object server per device (``d1``…``d3``,
each on its own port), so stopping one process takes exactly one replica away. With
three devices and three replicas every device is a primary of every partition.
What the tests check they read from the storage servers directly (backend paths) and
from the device directories.
"""
from __future__ import annotations

import glob
import json
import os
from typing import Any, Iterator

import pytest

from objectstore.common import backend, utils
from objectstore.common.ring.ring import Ring
from tests.functional.objectstore.conftest import (
    DEVICES, HASH_SUFFIX, ObjectStoreCloud, http, md5_file)


@pytest.fixture(scope="module")
def cloud(objectstore_probe_cloud: ObjectStoreCloud) -> Iterator[ObjectStoreCloud]:
    utils.set_hash_path_salt("", HASH_SUFFIX)
    yield objectstore_probe_cloud


@pytest.fixture(autouse=True)
def _all_servers_up(cloud: ObjectStoreCloud) -> Iterator[None]:
    """Every test starts and ends with all servers running; no daemon logs a traceback
    (a storage server being down is an expected condition, not a bug)."""
    yield
    for kind in ("account", "container", "object"):
        for dev in DEVICES:
            if (kind, dev) not in cloud.servers:
                cloud.start_server(kind, dev)
    assert cloud.tracebacks() == [], cloud.logs()


def ring_nodes(cloud: ObjectStoreCloud, kind: str, *path: str) -> tuple[int, list[Any]]:
    return Ring(cloud.swift_dir, kind).get_nodes(*path)


def backend_request(node: dict[str, Any], part: int, method: str, *path: str,
                    query: str = "") -> tuple[int, dict[str, str], bytes]:
    """A request straight to a storage server, as the proxy would send it."""
    return http(method, "http://%s:%d%s%s" % (
        node["ip"], node["port"], backend.backend_path(node["device"], part, *path), query))


def data_files(cloud: ObjectStoreCloud, dev: str, *path: str) -> list[str]:
    """The object's .data files on device ``dev``."""
    return glob.glob(os.path.join(hash_dir(cloud, dev, *path), "*.data"))


def hash_dir(cloud: ObjectStoreCloud, dev: str, *path: str) -> str:
    """``<device>/objects/<partition>/<suffix>/<hash>`` of an object."""
    account, container, obj = path
    part = Ring(cloud.swift_dir, "object").get_part(account, container, obj)
    digest = utils.hash_path(account, container, obj)
    return os.path.join(cloud.devices, dev, "objects", str(part), digest[-3:], digest)


def put(cloud: ObjectStoreCloud, token: str, path: str, body: bytes | None = None) -> int:
    return cloud.request("PUT", "/v1/%s/%s" % (cloud.demo_account, path), token, body=body)[0]


def test_replicator_fills_the_replica_of_a_server_that_was_down(
        cloud: ObjectStoreCloud) -> None:
    token = cloud.token()
    account = cloud.demo_account
    assert put(cloud, token, "probe-a") == 201
    body = os.urandom(200000)

    cloud.stop_server("object", "d1")
    assert put(cloud, token, "probe-a/obj", body) == 201  # two of three: a quorum
    path = (account, "probe-a", "obj")
    assert data_files(cloud, "d1", *path) == []
    assert all(len(data_files(cloud, dev, *path)) == 1 for dev in ("d2", "d3"))
    status, _, got = cloud.request("GET", "/v1/%s/probe-a/obj" % account, token)
    assert (status, got) == (200, body)

    cloud.start_server("object", "d1")
    part, nodes = ring_nodes(cloud, "object", *path)
    assert sorted(n["device"] for n in nodes) == list(DEVICES)
    assert backend_request(nodes[[n["device"] for n in nodes].index("d1")], part,
                           "HEAD", *path)[0] == 404

    cloud.run_daemon("replicator")
    etags, stamps = set(), set()
    for node in nodes:
        status, headers, got = backend_request(node, part, "GET", *path)
        assert (status, got) == (200, body), node
        etags.add(headers["ETag"])
        stamps.add(headers["X-Timestamp"])
    assert len(etags) == 1 and len(stamps) == 1
    sums = {md5_file(data_files(cloud, dev, *path)[0]) for dev in DEVICES}
    assert len(sums) == 1


def test_auditor_quarantines_a_corrupt_replica_and_replicator_restores_it(
        cloud: ObjectStoreCloud) -> None:
    token = cloud.token()
    account = cloud.demo_account
    assert put(cloud, token, "probe-b") == 201
    body = os.urandom(150000)
    assert put(cloud, token, "probe-b/obj", body) == 201
    path = (account, "probe-b", "obj")
    [victim] = data_files(cloud, "d2", *path)
    good = md5_file(victim)
    with open(victim, "r+b") as handle:  # flip bytes, same size
        handle.seek(1000)
        chunk = handle.read(16)
        handle.seek(1000)
        handle.write(bytes(b ^ 0xFF for b in chunk))
    assert os.path.getsize(victim) == len(body) and md5_file(victim) != good

    log = cloud.run_daemon("auditor")
    assert "quarantined" in log, log
    assert data_files(cloud, "d2", *path) == []
    digest = utils.hash_path(*path)
    quarantined = glob.glob(os.path.join(cloud.devices, "d2", "quarantined", "objects",
                                         digest + "*", "*.data"))
    assert len(quarantined) == 1
    assert all(len(data_files(cloud, dev, *path)) == 1 for dev in ("d1", "d3"))
    part, nodes = ring_nodes(cloud, "object", *path)
    d2 = nodes[[n["device"] for n in nodes].index("d2")]
    assert backend_request(d2, part, "HEAD", *path)[0] == 404
    status, _, got = cloud.request("GET", "/v1/%s/probe-b/obj" % account, token)
    assert (status, got) == (200, body)  # the proxy reads another replica

    cloud.run_daemon("replicator")
    restored = data_files(cloud, "d2", *path)
    assert len(restored) == 1 and md5_file(restored[0]) == good
    status, _, got = backend_request(d2, part, "GET", *path)
    assert (status, got) == (200, body)


def test_updater_sends_the_container_updates_of_a_server_that_was_down(
        cloud: ObjectStoreCloud) -> None:
    token = cloud.token()
    account = cloud.demo_account
    assert put(cloud, token, "probe-c") == 201
    part, nodes = ring_nodes(cloud, "container", account, "probe-c")
    d1 = nodes[[n["device"] for n in nodes].index("d1")]
    assert backend_request(d1, part, "HEAD", account, "probe-c")[0] == 204

    cloud.stop_server("container", "d1")
    names = ["obj-%d" % i for i in range(6)]
    for name in names:
        assert put(cloud, token, "probe-c/" + name, name.encode()) == 201
    pending = glob.glob(os.path.join(cloud.devices, "*", "async_pending", "*", "*"))
    assert pending, "no async pending written while a container server was down"
    cloud.start_server("container", "d1")

    def listing(node: dict[str, Any]) -> list[str]:
        status, _, body = backend_request(node, part, "GET", account, "probe-c",
                                          query="?format=json")
        assert status == 200, (node, status, body)
        return [entry["name"] for entry in json.loads(body)]

    assert listing(d1) == []  # nobody told it yet
    for node in nodes:
        if node["device"] != "d1":
            assert listing(node) == names

    cloud.run_daemon("updater")
    assert listing(d1) == names
    assert glob.glob(os.path.join(cloud.devices, "*", "async_pending", "*", "*")) == []
    status, headers, _ = backend_request(d1, part, "HEAD", account, "probe-c")
    assert status == 204 and headers["X-Container-Object-Count"] == str(len(names))


def test_replicated_tombstone_keeps_a_deleted_object_deleted(cloud: ObjectStoreCloud) -> None:
    token = cloud.token()
    account = cloud.demo_account
    assert put(cloud, token, "probe-d") == 201
    assert put(cloud, token, "probe-d/obj", b"soon gone") == 201
    path = (account, "probe-d", "obj")

    cloud.stop_server("object", "d3")
    status = cloud.request("DELETE", "/v1/%s/probe-d/obj" % account, token)[0]
    assert status == 204
    cloud.start_server("object", "d3")
    assert len(data_files(cloud, "d3", *path)) == 1  # the stale replica
    assert glob.glob(os.path.join(hash_dir(cloud, "d1", *path), "*.ts"))

    cloud.run_daemon("replicator")
    for dev in DEVICES:
        assert data_files(cloud, dev, *path) == [], dev
        assert glob.glob(os.path.join(hash_dir(cloud, dev, *path), "*.ts")), dev
    assert cloud.request("GET", "/v1/%s/probe-d/obj" % account, token)[0] == 404
    listing = cloud.request("GET", "/v1/%s/probe-d?format=json" % account, token)
    assert listing[0] == 200 and json.loads(listing[2]) == []


def test_container_replicator_creates_a_missing_container_replica(
        cloud: ObjectStoreCloud) -> None:
    token = cloud.token()
    account = cloud.demo_account
    cloud.stop_server("container", "d2")
    assert put(cloud, token, "probe-e") == 201
    assert put(cloud, token, "probe-e/one", b"1") == 201
    cloud.start_server("container", "d2")
    part, nodes = ring_nodes(cloud, "container", account, "probe-e")
    d2 = nodes[[n["device"] for n in nodes].index("d2")]
    assert backend_request(d2, part, "HEAD", account, "probe-e")[0] == 404

    cloud.run_daemon("replicator")
    status, headers, body = backend_request(d2, part, "GET", account, "probe-e",
                                            query="?format=json")
    assert status == 200, (status, body)
    assert [entry["name"] for entry in json.loads(body)] == ["one"]
