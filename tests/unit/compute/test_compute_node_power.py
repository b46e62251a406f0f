"""Power actions record Nova's states; failures clear the task state with a fault;
the periodic power-state sync follows Nova's rules."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from compute import states
from compute.node import manager as node_manager
from compute.virt import exception as virt_exception
from compute.virt import fake
from compute.virt import power_state
from tests.fixtures import compute_node as fx

LIMITS = {"vcpu": 64.0, "memory_mb": 65536.0, "disk_gb": 1000.0}


@pytest.fixture
def node(cloud: fx.Cloud) -> node_manager.ComputeManager:
    manager = cloud.add_node("node-1")
    manager.init_host()
    return manager


@pytest.fixture
def active(cloud: fx.Cloud, node: node_manager.ComputeManager) -> dict[str, Any]:
    inst = cloud.conductor.new_instance(node.host)
    node.build_and_run_instance(fx.ctxt(), inst["uuid"], {}, LIMITS, node.host)
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert got["vm_state"] == states.ACTIVE
    return got


def _driver(node: node_manager.ComputeManager) -> fake.FakeDriver:
    assert isinstance(node.driver, fake.FakeDriver)
    return node.driver


def _act(cloud: fx.Cloud, uuid: str, task_state: str, call: Callable[..., None],
         *args: Any) -> dict[str, Any]:
    """What the API does (task state, action record), then the node's part."""
    cloud.conductor.store.update(uuid, {"task_state": task_state})
    ctxt = fx.ctxt()
    cloud.conductor.start_action(uuid, "act", ctxt.request_id)
    call(ctxt, uuid, *args)
    got = cloud.conductor.instance_get(None, uuid)
    got["events"] = [(e["event"], e["result"]) for e in
                     cloud.conductor.store.get_action(uuid, ctxt.request_id)["events"]]
    return got


def _states(got: dict[str, Any]) -> tuple[str, str | None, int]:
    return got["vm_state"], got["task_state"], got["power_state"]


def test_every_power_action_records_novas_states(cloud: fx.Cloud,
                                                 node: node_manager.ComputeManager,
                                                 active: dict[str, Any]) -> None:
    uuid = active["uuid"]
    got = _act(cloud, uuid, states.POWERING_OFF, node.stop_instance, False)
    assert _states(got) == (states.STOPPED, None, power_state.SHUTDOWN)
    assert got["events"] == [("compute_stop_instance", "Success")]
    got = _act(cloud, uuid, states.POWERING_ON, node.start_instance)
    assert _states(got) == (states.ACTIVE, None, power_state.RUNNING)
    got = _act(cloud, uuid, states.PAUSING, node.pause_instance)
    assert _states(got) == (states.PAUSED, None, power_state.PAUSED)
    got = _act(cloud, uuid, states.UNPAUSING, node.unpause_instance)
    assert _states(got) == (states.ACTIVE, None, power_state.RUNNING)
    got = _act(cloud, uuid, states.SUSPENDING, node.suspend_instance)
    assert _states(got) == (states.SUSPENDED, None, power_state.SUSPENDED)
    got = _act(cloud, uuid, states.RESUMING, node.resume_instance)
    assert _states(got) == (states.ACTIVE, None, power_state.RUNNING)
    got = _act(cloud, uuid, states.REBOOTING, node.reboot_instance, "SOFT")
    assert _states(got) == (states.ACTIVE, None, power_state.RUNNING)
    assert got["events"] == [("compute_reboot_instance", "Success")]
    got = _act(cloud, uuid, states.REBOOTING_HARD, node.reboot_instance, "HARD")
    assert _states(got) == (states.ACTIVE, None, power_state.RUNNING)
    assert cloud.conductor.faults(uuid) is None


def test_a_failed_action_clears_the_task_state_with_a_fault(
        cloud: fx.Cloud, node: node_manager.ComputeManager, active: dict[str, Any]) -> None:
    _driver(node).fail_next("pause", virt_exception.InstanceInvalidState(
        instance_uuid=active["uuid"], attr="power_state", state="crashed", method="pause"))
    got = _act(cloud, active["uuid"], states.PAUSING, node.pause_instance)
    assert _states(got) == (states.ACTIVE, None, power_state.RUNNING)
    assert got["events"] == [("compute_pause_instance", "Error")]
    fault = cloud.conductor.faults(active["uuid"])
    assert fault is not None and fault["code"] == 409 and "Cannot pause" in fault["message"]


def test_a_failed_reboot_leaving_the_guest_down_is_error(
        cloud: fx.Cloud, node: node_manager.ComputeManager, active: dict[str, Any]) -> None:
    driver = _driver(node)
    driver.fail_next("reboot", virt_exception.InstanceRebootFailure(reason="boom"))
    got = _act(cloud, active["uuid"], states.REBOOTING, node.reboot_instance, "SOFT")
    assert got["vm_state"] == states.ACTIVE and got["task_state"] is None  # still running
    driver.set_power_state(active["uuid"], power_state.SHUTDOWN)
    driver.fail_next("reboot", virt_exception.InstanceRebootFailure(reason="boom"))
    got = _act(cloud, active["uuid"], states.REBOOTING_HARD, node.reboot_instance, "HARD")
    assert (got["vm_state"], got["task_state"]) == (states.ERROR, None)
    fault = cloud.conductor.faults(active["uuid"])
    assert fault is not None and "boom" in fault["message"]


def test_an_action_raced_by_a_delete_changes_nothing(
        cloud: fx.Cloud, node: node_manager.ComputeManager, active: dict[str, Any]) -> None:
    cloud.conductor.store.update(active["uuid"], {"task_state": states.DELETING})
    node.stop_instance(fx.ctxt(), active["uuid"], True)
    got = cloud.conductor.instance_get(None, active["uuid"])
    assert got["task_state"] == states.DELETING and cloud.conductor.faults(got["uuid"]) is None


def test_clean_stop_asks_the_guest_first(cloud: fx.Cloud, node: node_manager.ComputeManager,
                                         active: dict[str, Any]) -> None:
    seen: list[tuple[int, int]] = []
    driver = _driver(node)
    original = driver.power_off

    def power_off(instance: Any, timeout: int = 0, retry_interval: int = 0) -> None:
        seen.append((timeout, retry_interval))
        original(instance)
    driver.power_off = power_off  # type: ignore[method-assign]
    _act(cloud, active["uuid"], states.POWERING_OFF, node.stop_instance, True)
    assert seen == [(60, 10)]


# -- the sync ------------------------------------------------------------------------------


def test_sync_records_a_guest_that_shut_itself_down_as_stopped(
        cloud: fx.Cloud, node: node_manager.ComputeManager, active: dict[str, Any]) -> None:
    _driver(node).set_power_state(active["uuid"], power_state.SHUTDOWN)
    node._sync_power_states(fx.ctxt())
    got = cloud.conductor.instance_get(None, active["uuid"])
    assert _states(got) == (states.STOPPED, None, power_state.SHUTDOWN)


def test_sync_powers_off_a_running_guest_of_a_stopped_instance(
        cloud: fx.Cloud, node: node_manager.ComputeManager, active: dict[str, Any]) -> None:
    cloud.conductor.store.update(active["uuid"], {"vm_state": states.STOPPED})
    node._sync_power_states(fx.ctxt())
    got = cloud.conductor.instance_get(None, active["uuid"])
    assert _states(got) == (states.STOPPED, None, power_state.SHUTDOWN)
    assert _driver(node).get_info(fx_instance(got)).state == power_state.SHUTDOWN


def test_sync_leaves_busy_and_paused_instances(cloud: fx.Cloud, node: node_manager.ComputeManager,
                                               active: dict[str, Any]) -> None:
    _driver(node).set_power_state(active["uuid"], power_state.PAUSED)
    node._sync_power_states(fx.ctxt())
    got = cloud.conductor.instance_get(None, active["uuid"])
    assert _states(got) == (states.ACTIVE, None, power_state.PAUSED)  # Nova: ignore
    cloud.conductor.store.update(active["uuid"], {"task_state": states.REBOOTING})
    _driver(node).set_power_state(active["uuid"], power_state.SHUTDOWN)
    node._sync_power_states(fx.ctxt())
    assert cloud.conductor.instance_get(None, active["uuid"])["vm_state"] == states.ACTIVE


def test_sync_of_an_unknown_guest_records_shutdown_only(
        cloud: fx.Cloud, node: node_manager.ComputeManager, active: dict[str, Any]) -> None:
    _driver(node).destroy(None, fx_instance(active), [])
    node._sync_power_states(fx.ctxt())
    got = cloud.conductor.instance_get(None, active["uuid"])
    assert _states(got) == (states.ACTIVE, None, power_state.SHUTDOWN)


def test_sync_reaps_the_guest_of_a_deleted_instance(
        cloud: fx.Cloud, node: node_manager.ComputeManager, active: dict[str, Any]) -> None:
    cloud.conductor.store.destroy(active["uuid"])  # deleted while the node looked away
    node._sync_power_states(fx.ctxt())
    assert node.driver.list_instance_uuids() == []


def fx_instance(row: dict[str, Any]) -> Any:
    from compute.node import base
    return base.driver_instance(row)
