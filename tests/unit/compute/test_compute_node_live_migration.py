"""Live migration between two fake nodes: the checks, the hand-offs, the
rollback on every failure, abort and force-complete, and a node restarting in
the middle of one."""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from compute import exception
from compute import states
from compute.node import manager as node_manager
from compute.node import resource_tracker as rt
from compute.virt import exception as virt_exception
from compute.virt import fake
from compute.virt import power_state
from tests.fixtures import compute_node as fx

LIMITS = {"vcpu": 64.0, "memory_mb": 65536.0, "disk_gb": 1000.0}
MIGRATION = "7b7b7b7b-0000-4000-8000-000000000001"
BDM = "b0b0b0b0-0000-4000-8000-000000000001"


def _node(cloud: fx.Cloud, host: str, **size: int) -> node_manager.ComputeManager:
    size = size or {"vcpus": 8, "memory_mb": 4096, "local_gb": 100}
    node = cloud.add_node(host, **size)
    node.init_host()
    return node


def _active(cloud: fx.Cloud, node: node_manager.ComputeManager) -> dict[str, Any]:
    inst = cloud.conductor.new_instance(node.host)
    node.build_and_run_instance(fx.ctxt(), inst["uuid"], {}, LIMITS, node.host)
    return cloud.conductor.instance_get(None, inst["uuid"])


def _driver(node: node_manager.ComputeManager) -> fake.FakeDriver:
    assert isinstance(node.driver, fake.FakeDriver)
    return node.driver


def _usage(node: node_manager.ComputeManager) -> tuple[int, int]:
    used = rt.Usage()
    for usage in node.node.tracker.claims().values():
        used = used + usage
    return used.vcpus, used.memory_mb


def _checks(cloud: fx.Cloud, inst: dict[str, Any], source: node_manager.ComputeManager,
            dest: node_manager.ComputeManager, ctxt: Any,
            block_migration: bool | None = None) -> dict[str, Any]:
    """What the API and the conductor do before casting live_migration."""
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.MIGRATING})
    cloud.conductor.migration_update(None, MIGRATION, {
        "instance_uuid": inst["uuid"], "migration_type": "live-migration",
        "status": "accepted", "source_compute": source.host, "source_node": source.host,
        "dest_compute": dest.host, "dest_node": dest.host})
    dest_data = fx_call(dest.check_can_live_migrate_destination, ctxt, inst["uuid"],
                        MIGRATION, block_migration, LIMITS)
    data = fx_call(source.check_can_live_migrate_source, ctxt, inst["uuid"], dest_data)
    cloud.conductor.migration_update(None, MIGRATION, {"status": "queued"})
    return dict(data)


def fx_call(method: Any, *args: Any) -> Any:
    from oslo_messaging.rpc import dispatcher
    try:
        return fx._json(method(*args))
    except dispatcher.ExpectedException as err:
        raise err.exc_info[1] from None


def _migrate(cloud: fx.Cloud, inst: dict[str, Any], source: node_manager.ComputeManager,
             dest: node_manager.ComputeManager) -> tuple[dict[str, Any], Any]:
    ctxt = fx.ctxt()
    cloud.conductor.start_action(inst["uuid"], "live-migration", ctxt.request_id)
    data = _checks(cloud, inst, source, dest, ctxt)
    source.live_migration(ctxt, inst["uuid"], MIGRATION, dest.host, data)
    cloud.rpc.pump()
    return cloud.conductor.instance_get(None, inst["uuid"]), ctxt


def _events(cloud: fx.Cloud, uuid: str, request_id: str) -> list[tuple[str, str]]:
    action = cloud.conductor.store.get_action(uuid, request_id)
    return [(e["event"], e["result"]) for e in action["events"]]


def test_a_running_guest_moves_with_its_ports_and_claims(cloud: fx.Cloud) -> None:
    source, dest = _node(cloud, "node-1"), _node(cloud, "node-2")
    inst = _active(cloud, source)
    _driver(source).get_console_output(fx_guest(inst))  # it has a console
    got, ctxt = _migrate(cloud, inst, source, dest)
    assert (got["host"], got["node"], got["vm_state"], got["task_state"]) == \
        ("node-2", "node-2", states.ACTIVE, None)
    assert got["power_state"] == power_state.RUNNING
    assert cloud.conductor.migrations[MIGRATION]["status"] == "completed"
    port = got["network_info"][0]["id"]
    assert cloud.neighbours.bindings[port] == "node-2"
    assert source.driver.list_instance_uuids() == []
    assert dest.driver.list_instance_uuids() == [inst["uuid"]]
    console = _driver(dest).get_console_output(fx_guest(got))
    assert "login:" in console and "live-migrated from node-1" in console
    assert _usage(source) == (0, 0) and _usage(dest) == (1, 128)
    # The resyncs agree (the instance row names node-2 now).
    source._update_available_resource(fx.ctxt())
    dest._update_available_resource(fx.ctxt())
    assert _usage(source) == (0, 0) and _usage(dest) == (1, 128)
    assert cloud.conductor.faults(inst["uuid"]) is None
    assert _events(cloud, inst["uuid"], ctxt.request_id) == [
        ("compute_check_can_live_migrate_destination", "Success"),
        ("compute_check_can_live_migrate_source", "Success"),
        ("compute_live_migration", "Success"),
        ("compute_pre_live_migration", "Success"),
        ("compute_post_live_migration_at_destination", "Success")]


def fx_guest(row: dict[str, Any]) -> Any:
    from compute.node import base
    return base.driver_instance(row)


def test_a_paused_guest_stays_paused(cloud: fx.Cloud) -> None:
    source, dest = _node(cloud, "node-1"), _node(cloud, "node-2")
    inst = _active(cloud, source)
    cloud.conductor.store.update(inst["uuid"], {"task_state": states.PAUSING})
    source.pause_instance(fx.ctxt(), inst["uuid"])
    got, _ctxt = _migrate(cloud, cloud.conductor.instance_get(None, inst["uuid"]), source,
                          dest)
    assert (got["host"], got["vm_state"], got["power_state"]) == \
        ("node-2", states.PAUSED, power_state.PAUSED)


def test_the_destination_check_claims_and_refuses_what_does_not_fit(cloud: fx.Cloud) -> None:
    source, dest = _node(cloud, "node-1"), _node(cloud, "node-2")
    inst = _active(cloud, source)
    ctxt = fx.ctxt()
    data = fx_call(dest.check_can_live_migrate_destination, ctxt, inst["uuid"], MIGRATION,
                   None, LIMITS)
    assert data["dest_host"] == "node-2"
    assert dest.node.tracker.claims() == {rt.incoming(MIGRATION): rt.Usage(1, 128, 1)}
    dest.rollback_live_migration_at_destination(ctxt, inst["uuid"], MIGRATION, {})
    assert dest.node.tracker.claims() == {}
    with pytest.raises(exception.ComputeResourcesUnavailable):
        fx_call(dest.check_can_live_migrate_destination, ctxt, inst["uuid"], MIGRATION,
                None, {"memory_mb": 64.0})
    with pytest.raises(exception.UnableToMigrateToSelf):
        fx_call(source.check_can_live_migrate_destination, ctxt, inst["uuid"], MIGRATION,
                None, LIMITS)


def test_a_driver_refusal_at_the_destination_releases_its_claim(cloud: fx.Cloud) -> None:
    source, dest = _node(cloud, "node-1"), _node(cloud, "node-2")
    inst = _active(cloud, source)
    _driver(dest).fail_next("check_can_live_migrate_destination",
                            virt_exception.MigrationPreCheckError(reason="no room"))
    with pytest.raises(virt_exception.MigrationPreCheckError):
        fx_call(dest.check_can_live_migrate_destination, fx.ctxt(), inst["uuid"], MIGRATION,
                None, LIMITS)
    assert dest.node.tracker.claims() == {}


def test_the_source_check_decides_block_migration(cloud: fx.Cloud) -> None:
    source, dest = _node(cloud, "node-1"), _node(cloud, "node-2")
    inst = _active(cloud, source)
    data = _checks(cloud, inst, source, dest, fx.ctxt())
    assert data["block_migration"] is True and data["source_host"] == "node-1"
    assert data["is_shared_instance_path"] is False
    with pytest.raises(virt_exception.MigrationPreCheckError):
        fx_call(dest.check_can_live_migrate_source, fx.ctxt(), inst["uuid"], data)


@pytest.mark.parametrize("step", ["pre_live_migration", "live_migration"])
def test_a_failure_leaves_the_guest_running_on_the_source(cloud: fx.Cloud, step: str) -> None:
    source, dest = _node(cloud, "node-1"), _node(cloud, "node-2")
    inst = _active(cloud, source)
    failing = dest if step == "pre_live_migration" else source
    _driver(failing).fail_next(step, virt_exception.LiveMigrationFailed(
        instance_id=inst["uuid"], reason="the wire was cut"))
    got, ctxt = _migrate(cloud, inst, source, dest)
    assert (got["host"], got["vm_state"], got["task_state"], got["power_state"]) == \
        ("node-1", states.ACTIVE, None, power_state.RUNNING)
    assert cloud.conductor.migrations[MIGRATION]["status"] == "error"
    fault = cloud.conductor.faults(inst["uuid"])
    assert fault is not None and "the wire was cut" in fault["message"]
    assert cloud.neighbours.bindings[got["network_info"][0]["id"]] == "node-1"
    assert source.driver.list_instance_uuids() == [inst["uuid"]]
    assert dest.driver.list_instance_uuids() == [] and _driver(dest).incoming == {}
    assert _usage(source) == (1, 128) and _usage(dest) == (0, 0)
    assert ("compute_live_migration", "Error") in _events(cloud, inst["uuid"],
                                                          ctxt.request_id)


def test_volumes_follow_the_guest_and_come_back_on_failure(cloud: fx.Cloud) -> None:
    source, dest = _node(cloud, "node-1"), _node(cloud, "node-2")
    inst = _active(cloud, source)
    old = {"driver_volume_type": "file", "data": {"device_path": "/old"}}
    bdm = {"uuid": BDM, "instance_uuid": inst["uuid"], "destination_type": "volume",
           "attachment_id": "att-1", "device_name": "/dev/vdb", "connection_info": old}
    cloud.conductor.bdms[inst["uuid"]] = [dict(bdm)]
    _driver(source).fail_next("live_migration", virt_exception.LiveMigrationFailed(
        instance_id=inst["uuid"], reason="no"))
    _migrate(cloud, inst, source, dest)
    assert [c["host"] for _a, c in cloud.neighbours.connectors] == ["node-2", "node-1"]
    assert cloud.conductor.bdms[inst["uuid"]][0]["connection_info"] == old

    cloud.neighbours.connectors.clear()
    got, _ctxt = _migrate(cloud, cloud.conductor.instance_get(None, inst["uuid"]), source,
                          dest)
    assert got["host"] == "node-2"
    assert [c["host"] for _a, c in cloud.neighbours.connectors] == ["node-2"]
    assert cloud.conductor.bdms[inst["uuid"]][0]["connection_info"]["data"] == \
        {"device_path": "/tmp/v"}


def test_a_migration_of_an_instance_not_migrating_any_more_stops(cloud: fx.Cloud) -> None:
    source, dest = _node(cloud, "node-1"), _node(cloud, "node-2")
    inst = _active(cloud, source)
    ctxt = fx.ctxt()
    data = _checks(cloud, inst, source, dest, ctxt)
    cloud.conductor.store.update(inst["uuid"], {"task_state": None})  # reset meanwhile
    source.live_migration(ctxt, inst["uuid"], MIGRATION, dest.host, data)
    assert cloud.rpc.pump() == ["rollback_live_migration_at_destination@node-2"]
    assert cloud.conductor.migrations[MIGRATION]["status"] == "error"
    assert cloud.conductor.instance_get(None, inst["uuid"])["host"] == "node-1"
    assert _usage(dest) == (0, 0)


def _in_thread(source: node_manager.ComputeManager, ctxt: Any, inst: dict[str, Any],
               data: dict[str, Any]) -> threading.Thread:
    thread = threading.Thread(target=source.live_migration,
                              args=(ctxt, inst["uuid"], MIGRATION, "node-2", data))
    thread.start()
    deadline = time.monotonic() + 10
    while not _driver(source)._running and time.monotonic() < deadline:
        time.sleep(0.01)
    return thread


def test_abort_stops_a_running_migration(cloud: fx.Cloud) -> None:
    source, dest = _node(cloud, "node-1"), _node(cloud, "node-2")
    inst = _active(cloud, source)
    _driver(source).live_migration_delay = 30.0
    ctxt = fx.ctxt()
    thread = _in_thread(source, ctxt, inst, _checks(cloud, inst, source, dest, ctxt))
    assert cloud.conductor.migrations[MIGRATION]["status"] == "running"
    source.live_migration_abort(fx.ctxt(), inst["uuid"], MIGRATION)
    thread.join(10)
    assert not thread.is_alive()
    cloud.rpc.pump()
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert (got["host"], got["vm_state"], got["task_state"]) == ("node-1", states.ACTIVE,
                                                                 None)
    assert cloud.conductor.migrations[MIGRATION]["status"] == "cancelled"
    assert cloud.conductor.faults(inst["uuid"]) is None
    assert _usage(dest) == (0, 0)


def test_force_complete_ends_a_slow_migration_and_the_guest_runs_there(
        cloud: fx.Cloud) -> None:
    source, dest = _node(cloud, "node-1"), _node(cloud, "node-2")
    inst = _active(cloud, source)
    _driver(source).live_migration_delay = 30.0
    ctxt = fx.ctxt()
    thread = _in_thread(source, ctxt, inst, _checks(cloud, inst, source, dest, ctxt))
    source.live_migration_force_complete(fx.ctxt(), inst["uuid"], MIGRATION)
    thread.join(10)
    cloud.rpc.pump()
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert (got["host"], got["power_state"]) == ("node-2", power_state.RUNNING)
    assert cloud.conductor.migrations[MIGRATION]["status"] == "completed"
    # Nothing runs any more: aborting now is a no-op.
    source.live_migration_abort(fx.ctxt(), inst["uuid"], MIGRATION)


def test_a_source_restarting_mid_migration_ends_it(cloud: fx.Cloud) -> None:
    driver = fake.FakeDriver("node-1", vcpus=8, memory_mb=4096, local_gb=100)
    source = cloud.add_node("node-1", driver=driver)
    source.init_host()
    dest = _node(cloud, "node-2")
    inst = _active(cloud, source)
    _checks(cloud, inst, source, dest, fx.ctxt())
    cloud.conductor.migration_update(None, MIGRATION, {"status": "running"})

    restarted = cloud.add_node("node-1", driver=driver)
    restarted.init_host()
    assert cloud.rpc.pump() == ["rollback_live_migration_at_destination@node-2"]
    assert cloud.conductor.migrations[MIGRATION]["status"] == "error"
    got = cloud.conductor.instance_get(None, inst["uuid"])
    assert (got["host"], got["vm_state"], got["task_state"], got["power_state"]) == \
        ("node-1", states.ACTIVE, None, power_state.RUNNING)
    assert _usage(dest) == (0, 0)


class _NoLiveMigration(fake.FakeDriver):
    supports_live_migration = False


def test_a_driver_without_live_migration_refuses_before_claiming(cloud: fx.Cloud) -> None:
    source = _node(cloud, "node-1")
    dest = cloud.add_node("node-2", driver=_NoLiveMigration("node-2"))
    dest.init_host()
    inst = _active(cloud, source)
    with pytest.raises(virt_exception.LiveMigrationNotSupported):
        fx_call(dest.check_can_live_migrate_destination, fx.ctxt(), inst["uuid"], MIGRATION,
                None, LIMITS)
    assert dest.node.tracker.claims() == {}
