"""The harness of the background-daemon tests (test_os_replication.py,
test_os_background_daemons.py): a small cluster of real storage servers on
127.0.0.1. Four nodes, each with one device (``d0``…``d3``) in its own devices
directory and its own object, container and account servers; rings of three
replicas over the four devices (so every partition has one handoff device). The
daemons run one pass (``run_pass``) per node, as ``--once`` would.
"""
from __future__ import annotations

import json
import os
import threading
from typing import Any

import pytest
from oslo_config import cfg

from common.wsgi.server import Server
from objectstore import conf as objectstore_conf
from objectstore.common import backend
from objectstore.common.ring import Ring, RingBuilder
from objectstore.common.utils import Timestamp
from objectstore.conf import daemons as daemons_conf
from objectstore.daemons import db_replicator, obj_replicator
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


def object_placement(cluster: Cluster, name: str = "o"
                     ) -> tuple[str, int, list[dict[str, Any]], dict[str, Any]]:
    """Path, partition, primaries and the handoff device of ``/a/c/<name>``."""
    part, primaries = cluster.rings["object"].get_nodes("a", "c", name)
    handoff = next(cluster.rings["object"].get_more_nodes(part))
    return "/a/c/" + name, part, primaries, handoff


def replicate(cluster: Cluster, dev: dict[str, Any]) -> dict[str, int]:
    node = cluster.node_of(dev)
    return obj_replicator.ObjectReplicator(node.conf).run_pass()


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
