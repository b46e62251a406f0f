"""Evacuation onto a fake node, its failures, and the failed host's clean-up
when it starts again (its leftover guest destroyed, not started); the fake
node's guests kept over a clean restart."""
from __future__ import annotations

import os
from typing import Any

import pytest

from compute import states
from compute.node import base
from compute.node import evacuate
from compute.node import manager as node_manager
from compute.node import resource_tracker as rt
from compute.virt import exception as virt_exception
from compute.virt import fake
from compute.virt import fake_guest
from compute.virt import power_state
from tests.fixtures import compute_node as fx

LIMITS = {"vcpu": 64.0, "memory_mb": 65536.0, "disk_gb": 1000.0}
MIGRATION = "e7e7e7e7-0000-4000-8000-000000000001"


def _node(cloud: fx.Cloud, host: str, driver: fake.FakeDriver | None = None
          ) -> node_manager.ComputeManager:
    node = cloud.add_node(host, driver=driver or fake.FakeDriver(host, 8, 4096, 100))
    node.init_host()
    return node


def _active(cloud: fx.Cloud, node: node_manager.ComputeManager) -> dict[str, Any]:
    inst = cloud.conductor.new_instance(node.host)
    node.build_and_run_instance(fx.ctxt(), inst["uuid"], {}, LIMITS, node.host)
    return cloud.conductor.instance_get(None, inst["uuid"])


def _usage(node: node_manager.ComputeManager) -> rt.Usage:
    used = rt.Usage()
    for usage in node.node.tracker.claims().values():
        used = used + usage
    return used


def _evacuate(cloud: fx.Cloud, inst: dict[str, Any],
              dest: node_manager.ComputeManager) -> dict[str, Any]:
    """What the API and the conductor do, then the destination's step."""
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.REBUILDING})
    cloud.conductor.migration_update(None, MIGRATION, {
        "instance_uuid": inst["uuid"], "migration_type": "evacuation", "status": "accepted",
        "source_compute": inst["host"], "source_node": inst["node"]})
    dest.evacuate_instance(fx.ctxt(), inst["uuid"], MIGRATION, dest.host, LIMITS)
    return cloud.conductor.instance_get(None, inst["uuid"])


def test_evacuation_rebuilds_the_server_on_the_destination(cloud: fx.Cloud) -> None:
    source, dest = _node(cloud, "node-1"), _node(cloud, "node-2")
    inst = _active(cloud, source)
    got = _evacuate(cloud, inst, dest)
    assert (got["host"], got["node"], got["vm_state"], got["task_state"]) == \
        ("node-2", "node-2", states.ACTIVE, None)
    assert got["power_state"] == power_state.RUNNING
    migration = cloud.conductor.migrations[MIGRATION]
    assert (migration["status"], migration["dest_compute"]) == ("done", "node-2")
    assert cloud.neighbours.bindings[got["network_info"][0]["id"]] == "node-2"
    assert dest.driver.list_instance_uuids() == [inst["uuid"]]
    assert _usage(dest) == rt.Usage(1, 128, 1)
    # The failed host never heard of it: its guest is still there.
    assert source.driver.list_instance_uuids() == [inst["uuid"]]


def test_a_stopped_server_is_evacuated_stopped_and_volumes_follow(cloud: fx.Cloud) -> None:
    source, dest = _node(cloud, "node-1"), _node(cloud, "node-2")
    inst = _active(cloud, source)
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.POWERING_OFF})
    source.stop_instance(fx.ctxt(), inst["uuid"], False)
    cloud.conductor.bdms[inst["uuid"]] = [{
        "uuid": "bdm-1", "instance_uuid": inst["uuid"], "destination_type": "volume",
        "attachment_id": "att-1", "device_name": "/dev/vdb",
        "connection_info": {"driver_volume_type": "file", "data": {"device_path": "/old"}}}]
    got = _evacuate(cloud, cloud.conductor.instance_get(None, inst["uuid"]), dest)
    assert (got["host"], got["vm_state"], got["power_state"]) == \
        ("node-2", states.STOPPED, power_state.SHUTDOWN)
    assert [c["host"] for _a, c in cloud.neighbours.connectors] == ["node-2"]
    assert cloud.conductor.bdms[inst["uuid"]][0]["connection_info"]["data"] == \
        {"device_path": "/tmp/v"}
    assert isinstance(dest.driver, fake.FakeDriver)
    assert set(dest.driver._guests[inst["uuid"]].volumes) == {"vdb"}


def test_a_failed_evacuation_is_error_on_the_destination(cloud: fx.Cloud) -> None:
    source, dest = _node(cloud, "node-1"), _node(cloud, "node-2")
    inst = _active(cloud, source)
    assert isinstance(dest.driver, fake.FakeDriver)
    dest.driver.fail_next("spawn", virt_exception.InstanceDeployFailure(reason="no disk"))
    got = _evacuate(cloud, inst, dest)
    assert (got["host"], got["vm_state"], got["task_state"]) == \
        ("node-2", states.ERROR, None)
    assert cloud.conductor.migrations[MIGRATION]["status"] == "failed"
    fault = cloud.conductor.faults(inst["uuid"])
    assert fault is not None and "no disk" in fault["message"]
    assert dest.driver.list_instance_uuids() == [] and _usage(dest) == rt.Usage()
    # ... and it can be deleted there.
    dest.terminate_instance(fx.ctxt(), inst["uuid"])


def test_no_room_on_the_destination_is_error_before_taking_the_server(
        cloud: fx.Cloud) -> None:
    source, dest = _node(cloud, "node-1"), _node(cloud, "node-2")
    inst = _active(cloud, source)
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.REBUILDING})
    cloud.conductor.migration_update(None, MIGRATION, {"instance_uuid": inst["uuid"],
                                                       "migration_type": "evacuation"})
    dest.evacuate_instance(fx.ctxt(), inst["uuid"], MIGRATION, dest.host, {"vcpu": 0.5})
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert (got["host"], got["vm_state"]) == ("node-1", states.ERROR)
    assert cloud.conductor.migrations[MIGRATION]["status"] == "failed"


def test_the_failed_host_destroys_the_leftover_when_it_comes_back(cloud: fx.Cloud) -> None:
    driver = fake.FakeDriver("node-1", 8, 4096, 100)
    source, dest = _node(cloud, "node-1", driver), _node(cloud, "node-2")
    inst = _active(cloud, source)
    other = _active(cloud, source)  # not evacuated: recovered as usual
    _evacuate(cloud, inst, dest)

    restarted = _node(cloud, "node-1", driver)  # the same hypervisor, a new process
    assert driver.list_instance_uuids() == [other["uuid"]]
    assert cloud.conductor.migrations[MIGRATION]["status"] == "completed"
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert (got["host"], got["vm_state"]) == ("node-2", states.ACTIVE)
    assert dest.driver.list_instance_uuids() == [inst["uuid"]]
    assert set(restarted.node.tracker.claims()) == {other["uuid"]}
    # Done once: another restart finds nothing to clean up.
    assert evacuate.pending_evacuations(restarted.node, fx.ctxt()) == []


def test_an_evacuation_not_done_yet_is_cleaned_up_too(cloud: fx.Cloud) -> None:
    driver = fake.FakeDriver("node-1", 8, 4096, 100)
    source = _node(cloud, "node-1", driver)
    inst = _active(cloud, source)
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.REBUILDING})
    cloud.conductor.migration_update(None, MIGRATION, {
        "instance_uuid": inst["uuid"], "migration_type": "evacuation", "status": "accepted",
        "source_compute": "node-1"})
    _node(cloud, "node-1", driver)
    assert driver.list_instance_uuids() == []
    # The recovery left the evacuation alone (still rebuilding, for the destination).
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert (got["vm_state"], got["task_state"]) == (states.ACTIVE, states.REBUILDING)


class _SharedStorage:
    def __init__(self) -> None:
        self.cleaned: list[str] = []

    def create(self) -> str:
        return ".stratus-shared-storage-x"

    def cleanup(self, name: str) -> None:
        self.cleaned.append(name)


@pytest.mark.parametrize("dest_sees_it,keeps_disks", [(True, True), (False, False),
                                                      (None, True)])
def test_disks_stay_when_the_destination_shares_the_storage(
        cloud: fx.Cloud, monkeypatch: Any, dest_sees_it: bool | None,
        keeps_disks: bool) -> None:
    source, dest = _node(cloud, "node-1"), _node(cloud, "node-2")
    shared = _SharedStorage()
    monkeypatch.setattr(source.driver, "create_shared_storage_test_file", shared.create)
    monkeypatch.setattr(source.driver, "cleanup_shared_storage_test_file", shared.cleanup)
    if dest_sees_it is None:
        monkeypatch.setattr(cloud.rpc, "managers", {"node-1": source})  # node-2 is gone
    else:
        monkeypatch.setattr(dest.driver, "check_shared_storage_test_file",
                            lambda name: dest_sees_it)
    seen: list[bool] = []
    monkeypatch.setattr(source.driver, "destroy",
                        lambda ctxt, inst, nw, bdi=None, destroy_disks=True:
                        seen.append(destroy_disks))
    inst = _active(cloud, source)
    evacuate.destroy_evacuated(source.node, fx.ctxt(), [{
        "uuid": MIGRATION, "instance_uuid": inst["uuid"], "dest_compute": "node-2"}])
    assert seen == [not keeps_disks]
    assert shared.cleaned == [".stratus-shared-storage-x"]


def test_a_fake_node_keeps_its_guests_over_a_clean_restart(tmp_path: Any) -> None:
    path = os.path.join(str(tmp_path), "guests.json")
    first = fake.FakeDriver("node-1", guests_file=path)
    first.init_host("node-1")
    row = {"uuid": "5e5e5e5e-0000-4000-8000-000000000001", "memory_mb": 64, "vcpus": 1,
           "image_ref": fx.IMAGE_ID}
    vif = base.vif({"id": "p1", "address": "fa:16:3e:00:00:01",
                    "network": {"id": fx.NETWORK_ID, "subnets": [
                        {"ips": [{"address": "10.0.0.5"}]}]}})
    first.spawn(None, base.driver_instance(row), base.image_meta(row), [vif])
    first.pause(base.driver_instance(row))
    first.cleanup_host("node-1")

    second = fake.FakeDriver("node-1", guests_file=path)
    second.init_host("node-1")
    assert second.list_instance_uuids() == [row["uuid"]]
    assert second.get_info(base.driver_instance(row)).state == power_state.PAUSED
    assert second.get_vifs(row["uuid"]) == [vif]
    assert "got 10.0.0.5" in second.get_console_output(base.driver_instance(row))
    # Nothing saved yet for a node that never stopped; a broken file is an error.
    assert fake_guest.load(os.path.join(str(tmp_path), "none.json")) == {}
    with open(path, "w") as handle:
        handle.write("[1, 2]")
    with pytest.raises(ValueError):
        fake_guest.load(path)
