"""Crash recovery when a compute node starts: nothing stays in BUILD, half-done
work is finished or failed with a fault, claims of dead builds are freed."""
from __future__ import annotations

from typing import Any


from compute import states
from compute.node import base
from compute.node import recovery
from compute.virt import fake
from compute.virt import power_state
from tests.fixtures import compute_node as fx

LIMITS = {"vcpu": 64.0, "memory_mb": 65536.0, "disk_gb": 1000.0}


def _restart(cloud: fx.Cloud, driver: fake.FakeDriver) -> Any:
    """A new manager process on the same hypervisor (the guests survive)."""
    node = cloud.add_node("node-1", driver=driver)
    node.init_host()
    return node


def test_instances_left_in_build_go_to_error_with_a_fault_and_free_their_claim(
        cloud: fx.Cloud) -> None:
    driver = fake.FakeDriver("node-1", vcpus=4, memory_mb=1024, local_gb=10)
    first = cloud.add_node("node-1", driver=driver)
    first.init_host()
    running = cloud.conductor.new_instance("node-1")
    first.build_and_run_instance(fx.ctxt(), running["uuid"], {}, LIMITS, "node-1")
    # Three builds the node died in the middle of, one with a half-made guest.
    stuck = [cloud.conductor.new_instance("node-1", task_state=task)
             for task in (states.SCHEDULING, states.NETWORKING, states.SPAWNING)]
    driver.spawn(None, base.driver_instance(stuck[2]), fx_image(), [])

    node = _restart(cloud, driver)
    for inst in stuck:
        got = cloud.conductor.instance_get(None, inst["uuid"])
        assert (got["vm_state"], got["task_state"]) == (states.ERROR, None)
        assert got["host"] == "node-1"
        fault = cloud.conductor.faults(inst["uuid"])
        assert fault == dict(fault or {}, code=500,
                             message="Instance was in BUILD when the compute node restarted")
    assert driver.list_instance_uuids() == [running["uuid"]]
    assert set(node.node.tracker.claims()) == {running["uuid"]}
    report = cloud.conductor.last_report()
    assert (report["vcpus_used"], report["memory_mb_used"], report["running_vms"]) == \
        (1, 128, 1)
    # ... and they can be deleted.
    for inst in stuck:
        node.terminate_instance(fx.ctxt(), inst["uuid"])
        assert cloud.conductor.store.get(inst["uuid"], read_deleted=True)["deleted"]


def test_a_delete_in_progress_is_finished(cloud: fx.Cloud) -> None:
    driver = fake.FakeDriver("node-1")
    first = cloud.add_node("node-1", driver=driver)
    first.init_host()
    inst = cloud.conductor.new_instance("node-1")
    first.build_and_run_instance(fx.ctxt(), inst["uuid"], {}, LIMITS, "node-1")
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.DELETING})
    _restart(cloud, driver)
    assert cloud.conductor.store.get(inst["uuid"], read_deleted=True)["vm_state"] == \
        states.DELETED
    assert driver.list_instance_uuids() == []
    assert cloud.neighbours.ports_of(inst["uuid"]) == []


def test_interrupted_actions_are_cleared_and_synced(cloud: fx.Cloud) -> None:
    driver = fake.FakeDriver("node-1")
    first = cloud.add_node("node-1", driver=driver)
    first.init_host()
    made = []
    for _ in range(4):
        inst = cloud.conductor.new_instance("node-1")
        first.build_and_run_instance(fx.ctxt(), inst["uuid"], {}, LIMITS, "node-1")
        made.append(inst["uuid"])
    rebooting, stopping, snapshotting, rebuilding = made
    cloud.conductor.store.update(rebooting, {"task_state": states.REBOOT_STARTED_HARD})
    cloud.conductor.store.update(stopping, {"task_state": states.POWERING_OFF})
    driver.set_power_state(stopping, power_state.SHUTDOWN)  # it got that far
    cloud.conductor.store.update(snapshotting, {"task_state": states.IMAGE_UPLOADING})
    cloud.conductor.store.update(rebuilding, {"task_state": states.REBUILD_SPAWNING})
    _restart(cloud, driver)

    def got(uuid: str) -> tuple[str, str | None, int]:
        row = cloud.conductor.instance_get(None, uuid)
        return row["vm_state"], row["task_state"], row["power_state"]
    assert got(rebooting) == (states.ACTIVE, None, power_state.RUNNING)
    assert got(stopping) == (states.STOPPED, None, power_state.SHUTDOWN)
    assert got(snapshotting) == (states.ACTIVE, None, power_state.RUNNING)
    assert got(rebuilding)[:2] == (states.ERROR, None)
    assert cloud.conductor.faults(rebuilding)["message"] == recovery.REBUILD_INTERRUPTED


def test_a_guest_lost_with_the_host_is_recorded_shutdown(cloud: fx.Cloud) -> None:
    first = cloud.add_node("node-1")
    first.init_host()
    inst = cloud.conductor.new_instance("node-1")
    first.build_and_run_instance(fx.ctxt(), inst["uuid"], {}, LIMITS, "node-1")
    _restart(cloud, fake.FakeDriver("node-1"))  # a fresh hypervisor: no guests at all
    row = cloud.conductor.instance_get(None, inst["uuid"])
    assert (row["vm_state"], row["task_state"], row["power_state"]) == \
        (states.ACTIVE, None, power_state.SHUTDOWN)


def test_guests_of_instances_deleted_while_down_are_reaped(cloud: fx.Cloud) -> None:
    driver = fake.FakeDriver("node-1")
    first = cloud.add_node("node-1", driver=driver)
    first.init_host()
    inst = cloud.conductor.new_instance("node-1")
    first.build_and_run_instance(fx.ctxt(), inst["uuid"], {}, LIMITS, "node-1")
    stranger = cloud.conductor.new_instance("node-2", vm_state=states.ACTIVE,
                                            task_state=None)
    driver.spawn(None, base.driver_instance(stranger), fx_image(), [])
    cloud.conductor.store.destroy(inst["uuid"])
    _restart(cloud, driver)
    assert driver.list_instance_uuids() == [stranger["uuid"]]  # not ours to remove


def fx_image() -> Any:
    from compute.virt import model
    return model.ImageMeta(id=fx.IMAGE_ID)


def test_a_node_started_before_its_conductor_waits_for_it(cloud: fx.Cloud) -> None:
    import oslo_messaging
    answers = [oslo_messaging.MessagingTimeout("no conductor yet")] * 2
    real = cloud.conductor.instance_get_all_by_host

    def slow_start(ctxt: Any, host: str) -> list[dict[str, Any]]:
        if answers:
            raise answers.pop()
        return real(ctxt, host)
    cloud.conductor.instance_get_all_by_host = slow_start  # type: ignore[method-assign]
    node = cloud.add_node("node-1")
    node.init_host()
    assert answers == [] and cloud.conductor.node_reports
