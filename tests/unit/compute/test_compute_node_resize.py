"""Resize and cold migration (one host and two), confirm and revert; rebuild;
snapshots and backups."""
from __future__ import annotations

from typing import Any


from compute import states
from compute.node import manager as node_manager
from compute.node import resource_tracker as rt
from compute.virt import exception as virt_exception
from compute.virt import fake
from compute.virt import power_state
from tests.fixtures import compute_node as fx

LIMITS = {"vcpu": 64.0, "memory_mb": 65536.0, "disk_gb": 1000.0}
MIGRATION = "9a9a9a9a-0000-4000-8000-000000000001"


def _node(cloud: fx.Cloud, host: str) -> node_manager.ComputeManager:
    node = cloud.add_node(host, vcpus=8, memory_mb=4096, local_gb=100)
    node.init_host()
    return node


def _active(cloud: fx.Cloud, node: node_manager.ComputeManager) -> dict[str, Any]:
    inst = cloud.conductor.new_instance(node.host)
    node.build_and_run_instance(fx.ctxt(), inst["uuid"], {}, LIMITS, node.host)
    return cloud.conductor.instance_get(None, inst["uuid"])


def _resize(cloud: fx.Cloud, inst: dict[str, Any], dest: node_manager.ComputeManager,
            flavor: dict[str, Any] = fx.BIG) -> dict[str, Any]:
    """What the API and the conductor do, then prep_resize and the node hand-offs."""
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.RESIZE_PREP})
    cloud.conductor.migration_update(None, MIGRATION, {"status": "migrating",
                                                       "instance_uuid": inst["uuid"]})
    dest.prep_resize(fx.ctxt(), inst["uuid"], flavor, MIGRATION, dest.host, LIMITS)
    cloud.rpc.pump()
    return cloud.conductor.instance_get(None, inst["uuid"])


def _usage(node: node_manager.ComputeManager) -> tuple[int, int]:
    used = rt.Usage()
    for usage in node.node.tracker.claims().values():
        used = used + usage
    return used.vcpus, used.memory_mb


def test_resize_and_confirm_on_one_host(cloud: fx.Cloud) -> None:
    node = _node(cloud, "node-1")
    inst = _active(cloud, node)
    got = _resize(cloud, inst, node)
    assert (got["vm_state"], got["task_state"]) == (states.RESIZED, None)
    assert got["flavor"]["flavorid"] == "2" and got["old_flavor"]["flavorid"] == "1"
    assert (got["vcpus"], got["memory_mb"]) == (2, 512)
    assert got["power_state"] == power_state.RUNNING and got["host"] == "node-1"
    migration = cloud.conductor.migrations[MIGRATION]
    assert migration["status"] == "finished" and migration["migration_type"] == "resize"
    assert (migration["source_compute"], migration["dest_compute"]) == ("node-1", "node-1")
    assert _usage(node) == (3, 640), "both flavors are held until confirmed"
    assert isinstance(node.driver, fake.FakeDriver)
    assert node.driver.get_info(_guest(got)).state == power_state.RUNNING

    node.confirm_resize(fx.ctxt(), inst["uuid"], MIGRATION)
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert (got["vm_state"], got["task_state"], got["old_flavor"]) == \
        (states.ACTIVE, None, None)
    assert cloud.conductor.migrations[MIGRATION]["status"] == "confirmed"
    assert _usage(node) == (2, 512)
    assert node.driver.resized == {}
    report = cloud.conductor.last_report()
    assert (report["vcpus_used"], report["memory_mb_used"]) == (2, 512)


def test_resize_and_revert_on_one_host(cloud: fx.Cloud) -> None:
    node = _node(cloud, "node-1")
    inst = _active(cloud, node)
    _resize(cloud, inst, node)
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.RESIZE_REVERTING})
    node.revert_resize(fx.ctxt(), inst["uuid"], MIGRATION)
    cloud.rpc.pump()
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert (got["vm_state"], got["task_state"]) == (states.ACTIVE, None)
    assert got["flavor"]["flavorid"] == "1" and got["old_flavor"] is None
    assert (got["vcpus"], got["memory_mb"]) == (1, 128)
    assert got["power_state"] == power_state.RUNNING
    assert cloud.conductor.migrations[MIGRATION]["status"] == "reverted"
    assert _usage(node) == (1, 128)
    assert isinstance(node.driver, fake.FakeDriver)
    assert node.driver._guests[inst["uuid"]].instance.memory_mb == 128


def test_a_stopped_instance_stays_stopped(cloud: fx.Cloud) -> None:
    node = _node(cloud, "node-1")
    inst = _active(cloud, node)
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.POWERING_OFF})
    node.stop_instance(fx.ctxt(), inst["uuid"], False)
    got = _resize(cloud, cloud.conductor.instance_get(None, inst["uuid"]), node)
    assert got["vm_state"] == states.RESIZED and got["power_state"] == power_state.SHUTDOWN
    node.confirm_resize(fx.ctxt(), inst["uuid"], MIGRATION)
    assert cloud.conductor.instance_get(None, inst["uuid"])["vm_state"] == states.STOPPED


def test_cold_migration_between_two_nodes_moves_ports_and_claims(cloud: fx.Cloud) -> None:
    source, dest = _node(cloud, "node-1"), _node(cloud, "node-2")
    inst = _active(cloud, source)
    got = _resize(cloud, inst, dest, flavor=fx.FLAVOR)
    assert got["host"] == "node-2" and got["vm_state"] == states.RESIZED
    assert cloud.conductor.migrations[MIGRATION]["migration_type"] == "migration"
    port = got["network_info"][0]["id"]
    assert cloud.neighbours.bindings[port] == "node-2"
    assert source.driver.list_instance_uuids() == []
    assert dest.driver.list_instance_uuids() == [inst["uuid"]]
    assert _usage(source) == (1, 128) and _usage(dest) == (1, 128)
    # The source's periodic resync keeps the outgoing claim (the row names node-2).
    source._update_available_resource(fx.ctxt())
    assert _usage(source) == (1, 128)

    cloud.conductor.store.update(inst["uuid"], {"task_state": states.RESIZE_REVERTING})
    dest.revert_resize(fx.ctxt(), inst["uuid"], MIGRATION)
    assert cloud.rpc.pump() == ["finish_revert_resize@node-1"]
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert (got["host"], got["vm_state"], got["task_state"]) == ("node-1", states.ACTIVE, None)
    assert cloud.neighbours.bindings[port] == "node-1"
    assert source.driver.list_instance_uuids() == [inst["uuid"]]
    assert dest.driver.list_instance_uuids() == []
    assert _usage(source) == (1, 128) and _usage(dest) == (0, 0)


def test_resize_refused_by_the_driver_rolls_back(cloud: fx.Cloud) -> None:
    node = _node(cloud, "node-1")
    inst = _active(cloud, node)
    assert isinstance(node.driver, fake.FakeDriver)
    node.driver.fail_next("migrate_disk_and_power_off", virt_exception.ResizeRefused(
        instance_id=inst["uuid"], reason="unable to resize disk down"))
    got = _resize(cloud, inst, node)
    assert (got["vm_state"], got["task_state"], got["new_flavor"]) == \
        (states.ACTIVE, None, None)
    assert cloud.conductor.migrations[MIGRATION]["status"] == "error"
    fault = cloud.conductor.faults(inst["uuid"])
    assert fault is not None and "resize disk down" in fault["message"]
    # The destination's claim goes with the next resync (the migration failed).
    node._update_available_resource(fx.ctxt())
    assert _usage(node) == (1, 128)


def test_resize_to_the_same_host_can_be_forbidden(tmp_path: Any) -> None:
    cloud = fx.Cloud(str(tmp_path), allow_resize_to_same_host=False)
    try:
        node = _node(cloud, "node-1")
        inst = _active(cloud, node)
        got = _resize(cloud, inst, node)
        assert (got["vm_state"], got["task_state"]) == (states.ACTIVE, None)
        fault = cloud.conductor.faults(inst["uuid"])
        assert fault is not None and fault["code"] == 400
        assert _usage(node) == (1, 128)
    finally:
        cloud.close()


# -- rebuild ---------------------------------------------------------------------------


def test_rebuild_with_another_image(cloud: fx.Cloud) -> None:
    node = _node(cloud, "node-1")
    inst = _active(cloud, node)
    cloud.neighbours.images["new-image"] = dict(cloud.neighbours.images[fx.IMAGE_ID],
                                                id="new-image", os_command_line="quiet")
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.REBUILDING})
    node.rebuild_instance(fx.ctxt(), inst["uuid"], "new-image", False)
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert (got["vm_state"], got["task_state"], got["image_ref"]) == \
        (states.ACTIVE, None, "new-image")
    assert got["system_metadata"]["image_os_command_line"] == "quiet"
    assert isinstance(node.driver, fake.FakeDriver)
    assert node.driver._guests[inst["uuid"]].image_meta.id == "new-image"


def test_rebuild_failure_is_error(cloud: fx.Cloud) -> None:
    node = _node(cloud, "node-1")
    inst = _active(cloud, node)
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.REBUILDING})
    node.rebuild_instance(fx.ctxt(), inst["uuid"], "missing-image", False)
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert (got["vm_state"], got["task_state"]) == (states.ERROR, None)


# -- snapshots ---------------------------------------------------------------------------


def test_snapshot_goes_through_novas_task_states(cloud: fx.Cloud) -> None:
    node = _node(cloud, "node-1")
    inst = _active(cloud, node)
    seen: list[str | None] = []
    real = cloud.neighbours.upload_image

    def upload(ctxt: Any, image_id: str, path: str, disk_format: str) -> None:
        seen.append(cloud.conductor.instance_get(None, inst["uuid"])["task_state"])
        real(ctxt, image_id, path, disk_format)
    cloud.neighbours.upload_image = upload  # type: ignore[method-assign]
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.IMAGE_SNAPSHOT})
    node.snapshot_instance(fx.ctxt(), inst["uuid"], "snap-1")
    assert seen == [states.IMAGE_UPLOADING]
    data, disk_format = cloud.neighbours.uploads["snap-1"]
    assert disk_format == "raw" and inst["uuid"].encode() in data
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert (got["vm_state"], got["task_state"]) == (states.ACTIVE, None)


def test_failed_snapshot_deletes_the_image(cloud: fx.Cloud) -> None:
    node = _node(cloud, "node-1")
    inst = _active(cloud, node)
    cloud.neighbours.upload_error = RuntimeError("image service gone")
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.IMAGE_SNAPSHOT})
    node.snapshot_instance(fx.ctxt(), inst["uuid"], "snap-2")
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert (got["vm_state"], got["task_state"]) == (states.ACTIVE, None)
    assert cloud.neighbours.deleted_images == ["snap-2"]
    fault = cloud.conductor.faults(inst["uuid"])
    assert fault is not None and "image service gone" in fault["message"]


def test_backup_rotation_keeps_the_newest(cloud: fx.Cloud) -> None:
    node = _node(cloud, "node-1")
    inst = _active(cloud, node)
    cloud.neighbours.backups = [{"id": "b3"}, {"id": "b2"}, {"id": "b1"}]  # newest first
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.IMAGE_BACKUP})
    node.snapshot_instance(fx.ctxt(), inst["uuid"], "b3", "daily", 1)
    assert cloud.neighbours.deleted_images == ["b2", "b1"]
    assert cloud.conductor.instance_get(None, inst["uuid"])["task_state"] is None


def _guest(row: dict[str, Any]) -> Any:
    from compute.node import base
    return base.driver_instance(row)


def test_rebuild_refreshes_the_ports_state_before_spawning(cloud: fx.Cloud) -> None:
    # A port the agent already reports ACTIVE gets no new network-vif-plugged when its
    # tap is re-created: the rebuild must know, or a libvirt spawn would wait for it.
    node = _node(cloud, "node-1")
    inst = _active(cloud, node)
    ports = cloud.neighbours.get_instance_nw_info(None, inst["uuid"], None)
    assert ports
    for vif in ports:
        cloud.neighbours.ports[vif["id"]]["active"] = True
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.REBUILDING})
    node.rebuild_instance(fx.ctxt(), inst["uuid"], fx.IMAGE_ID, False)
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert got["vm_state"] == states.ACTIVE
    assert [vif["active"] for vif in got["network_info"]] == [True] * len(ports)
