"""ConductorManager: in step with the ConductorAPI client, and its database
methods for the nodes over a real SQLite database."""
from __future__ import annotations

import inspect
from typing import Any

import pytest

from common import rpc_service
from compute import exception
from compute import rpcapi
from compute import states
from compute.conductor import manager
from compute.db import hosts as hosts_db
from compute.db import models
from tests.fixtures import compute_daemons as fx


def _public(cls: type) -> dict[str, Any]:
    return {name: member for name, member in vars(cls).items()
            if not name.startswith("_") and inspect.isfunction(member)}


def test_rpc_version_in_sync_with_client() -> None:
    assert manager.ConductorManager.RPC_API_VERSION == rpcapi.ConductorAPI.RPC_API_VERSION
    assert manager.ConductorManager.target.version == rpcapi.ConductorAPI.RPC_API_VERSION


def test_every_client_method_is_served_with_the_same_arguments() -> None:
    client = _public(rpcapi.ConductorAPI)
    server = _public(manager.ConductorManager)
    assert set(client) <= set(server)
    for name, method in client.items():
        client_params = list(inspect.signature(method).parameters)
        server_params = list(inspect.signature(server[name]).parameters)
        assert client_params == server_params, name
        for param in inspect.signature(method).parameters.values():
            default = inspect.signature(server[name]).parameters[param.name].default
            assert default == param.default, (name, param.name)


@pytest.fixture
def env(tmp_path: Any) -> Any:
    conf, db = fx.make_db(str(tmp_path))
    conductor = manager.ConductorManager(conf, db, scheduler=fx.InProcessScheduler(None),
                                         compute=fx.FakeCompute())
    yield conductor
    db.dispose()


def test_instance_methods(env: manager.ConductorManager) -> None:
    ctxt = fx.ctxt()
    inst = fx.add_instance(env.db, host="h1")
    fx.add_instance(env.db, host="h2")
    assert env.instance_get(ctxt, inst)["uuid"] == inst
    assert [i["uuid"] for i in env.instance_get_all_by_host(ctxt, "h1")] == [inst]
    updated = env.instance_update(ctxt, inst, {"task_state": states.SPAWNING})
    assert updated["task_state"] == states.SPAWNING
    updated = env.instance_update(ctxt, inst, {"vm_state": states.ACTIVE, "task_state": None,
                                               "power_state": 1},
                                  expected_task_state=[states.SPAWNING],
                                  expected_vm_state=[states.BUILDING])
    assert (updated["vm_state"], updated["power_state"]) == (states.ACTIVE, 1)
    with pytest.raises(exception.UnexpectedTaskStateError):
        fx.call(env.instance_update, ctxt, inst, {"task_state": None},
                expected_task_state=states.REBOOTING)
    with pytest.raises(exception.UnexpectedVMStateError):
        fx.call(env.instance_update, ctxt, inst, {"task_state": None},
                expected_vm_state=[states.STOPPED])
    env.instance_update(ctxt, inst, {"task_state": states.DELETING},
                        expected_task_state=None)
    assert env.instance_destroy(ctxt, inst)["vm_state"] == "deleted"
    with pytest.raises(exception.InstanceNotFound):
        fx.call(env.instance_get, ctxt, inst)
    assert env.instance_get(ctxt, inst, read_deleted=True)["deleted"]
    with pytest.raises(exception.InstanceNotFound):
        fx.call(env.instance_update, ctxt, inst, {"task_state": None})


def test_faults_and_action_events(env: manager.ConductorManager) -> None:
    ctxt = fx.ctxt()
    inst = fx.add_instance(env.db, request_id=ctxt.request_id)
    env.instance_fault_create(ctxt, inst, 500, "boom", "trace", "h1")
    fault = env.instances.latest_faults([inst])[inst]
    assert (fault["code"], fault["message"], fault["details"], fault["host"]) == (
        500, "boom", "trace", "h1")
    env.action_event_start(ctxt, inst, ctxt.request_id, "compute_build_and_run_instance",
                           "h1")
    env.action_event_finish(ctxt, inst, ctxt.request_id, "compute_build_and_run_instance",
                            "Success", None, "h1")
    [event] = env.instances.get_action(inst, ctxt.request_id)["events"]
    assert (event["event"], event["result"], event["host"]) == (
        "compute_build_and_run_instance", "Success", "h1")


def test_service_report_and_compute_node_update(env: manager.ConductorManager) -> None:
    ctxt = fx.ctxt()
    first = env.service_report(ctxt, hosts_db.COMPUTE_BINARY, "h1", "compute")
    second = env.service_report(ctxt, hosts_db.COMPUTE_BINARY, "h1", "compute")
    assert (first["report_count"], second["report_count"]) == (1, 2)
    node = env.compute_node_update(ctxt, "h1", {
        "hypervisor_hostname": "h1", "vcpus": 8, "memory_mb": 8192, "local_gb": 50,
        "vcpus_used": 1, "memory_mb_used": 512, "local_gb_used": 1,
        "hypervisor_type": "fake", "hypervisor_version": 1000, "cpu_info": {}})
    assert (node["host"], node["vcpus"], node["free_ram_mb"]) == ("h1", 8, 7680)


def test_block_device_mappings(env: manager.ConductorManager) -> None:
    ctxt = fx.ctxt()
    inst = fx.add_instance(env.db)
    with env.db.writer() as session:
        session.add(models.BlockDeviceMapping(
            uuid="b2", instance_uuid=inst, source_type="volume", destination_type="volume",
            volume_id="v2", boot_index=None))
        session.add(models.BlockDeviceMapping(
            uuid="b1", instance_uuid=inst, source_type="image", destination_type="local",
            image_id="img", boot_index=0))
    assert [b["uuid"] for b in env.bdm_get_by_instance(ctxt, inst)] == ["b1", "b2"]
    updated = env.bdm_update(ctxt, "b2", {"device_name": "/dev/vdb",
                                          "connection_info": {"driver_volume_type": "iscsi"},
                                          "attachment_id": "a1"})
    assert (updated["device_name"], updated["connection_info"]) == (
        "/dev/vdb", {"driver_volume_type": "iscsi"})
    with pytest.raises(exception.BDMNotFound):
        fx.call(env.bdm_update, ctxt, "nope", {"device_name": "/dev/vdc"})
    with pytest.raises(ValueError):
        env.bdm_update(ctxt, "b2", {"instance_uuid": "other"})
    env.bdm_destroy(ctxt, "b2")
    assert [b["uuid"] for b in env.bdm_get_by_instance(ctxt, inst)] == ["b1"]
    with pytest.raises(exception.BDMNotFound):
        fx.call(env.bdm_destroy, ctxt, "b2")


def test_migration_update_creates_then_updates(env: manager.ConductorManager) -> None:
    ctxt = fx.ctxt()
    created = env.migration_update(ctxt, "m1", {
        "instance_uuid": "i1", "migration_type": "migration", "status": "migrating",
        "source_compute": "h1", "dest_compute": "h2"})
    assert (created["uuid"], created["status"]) == ("m1", "migrating")
    assert env.migration_update(ctxt, "m1", {"status": "finished"})["status"] == "finished"


def test_stuck_build_check_is_a_periodic_task(env: manager.ConductorManager) -> None:
    tasks = {name: spec for name, _method, spec in rpc_service.periodic_tasks(env)}
    spacing = tasks["_fail_stuck_builds"].spacing
    assert callable(spacing) and spacing(env.conf) == 60.0
    env._fail_stuck_builds(fx.ctxt())  # nothing stuck: a no-op
