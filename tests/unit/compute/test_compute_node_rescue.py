"""Rescue and unrescue on the node (compute/node/rescue.py): states, power
states, the rescue image, instance action events, failures (the vm_state
stays, a fault), the fake driver's rescue, and the crash recovery of a node
killed mid-rescue; the real ComputeManager with the fake driver."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from compute import states
from compute.node import base
from compute.node import manager as node_manager
from compute.virt import exception as virt_exception
from compute.virt import fake
from compute.virt import power_state
from tests.fixtures import compute_node as fx

LIMITS = {"vcpu": 64.0, "memory_mb": 65536.0, "disk_gb": 1000.0}
RESCUE_IMAGE = "22222222-3333-4444-5555-666666666666"


@pytest.fixture
def cloud(tmp_path: Any) -> Iterator[fx.Cloud]:
    found = fx.Cloud(str(tmp_path))
    found.neighbours.images[RESCUE_IMAGE] = {
        "id": RESCUE_IMAGE, "name": "rescue", "disk_format": "raw", "status": "active",
        "container_format": "bare", "min_ram": 0, "min_disk": 0, "kernel_id": "k-1"}
    yield found
    found.close()


def _driver(node: node_manager.ComputeManager) -> fake.FakeDriver:
    assert isinstance(node.driver, fake.FakeDriver)
    return node.driver


def _active(cloud: fx.Cloud, node: node_manager.ComputeManager) -> dict[str, Any]:
    inst = cloud.conductor.new_instance(node.host)
    node.build_and_run_instance(fx.ctxt(), inst["uuid"], {}, LIMITS, node.host)
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert got["vm_state"] == states.ACTIVE
    return got


def _start(cloud: fx.Cloud, uuid: str, task: str, action: str) -> Any:
    """What the API does before it casts: the task state and the action."""
    cloud.conductor.instance_update(None, uuid, {"task_state": task})
    ctxt = fx.ctxt()
    cloud.conductor.start_action(uuid, action, ctxt.request_id)
    return ctxt


def _events(cloud: fx.Cloud, uuid: str, ctxt: Any) -> list[tuple[str, str]]:
    action = cloud.conductor.store.get_action(uuid, ctxt.request_id)
    return [(e["event"], e["result"]) for e in action["events"]]


def test_rescue_then_unrescue(cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    inst = _active(cloud, node)
    uuid = inst["uuid"]
    ctxt = _start(cloud, uuid, states.RESCUING, "rescue")
    node.rescue_instance(ctxt, uuid, "pw-1", None)
    got = cloud.conductor.instance_get(None, uuid)
    assert (got["vm_state"], got["task_state"], got["power_state"]) == (
        states.RESCUED, None, power_state.RUNNING)
    assert got["launched_at"] >= inst["launched_at"]
    assert _events(cloud, uuid, ctxt) == [("compute_rescue_instance", "Success")]
    driver = _driver(node)
    assert driver.rescue_passwords[uuid] == "pw-1"
    guest = driver._guests[uuid]
    assert guest.image_meta.id == fx.IMAGE_ID, "the server's own image by default"
    assert uuid in driver.rescued
    console = driver.get_console_output(base.driver_instance(got))
    assert "reboot: Power down" in console
    assert "fake-guest: rescue: booting image %s" % fx.IMAGE_ID in console
    # The power sync leaves a rescued server alone.
    node._sync_power_states(fx.ctxt())
    assert cloud.conductor.instance_get(None, uuid)["vm_state"] == states.RESCUED

    ctxt = _start(cloud, uuid, states.UNRESCUING, "unrescue")
    node.unrescue_instance(ctxt, uuid)
    got = cloud.conductor.instance_get(None, uuid)
    assert (got["vm_state"], got["task_state"], got["power_state"]) == (
        states.ACTIVE, None, power_state.RUNNING)
    assert _events(cloud, uuid, ctxt) == [("compute_unrescue_instance", "Success")]
    assert driver._guests[uuid].image_meta.id == fx.IMAGE_ID and uuid not in driver.rescued
    assert "fake-guest: rescue: over" in driver.get_console_output(base.driver_instance(got))


def test_rescue_with_an_image_from_stopped(cloud: fx.Cloud,
                                           node: node_manager.ComputeManager) -> None:
    uuid = _active(cloud, node)["uuid"]
    node.stop_instance(fx.ctxt(), uuid)
    assert cloud.conductor.instance_get(None, uuid)["vm_state"] == states.STOPPED
    ctxt = _start(cloud, uuid, states.RESCUING, "rescue")
    node.rescue_instance(ctxt, uuid, None, RESCUE_IMAGE, clean_shutdown=False)
    got = cloud.conductor.instance_get(None, uuid)
    assert (got["vm_state"], got["power_state"]) == (states.RESCUED, power_state.RUNNING)
    guest = _driver(node)._guests[uuid]
    assert (guest.image_meta.id, guest.image_meta.kernel_id) == (RESCUE_IMAGE, "k-1")
    # Unrescue always ends ACTIVE, as on Nova.
    node.unrescue_instance(_start(cloud, uuid, states.UNRESCUING, "unrescue"), uuid)
    assert cloud.conductor.instance_get(None, uuid)["vm_state"] == states.ACTIVE


def test_a_failed_rescue_keeps_the_state_and_restarts_the_guest(
        cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    uuid = _active(cloud, node)["uuid"]
    _driver(node).fail_next("rescue", virt_exception.InstanceRescueFailure(
        instance_id=uuid, reason="no space left"))
    ctxt = _start(cloud, uuid, states.RESCUING, "rescue")
    node.rescue_instance(ctxt, uuid, None, None)
    got = cloud.conductor.instance_get(None, uuid)
    assert (got["vm_state"], got["task_state"], got["power_state"]) == (
        states.ACTIVE, None, power_state.RUNNING)
    fault = cloud.conductor.faults(uuid)
    assert fault is not None and fault["code"] == 400
    assert fault["message"] == (
        "Instance %s cannot be rescued: Driver Error: Failed to move instance %s to rescue "
        "mode: no space left" % (uuid, uuid))
    assert _events(cloud, uuid, ctxt) == [("compute_rescue_instance", "Error")]
    assert _driver(node).get_info(base.driver_instance(got)).state == power_state.RUNNING


def test_a_failed_rescue_whose_guest_does_not_start_again_is_error(
        cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    uuid = _active(cloud, node)["uuid"]
    driver = _driver(node)
    driver.fail_next("rescue", virt_exception.InstanceRescueFailure(instance_id=uuid,
                                                                     reason="boom"))
    driver.fail_next("power_on", virt_exception.InstancePowerOnFailure(reason="no"))
    node.rescue_instance(_start(cloud, uuid, states.RESCUING, "rescue"), uuid, None, None)
    got = cloud.conductor.instance_get(None, uuid)
    assert (got["vm_state"], got["task_state"], got["power_state"]) == (
        states.ERROR, None, power_state.SHUTDOWN)
    assert "cannot be rescued" in (cloud.conductor.faults(uuid) or {})["message"]


def test_a_volume_backed_server_or_an_unknown_image_is_not_rescued(
        cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    uuid = _active(cloud, node)["uuid"]
    node.rescue_instance(_start(cloud, uuid, states.RESCUING, "rescue"), uuid, None,
                         "33333333-0000-0000-0000-000000000000")
    got = cloud.conductor.instance_get(None, uuid)
    assert (got["vm_state"], got["task_state"], got["power_state"]) == (
        states.ACTIVE, None, power_state.RUNNING)
    assert "could not be found" in (cloud.conductor.faults(uuid) or {})["message"]
    cloud.conductor.instance_update(None, uuid, {"image_ref": ""})
    node.rescue_instance(_start(cloud, uuid, states.RESCUING, "rescue"), uuid, None, None)
    assert (cloud.conductor.faults(uuid) or {})["message"] == (
        "Instance %s cannot be rescued: Cannot rescue a volume-backed instance" % uuid)
    assert _driver(node).get_info(base.driver_instance(got)).state == power_state.RUNNING


def test_a_failed_unrescue_stays_rescued_with_a_fault(
        cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    uuid = _active(cloud, node)["uuid"]
    node.rescue_instance(_start(cloud, uuid, states.RESCUING, "rescue"), uuid, None, None)
    _driver(node).fail_next("unrescue", virt_exception.InstanceUnrescueFailure(
        instance_id=uuid, reason="libvirt said no"))
    ctxt = _start(cloud, uuid, states.UNRESCUING, "unrescue")
    node.unrescue_instance(ctxt, uuid)
    got = cloud.conductor.instance_get(None, uuid)
    assert (got["vm_state"], got["task_state"]) == (states.RESCUED, None)
    assert "libvirt said no" in (cloud.conductor.faults(uuid) or {})["message"]
    assert _events(cloud, uuid, ctxt) == [("compute_unrescue_instance", "Error")]
    node.unrescue_instance(_start(cloud, uuid, states.UNRESCUING, "unrescue"), uuid)
    assert cloud.conductor.instance_get(None, uuid)["vm_state"] == states.ACTIVE


def test_a_rescued_server_can_be_deleted(cloud: fx.Cloud,
                                         node: node_manager.ComputeManager) -> None:
    uuid = _active(cloud, node)["uuid"]
    node.rescue_instance(_start(cloud, uuid, states.RESCUING, "rescue"), uuid, None, None)
    node.terminate_instance(fx.ctxt(), uuid)
    assert cloud.conductor.store.get(uuid, read_deleted=True)["vm_state"] == states.DELETED
    driver = _driver(node)
    assert driver.list_instance_uuids() == [] and driver.rescued == {}


def test_a_driver_without_rescue(cloud: fx.Cloud, node: node_manager.ComputeManager,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    uuid = _active(cloud, node)["uuid"]
    monkeypatch.setattr(fake.FakeDriver, "supports_rescue", False)
    node.rescue_instance(_start(cloud, uuid, states.RESCUING, "rescue"), uuid, None, None)
    got = cloud.conductor.instance_get(None, uuid)
    assert (got["vm_state"], got["task_state"]) == (states.ACTIVE, None)
    assert "The fake driver cannot rescue instances." in (
        cloud.conductor.faults(uuid) or {})["message"]


# -- crash recovery ----------------------------------------------------------------------


def _restart(cloud: fx.Cloud, driver: fake.FakeDriver) -> node_manager.ComputeManager:
    """A new node process on the same hypervisor (the guests survive)."""
    node = cloud.add_node("node-1", driver=driver)
    node.init_host()
    return node


def test_a_node_killed_mid_rescue_undoes_it(cloud: fx.Cloud,
                                            node: node_manager.ComputeManager) -> None:
    driver = _driver(node)
    halfway = _active(cloud, node)["uuid"]
    done = _active(cloud, node)["uuid"]
    # Died after the driver's rescue of one, before the power off of the other.
    node.rescue_instance(_start(cloud, done, states.RESCUING, "rescue"), done, None, None)
    cloud.conductor.instance_update(None, done, {"vm_state": states.ACTIVE,
                                                 "task_state": states.RESCUING})
    cloud.conductor.instance_update(None, halfway, {"task_state": states.RESCUING})
    _restart(cloud, driver)
    for uuid in (halfway, done):
        got = cloud.conductor.instance_get(None, uuid)
        assert (got["vm_state"], got["task_state"], got["power_state"]) == (
            states.ACTIVE, None, power_state.RUNNING)
        assert (cloud.conductor.faults(uuid) or {})["message"] == (
            "Instance was being rescued when the compute node restarted; the rescue was "
            "undone")
    assert driver.rescued == {} and driver._guests[done].image_meta.id == fx.IMAGE_ID


def test_a_node_killed_mid_unrescue_finishes_it(cloud: fx.Cloud,
                                                node: node_manager.ComputeManager) -> None:
    driver = _driver(node)
    uuid = _active(cloud, node)["uuid"]
    node.rescue_instance(_start(cloud, uuid, states.RESCUING, "rescue"), uuid, None, None)
    cloud.conductor.instance_update(None, uuid, {"task_state": states.UNRESCUING})
    _restart(cloud, driver)
    got = cloud.conductor.instance_get(None, uuid)
    assert (got["vm_state"], got["task_state"], got["power_state"]) == (
        states.ACTIVE, None, power_state.RUNNING)
    assert cloud.conductor.faults(uuid) is None
    assert driver.rescued == {}


def test_recovery_that_cannot_put_the_guest_back_is_error(
        cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    driver = _driver(node)
    uuid = _active(cloud, node)["uuid"]
    node.rescue_instance(_start(cloud, uuid, states.RESCUING, "rescue"), uuid, None, None)
    cloud.conductor.instance_update(None, uuid, {"task_state": states.UNRESCUING})
    driver.fail_next("unrescue", virt_exception.InstanceUnrescueFailure(
        instance_id=uuid, reason="disk gone"))
    _restart(cloud, driver)
    got = cloud.conductor.instance_get(None, uuid)
    assert (got["vm_state"], got["task_state"]) == (states.ERROR, None)
    assert (cloud.conductor.faults(uuid) or {})["message"] == (
        "Instance was being unrescued when the compute node restarted: Failed to unrescue "
        "instance %s: disk gone" % uuid)


def test_a_guest_lost_with_the_node_is_recorded_shut_down(cloud: fx.Cloud) -> None:
    first = cloud.add_node("node-1")
    first.init_host()
    uuid = _active(cloud, first)["uuid"]
    cloud.conductor.instance_update(None, uuid, {"task_state": states.RESCUING})
    _restart(cloud, fake.FakeDriver("node-1"))  # a fake node's guests die with it
    got = cloud.conductor.instance_get(None, uuid)
    assert (got["vm_state"], got["task_state"], got["power_state"]) == (
        states.ACTIVE, None, power_state.SHUTDOWN)


# -- the fake driver's rescue (the reference of the driver contract) -----------------------


def test_fake_driver_rescue_contract() -> None:
    from compute.virt import model
    driver = fake.FakeDriver("h")
    inst = model.Instance(uuid="u-1", name="instance-1", memory_mb=64, vcpus=1)
    image = model.ImageMeta(id="img")
    with pytest.raises(virt_exception.InstanceNotFound):
        driver.rescue(None, inst, [], image, None)
    with pytest.raises(virt_exception.InstanceNotFound):
        driver.unrescue(None, inst, [])
    driver.spawn(None, inst, image, [])
    driver.power_off(inst)
    # Unrescue of a guest that is not rescued only starts it.
    driver.unrescue(None, inst, [])
    assert driver.get_info(inst).state == power_state.RUNNING
    driver.power_off(inst)
    driver.rescue(None, inst, [], model.ImageMeta(id="rescue-img"), "pw")
    own = driver.rescued["u-1"]
    # A second rescue keeps the instance's own guest.
    driver.rescue(None, inst, [], model.ImageMeta(id="other"), "pw2")
    assert driver.rescued["u-1"] is own and driver._guests["u-1"].image_meta.id == "other"
    assert driver.get_available_resource().memory_mb_used == 64
    driver.unrescue(None, inst, [])
    assert driver._guests["u-1"] is own and driver.get_info(inst).state == power_state.RUNNING
    driver.destroy(None, inst, [])
    assert driver.list_instance_uuids() == [] and driver.rescue_passwords == {}
