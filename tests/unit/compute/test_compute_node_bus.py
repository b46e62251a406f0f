"""The node daemon as ``stratus-compute-node`` builds it, with the real conductor
and scheduler services, over oslo.messaging's in-memory transport: heartbeats
and resource reports reach the database, a boot goes API -> conductor ->
scheduler -> node -> ACTIVE, casts and calls reach the node, expected errors
come back with their type."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from oslo_config import cfg

from common import rpc
from common import rpc_service
from compute import exception
from compute import rpcapi
from compute import states
from compute.cmd import conductor as conductor_cmd
from compute.cmd import node as node_cmd
from compute.cmd import scheduler as scheduler_cmd
from compute.db import hosts as hosts_db
from compute.db import instances as instances_db
from tests.fixtures import compute_daemons as fx
from tests.fixtures import compute_node as node_fx

WAIT = 30.0  # upper bound for waits on other threads; never an assertion on speed


@pytest.fixture
def bus(tmp_path: Any) -> Iterator[tuple[cfg.ConfigOpts, Any]]:
    conf, db = fx.make_db(str(tmp_path))
    rpc.register_opts(conf)
    rpc_service.register_opts(conf)
    conf.set_override("transport_url", "kombu+memory:////")
    conf.set_override("heartbeat_timeout_threshold", 0, group="oslo_messaging_rabbit")
    conf.set_override("driver", ["noop"], group="oslo_messaging_notifications")
    conf.set_override("report_interval", 0.05)
    conf.set_override("host", "node-9")
    conf.set_override("vcpus", 4, group="fake_driver")
    conf.set_override("memory_mb", 4096, group="fake_driver")
    conf.set_override("local_gb", 40, group="fake_driver")
    rpc.init(conf, exmods=node_cmd.EXMODS)
    try:
        yield conf, db
    finally:
        rpc.cleanup()
        db.dispose()


def _until(predicate: Any) -> Any:
    deadline = time.monotonic() + WAIT
    while True:
        found = predicate()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_node_daemon_on_the_bus(bus: tuple[cfg.ConfigOpts, Any], monkeypatch: Any) -> None:
    conf, db = bus
    # No image or network service here: their stand-ins (the rest is real).
    monkeypatch.setattr(node_cmd.neighbours_mod, "RestNeighbours",
                        lambda conf: node_fx.FakeNeighbours())
    store = instances_db.InstanceStore(db)
    hosts = hosts_db.HostStore(db)
    services = [conductor_cmd.build(conf, db), scheduler_cmd.build(conf, db)]
    for svc in services:
        svc.start()
    node = node_cmd.build(conf)
    node.start()
    services.append(node)
    try:
        # Heartbeats and the first resource report, through the conductor.
        _until(lambda: hosts.service_list(binary="stratus-compute-node", host="node-9"))
        [row] = _until(lambda: hosts.compute_node_list("node-9"))
        assert (row["vcpus"], row["memory_mb"], row["local_gb"], row["hypervisor_type"]) \
            == (4, 4096, 40, "fake")

        ctxt = fx.ctxt()
        inst = fx.add_instance(db, request_id=ctxt.request_id,
                               request_spec={"flavor": fx.TINY, "requested_networks": "none"})
        rpcapi.ConductorAPI(timeout=WAIT).build_instances(
            ctxt, [inst], fx.spec(requested_networks="none"))
        _until(lambda: store.get(inst)["vm_state"] == states.ACTIVE)
        got = store.get(inst)
        assert (got["host"], got["task_state"], got["power_state"]) == ("node-9", None, 1)

        def build_event() -> str | None:  # finished right after ACTIVE is written
            events = store.get_action(inst, ctxt.request_id)["events"]
            return {e["event"]: e["result"] for e in events}.get(
                "compute_build_and_run_instance")
        assert _until(build_event) == "Success"
        _until(lambda: hosts.compute_node_list("node-9")[0]["memory_mb_used"] == 512)

        client = rpcapi.ComputeNodeAPI(timeout=WAIT)
        assert "login:" in client.get_console_output(ctxt, "node-9", inst, tail_length=5)
        with pytest.raises(exception.InstanceNotFound):
            client.get_vnc_console(ctxt, "node-9", "00000000-0000-0000-0000-000000000000")
        store.update(inst, {"task_state": states.POWERING_OFF})
        client.stop_instance(ctxt, "node-9", inst, clean_shutdown=False)
        _until(lambda: store.get(inst)["vm_state"] == states.STOPPED)
        store.update(inst, {"task_state": states.DELETING})
        client.terminate_instance(ctxt, "node-9", inst)
        _until(lambda: store.get(inst, read_deleted=True)["vm_state"] == states.DELETED)
        _until(lambda: hosts.compute_node_list("node-9")[0]["memory_mb_used"] == 0)
    finally:
        # The node first: its heartbeats and reports call the conductor. Then the
        # others, in parallel (each takes about a second on this transport).
        node.stop()
        stoppers = [threading.Thread(target=s.stop) for s in services if s is not node]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join(WAIT * 3)
