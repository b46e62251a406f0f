"""``GET /os-hypervisors/{id}/uptime``: the API asks the hypervisor's compute node
over RPC (oslo.messaging's in-memory transport) and the real node manager answers
from its fake driver; a node whose driver cannot tell or whose RPC API predates
the method is a 501, a down or silent node a 400, an unknown hypervisor a 404, a
non-admin a 403."""
from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterator
from typing import Any

import oslo_messaging as messaging
import pytest
import compute_admin_helpers as helpers
from compute_admin_helpers import MvApi, add_node, add_service, name
from compute_api_helpers import message, project
from oslo_config import cfg

from common import rpc
from compute import rpcapi
from compute.node import manager as node_manager
from compute.virt import driver as virt_driver
from compute.virt import fake
from tests.fixtures import compute_node as node_fx

db, latest, mv = helpers.db, helpers.latest, helpers.mv
UPTIME = re.compile(r"^ \d\d:\d\d:\d\d up (\d+ days?, )?( ?\d+:\d\d|\d+ min),\s+\d+ users?,"
                    r"  load average: \d+\.\d\d, \d+\.\d\d, \d+\.\d\d$")


class NoUptimeDriver(fake.FakeDriver):
    """A driver that leaves the optional hook to the base."""

    get_host_uptime = virt_driver.ComputeDriver.get_host_uptime


class OldNode(node_manager.ComputeManager):
    """A node of RPC API 1.3, before get_host_uptime."""

    target = messaging.Target(version="1.3")


class Bus:
    """The in-memory RPC transport and the compute nodes listening on it."""

    def __init__(self, path: str) -> None:
        conf = cfg.ConfigOpts()
        rpc.register_opts(conf)
        conf([], project="stratus-test", default_config_files=[])
        conf.set_override("transport_url", "kombu+memory:////")
        conf.set_override("heartbeat_timeout_threshold", 0, group="oslo_messaging_rabbit")
        conf.set_override("driver", ["noop"], group="oslo_messaging_notifications")
        rpc.init(conf, exmods=rpcapi.EXMODS)
        self.cloud = node_fx.Cloud(path)
        self.servers: list[Any] = []

    def serve(self, host: str, driver: fake.FakeDriver | None = None,
              manager_class: type = node_manager.ComputeManager) -> fake.FakeDriver:
        driver = driver or fake.FakeDriver(host)
        manager = manager_class(self.cloud.conf, driver, self.cloud.conductor,
                                self.cloud.neighbours, self.cloud.rpc, host=host,
                                build_executor=node_manager.InlineExecutor())
        server = rpc.get_server(messaging.Target(topic=rpcapi.COMPUTE_TOPIC, server=host),
                                [manager])
        server.start()
        self.servers.append(server)
        return driver

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
            server.wait()
        self.cloud.close()
        rpc.cleanup()


@pytest.fixture(scope="module")
def bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bus]:
    found = Bus(str(tmp_path_factory.mktemp("nodes")))
    try:
        yield found
    finally:
        found.stop()


def _node(db: Any, bus: Bus | None, **serve: Any) -> dict[str, Any]:
    host = name("up")
    service = add_service(db, host)
    node = add_node(db, host)
    if bus is not None:
        bus.serve(host, **serve)
    return dict(node, service=service)


def _path(node: dict[str, Any], key: str = "id") -> str:
    return "/v2.1/os-hypervisors/%s/uptime" % node[key]


def test_uptime_from_the_node(mv: MvApi, db: Any, bus: Bus) -> None:
    node = _node(db, bus)
    body = mv.at("2.1", "GET", _path(node), status=200).json
    assert set(body) == {"hypervisor"}
    shown = body["hypervisor"]
    assert {k: shown[k] for k in ("id", "hypervisor_hostname", "state", "status")} == {
        "id": node["id"], "hypervisor_hostname": node["hypervisor_hostname"],
        "state": "up", "status": "enabled"}
    assert set(shown) == {"id", "hypervisor_hostname", "state", "status", "uptime"}
    # The fake host was just made: up for minutes, no one logged in, no load.
    assert UPTIME.match(shown["uptime"]), shown["uptime"]
    assert " up 0 min,  0 users,  load average: 0.00, 0.00, 0.00" in shown["uptime"]
    # From 2.53 the id is the uuid (the helpers let the test ask beyond 2.47).
    at253 = mv.at("2.53", "GET", _path(node, "uuid"), status=200).json["hypervisor"]
    assert at253["id"] == node["uuid"] and UPTIME.match(at253["uptime"])


def test_unknown_hypervisors(mv: MvApi, db: Any) -> None:
    for bad in ("999999", "abc", str(uuid.uuid4())):
        resp = mv.at("2.1", "GET", "/v2.1/os-hypervisors/%s/uptime" % bad, status=404)
        assert bad in message(resp)
    mv.at("2.53", "GET", "/v2.1/os-hypervisors/%s/uptime" % uuid.uuid4(), status=404)
    mv.at("2.53", "GET", "/v2.1/os-hypervisors/17/uptime", status=400)


def test_admin_only(mv: MvApi, db: Any, bus: Bus) -> None:
    node = _node(db, bus)
    p = project()
    for roles in ("member,reader", "reader"):
        mv.at("2.1", "GET", _path(node), project_id=p, roles=roles, status=403)


def _not_implemented(mv: MvApi, node: dict[str, Any]) -> str:
    """The message of a 501 (the test client refuses every 5xx, so the request is
    made directly)."""
    resp = mv.app.request(_path(node), expect_errors=True, headers={
        "X-Test-Project": helpers.ADMIN, "X-Test-Roles": helpers.ADMIN_ROLES})
    assert resp.status_int == 501, resp.text
    assert set(resp.json) == {"notImplemented"} and resp.json["notImplemented"]["code"] == 501
    assert resp.headers["X-OpenStack-Nova-API-Version"] == "2.1"
    return str(resp.json["notImplemented"]["message"])


def test_drivers_and_nodes_that_cannot_tell(mv: MvApi, db: Any, bus: Bus) -> None:
    no_hook = _node(db, bus, driver=NoUptimeDriver(name("nohook")))
    assert _not_implemented(mv, no_hook) == \
        "The fake driver does not report the host's uptime."
    old = _node(db, bus, manager_class=OldNode)
    assert _not_implemented(mv, old) == \
        "The compute node of %s does not implement the host's uptime." % old["host"]


def test_down_silent_and_failing_nodes(mv: MvApi, db: Any, bus: Bus,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # A service whose last report is old: refused before any RPC, as Nova.
    host = name("down")
    long_ago = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - \
        datetime.timedelta(days=1)
    down = dict(add_node(db, host), service=add_service(db, host, seen=long_ago))
    resp = mv.at("2.1", "GET", _path(down), status=400)
    assert message(resp) == "Compute service of %s is unavailable at this time." % host
    # A service that reports but whose node does not answer on the bus.
    real = rpcapi.ComputeNodeAPI
    monkeypatch.setattr(rpcapi, "ComputeNodeAPI", lambda *a, **k: real(timeout=1))
    silent = _node(db, None)
    resp = mv.at("2.1", "GET", _path(silent), status=400)
    assert silent["host"] in message(resp)
    # A driver that fails: the node's error is logged, the caller gets the 400.
    failing_driver = fake.FakeDriver(name("fail"))
    failing = _node(db, bus, driver=failing_driver)
    failing_driver.fail_next("get_host_uptime", RuntimeError("no /proc"))
    mv.at("2.1", "GET", _path(failing), status=400)
    mv.at("2.1", "GET", _path(failing), status=200)
