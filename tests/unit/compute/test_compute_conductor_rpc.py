"""Both daemons' services over the real oslo.messaging in-memory transport: one
boot goes build_instances -> select_destinations -> build_and_run_instance, the
expected errors cross the bus with their type, and both daemons report
heartbeats into the services table."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import oslo_messaging
import pytest
from oslo_config import cfg

from common import rpc
from common import rpc_service
from compute import exception
from compute import rpcapi
from compute.cmd import conductor as conductor_cmd
from compute.cmd import scheduler as scheduler_cmd
from compute.db import hosts as hosts_db
from compute.db import instances as instances_db
from tests.fixtures import compute_daemons as fx

WAIT = 10.0  # upper bound for waits on other threads; never an assertion on speed


class FakeNode:
    """The compute node's side of the build cast."""

    target = oslo_messaging.Target(version="1.0")

    def __init__(self) -> None:
        self.builds: list[dict[str, Any]] = []
        self.event = threading.Event()

    def build_and_run_instance(self, ctxt: Any, instance_uuid: str,
                               request_spec: dict[str, Any], limits: dict[str, Any],
                               node: str) -> None:
        self.builds.append({"instance_uuid": instance_uuid, "request_spec": request_spec,
                            "limits": limits, "node": node,
                            "request_id": ctxt.request_id})
        self.event.set()


@pytest.fixture
def bus(tmp_path: Any) -> Iterator[tuple[cfg.ConfigOpts, Any]]:
    conf, db = fx.make_db(str(tmp_path))
    rpc.register_opts(conf)
    rpc_service.register_opts(conf)
    conf.set_override("transport_url", "kombu+memory:////")
    conf.set_override("heartbeat_timeout_threshold", 0, group="oslo_messaging_rabbit")
    conf.set_override("driver", ["noop"], group="oslo_messaging_notifications")
    conf.set_override("report_interval", 0.05)
    conf.set_override("host", "controller")
    rpc.init(conf, exmods=rpcapi.EXMODS)
    try:
        yield conf, db
    finally:
        rpc.cleanup()
        db.dispose()


def test_one_boot_over_the_bus(bus: tuple[cfg.ConfigOpts, Any]) -> None:
    conf, db = bus
    fx.add_host(db, "node1")
    node = FakeNode()
    node_server = rpc.get_server(oslo_messaging.Target(topic=rpcapi.COMPUTE_TOPIC,
                                                       server="node1"), [node])
    services = [scheduler_cmd.build(conf, db), conductor_cmd.build(conf, db)]
    node_server.start()
    for svc in services:
        svc.start()
    try:
        ctxt = fx.ctxt()
        inst = fx.add_instance(db, request_id=ctxt.request_id)
        rpcapi.ConductorAPI(timeout=WAIT).build_instances(ctxt, [inst], fx.spec())
        assert node.event.wait(WAIT)
        [built] = node.builds
        assert (built["instance_uuid"], built["node"]) == (inst, "node1")
        assert built["request_id"] == ctxt.request_id
        assert built["request_spec"]["retry"]["hosts"] == [["node1", "node1"]]
        assert built["limits"]["memory_mb"] == 4096.0
        assert instances_db.InstanceStore(db).get(inst)["host"] == "node1"

        # Expected errors arrive with their own type.
        conductor = rpcapi.ConductorAPI(timeout=WAIT)
        with pytest.raises(exception.UnexpectedTaskStateError):
            conductor.instance_update(ctxt, inst, {"task_state": None},
                                      expected_task_state="rebooting")
        assert conductor.instance_update(ctxt, inst, {"task_state": "spawning"})[
            "task_state"] == "spawning"
        with pytest.raises(exception.InstanceNotFound):
            conductor.instance_get(ctxt, "no-such-instance")
        with pytest.raises(exception.NoValidHost, match="RamFilter removed 1"):
            rpcapi.SchedulerAPI(timeout=WAIT).select_destinations(
                ctxt, fx.spec(dict(fx.TINY, memory_mb=1 << 20)), [fx.add_instance(db)])

        # Heartbeats, shown by os-services under Nova's names.
        store = hosts_db.HostStore(db)
        beats = {s["binary"]: s for s in store.service_list(host="controller")}
        assert {"stratus-compute-conductor", "stratus-compute-scheduler"} <= set(beats)
        assert all(hosts_db.is_up(s, 60) for s in beats.values())
        assert {hosts_db.NOVA_BINARIES[b] for b in beats} == {"nova-conductor",
                                                              "nova-scheduler"}
    finally:
        # Each server takes about a second to stop on this transport: in parallel.
        def stop_node() -> None:
            node_server.stop()
            node_server.wait()

        stoppers = [threading.Thread(target=f) for f in [stop_node] + [s.stop for s in services]]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join(WAIT * 3)
