"""Waiting for network-vif-plugged: a build of a driver whose taps the network
agent plugs waits for every port not ACTIVE yet, times out (fatal or not),
fails on a failed event, and wakes at once when the instance is deleted."""
from __future__ import annotations

import threading
import time
from typing import Any, Iterator

import pytest

from compute import states
from compute.node import events
from compute.node import manager as node_manager
from compute.virt import fake
from compute.virt import power_state
from tests.fixtures import compute_node as fx

LIMITS = {"vcpu": 64.0, "memory_mb": 65536.0, "disk_gb": 1000.0}


class PluggingDriver(fake.FakeDriver):
    """The fake, named like a driver whose ports the network agent plugs."""

    name = "libvirt"


@pytest.fixture
def cloud(tmp_path: Any) -> Iterator[fx.Cloud]:
    found = fx.Cloud(str(tmp_path), vif_plugging_timeout=5)
    found.neighbours.active = False  # new ports are DOWN until the agent wires them
    yield found
    found.close()


def _node(cloud: fx.Cloud, driver: fake.FakeDriver | None = None) -> node_manager.ComputeManager:
    node = cloud.add_node("node-1", driver=driver or PluggingDriver("node-1"), inline=False)
    node.init_host()
    return node


def _start_build(cloud: fx.Cloud, node: node_manager.ComputeManager) -> dict[str, Any]:
    inst = cloud.conductor.new_instance("node-1")
    node.build_and_run_instance(fx.ctxt(), inst["uuid"], {}, LIMITS,
                                "node-1")
    return inst


def _wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def _row(cloud: fx.Cloud, uuid: str) -> dict[str, Any]:
    return cloud.conductor.store.get(uuid, read_deleted=True)


def _waiting(node: node_manager.ComputeManager, uuid: str) -> list[Any]:
    return node.node.events.pending(uuid)


def test_build_waits_for_vif_plugged_then_runs(cloud: fx.Cloud) -> None:
    node = _node(cloud)
    inst = _start_build(cloud, node)
    _wait_for(lambda: _waiting(node, inst["uuid"]) and
              inst["uuid"] in node.driver.list_instance_uuids())
    port = cloud.neighbours.ports_of(inst["uuid"])[0]
    assert _waiting(node, inst["uuid"]) == [("network-vif-plugged", port)]
    assert node.driver.get_info(_guest(cloud, inst)).state == power_state.PAUSED
    assert _row(cloud, inst["uuid"])["task_state"] == states.SPAWNING
    node.external_instance_event(fx.ctxt(), [{"name": "network-vif-plugged", "tag": port,
                                              "status": "completed",
                                              "server_uuid": inst["uuid"]}])
    _wait_for(lambda: _row(cloud, inst["uuid"])["vm_state"] == states.ACTIVE)
    assert node.driver.get_info(_guest(cloud, inst)).state == power_state.RUNNING
    assert _waiting(node, inst["uuid"]) == []


def test_vif_plugging_timeout_is_fatal(cloud: fx.Cloud) -> None:
    cloud.conf.set_override("vif_plugging_timeout", 1, group="compute")
    node = _node(cloud)
    inst = _start_build(cloud, node)
    # The fault comes first (whoever sees ERROR finds why); the claim goes last.
    _wait_for(lambda: _row(cloud, inst["uuid"])["vm_state"] == states.ERROR
              and node.node.tracker.claims() == {}, timeout=10)
    fault = cloud.conductor.faults(inst["uuid"])
    assert fault is not None and "Virtual Interface creation failed" in fault["message"]
    assert node.driver.list_instance_uuids() == []
    assert cloud.neighbours.ports_of(inst["uuid"]) == []
    assert node.node.tracker.claims() == {}


def test_vif_plugging_timeout_not_fatal_boots_anyway(cloud: fx.Cloud) -> None:
    cloud.conf.set_override("vif_plugging_timeout", 1, group="compute")
    cloud.conf.set_override("vif_plugging_is_fatal", False, group="compute")
    node = _node(cloud)
    inst = _start_build(cloud, node)
    _wait_for(lambda: _row(cloud, inst["uuid"])["vm_state"] == states.ACTIVE, timeout=10)


def test_a_failed_plug_event_fails_the_build(cloud: fx.Cloud) -> None:
    node = _node(cloud)
    inst = _start_build(cloud, node)
    _wait_for(lambda: _waiting(node, inst["uuid"]))
    port = cloud.neighbours.ports_of(inst["uuid"])[0]
    node.external_instance_event(fx.ctxt(), [{"name": "network-vif-plugged", "tag": port,
                                              "status": "failed",
                                              "server_uuid": inst["uuid"]}])
    _wait_for(lambda: _row(cloud, inst["uuid"])["vm_state"] == states.ERROR)
    assert cloud.conductor.faults(inst["uuid"]) is not None


def test_delete_while_waiting_wakes_the_build(cloud: fx.Cloud) -> None:
    cloud.conf.set_override("vif_plugging_timeout", 300, group="compute")
    node = _node(cloud)
    inst = _start_build(cloud, node)
    _wait_for(lambda: _waiting(node, inst["uuid"]))
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.DELETING})
    started = time.monotonic()
    node.terminate_instance(fx.ctxt(), inst["uuid"])  # waits for the build's lock
    assert time.monotonic() - started < 5
    assert _row(cloud, inst["uuid"])["vm_state"] == states.DELETED
    assert node.driver.list_instance_uuids() == []
    assert cloud.neighbours.ports_of(inst["uuid"]) == []
    _wait_for(lambda: node.node.tracker.claims() == {})


def test_active_ports_and_the_fake_driver_never_wait(cloud: fx.Cloud) -> None:
    node = _node(cloud, driver=fake.FakeDriver("node-1"))
    inst = _start_build(cloud, node)
    _wait_for(lambda: _row(cloud, inst["uuid"])["vm_state"] == states.ACTIVE)
    cloud.neighbours.active = True
    other = _node(cloud)
    second = _start_build(cloud, other)
    _wait_for(lambda: _row(cloud, second["uuid"])["vm_state"] == states.ACTIVE)


# -- the waiters themselves ---------------------------------------------------------------


def test_waiters_release_time_out_and_cancel() -> None:
    registry = events.InstanceEvents()
    group = registry.prepare("i1", [("network-vif-plugged", "p1"),
                                    ("network-vif-plugged", "p2")])
    assert registry.deliver("i1", "network-vif-plugged", "p1")
    assert not registry.deliver("i1", "network-vif-plugged", "unknown")
    with pytest.raises(events.EventTimeout, match="p2"):
        group.wait(0.05)
    assert group.wait(0.05, fatal=False) == [("network-vif-plugged", "p2")]
    group.clear()
    assert registry.pending("i1") == []

    group = registry.prepare("i2", [("network-vif-plugged", "p3")])
    threading.Timer(0.05, registry.cancel, ("i2",)).start()
    with pytest.raises(events.EventsCancelled):
        group.wait(5)


def _guest(cloud: fx.Cloud, inst: dict[str, Any]) -> Any:
    from compute.node import base
    return base.driver_instance(_row(cloud, inst["uuid"]))
