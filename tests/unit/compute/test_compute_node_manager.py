"""The compute node's RPC endpoint: the contract with its client, builds
(success, reschedule, ERROR, delete during build), deletes, consoles, events,
interfaces and volumes; with the fake driver and a fake conductor."""
from __future__ import annotations

import inspect
import os
from typing import Any

import pytest
from oslo_messaging.rpc import dispatcher as messaging

from compute import exception
from compute import rpcapi
from compute import states
from compute.node import manager as node_manager
from compute.virt import exception as virt_exception
from compute.virt import fake
from compute.virt import power_state
from tests.fixtures import compute_node as fx

LIMITS = {"vcpu": 64.0, "memory_mb": 65536.0, "disk_gb": 1000.0}
# What the conductor puts in a request spec: attempts left, an alternate host.
RETRY = {"retry": {"num_attempts": 1, "max_attempts": 3, "hosts": [["node-1", "node-1"]],
                   "alternates": [{"host": "node-2", "node": "node-2", "limits": {}}]}}
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def _build(cloud: fx.Cloud, node: node_manager.ComputeManager, spec: dict[str, Any] | None = None,
           limits: dict[str, Any] | None = None, **values: Any) -> tuple[dict[str, Any], Any]:
    inst = cloud.conductor.new_instance(node.host, **values)
    ctxt = fx.ctxt()
    cloud.conductor.start_action(inst["uuid"], "create", ctxt.request_id)
    node.build_and_run_instance(ctxt, inst["uuid"], spec or {}, LIMITS if limits is None
                                else limits, node.host)
    return cloud.conductor.instance_get(ctxt, inst["uuid"]), ctxt


def _call(method: Any, *args: Any, **kwargs: Any) -> Any:
    """Call an RPC method as the dispatcher would: an expected exception comes
    back as itself (rpc.expected wraps it for oslo.messaging)."""
    try:
        return method(*args, **kwargs)
    except messaging.ExpectedException as err:
        raise err.exc_info[1] from None


def _events(cloud: fx.Cloud, uuid: str, request_id: str) -> list[tuple[str, str]]:
    action = cloud.conductor.store.get_action(uuid, request_id)
    return [(e["event"], e["result"]) for e in action["events"]]


# -- the contract ------------------------------------------------------------------------


def test_versions_in_sync() -> None:
    assert node_manager.ComputeManager.RPC_API_VERSION == \
        rpcapi.ComputeNodeAPI.RPC_API_VERSION
    assert node_manager.ComputeManager.target.version == rpcapi.ComputeNodeAPI.RPC_API_VERSION


def test_every_rpc_method_has_a_client_with_the_same_arguments() -> None:
    def public(cls: type) -> dict[str, Any]:
        return {name: member for name, member in inspect.getmembers(cls, inspect.isfunction)
                if not name.startswith("_")}
    server = public(node_manager.ComputeManager)
    for hook in ("init_host", "cleanup_host"):
        server.pop(hook)
    client = public(rpcapi.ComputeNodeAPI)
    assert set(server) == set(client)
    for name, method in server.items():
        client_args = [p for p in inspect.signature(client[name]).parameters if p != "host"]
        assert list(inspect.signature(method).parameters) == client_args, name


def test_the_node_never_imports_the_database() -> None:
    import ast
    offenders = []
    paths = [os.path.join(REPO, "compute", "cmd", "node.py")]
    for root, _dirs, files in os.walk(os.path.join(REPO, "compute", "node")):
        paths += [os.path.join(root, f) for f in files if f.endswith(".py")]
    for path in paths:
        with open(path) as handle:
            tree = ast.parse(handle.read())
        for item in ast.walk(tree):
            names = ([a.name for a in item.names] if isinstance(item, ast.Import) else
                     [item.module or ""] if isinstance(item, ast.ImportFrom) else [])
            offenders += ["%s: %s" % (path, n) for n in names
                          if n.startswith(("compute.db", "common.db", "sqlalchemy"))]
    assert offenders == []


def test_cmd_builds_the_service(cloud: fx.Cloud, monkeypatch: Any) -> None:
    from compute.cmd import node as node_cmd
    from compute.virt import loader
    conf = fx.make_conf()
    conf.set_override("host", "node-9")
    seen: dict[str, Any] = {}

    def load(conf: Any, host: str, fetch_image: Any = None) -> fake.FakeDriver:
        seen["fetch_image"] = fetch_image
        return fake.FakeDriver(host)
    monkeypatch.setattr(loader, "load", load)
    monkeypatch.setattr(rpcapi.ConductorAPI, "__init__", lambda self: None)
    monkeypatch.setattr(rpcapi.ComputeNodeAPI, "__init__", lambda self: None)
    service = node_cmd.build(conf)
    assert service.topic == "compute" and service.host == "node-9"
    assert service.binary == "stratus-compute-node"
    assert isinstance(service.manager, node_manager.ComputeManager)
    assert callable(seen["fetch_image"])
    service.manager.cleanup_host()  # type: ignore[attr-defined]


# -- builds ------------------------------------------------------------------------------


def test_build_stores_network_info_with_spawning(
        cloud: fx.Cloud, node: node_manager.ComputeManager,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Three instance updates per build: networking, spawning (with the
    network_info of the ports just allocated), active."""
    seen: list[dict[str, Any]] = []
    update = cloud.conductor.instance_update

    def recording(ctxt: Any, instance_uuid: str, values: dict[str, Any],
                  *args: Any, **kwargs: Any) -> Any:
        seen.append(dict(values))
        return update(ctxt, instance_uuid, values, *args, **kwargs)
    monkeypatch.setattr(cloud.conductor, "instance_update", recording)
    got, _ = _build(cloud, node)
    assert [v.get("task_state", "-") for v in seen] == [
        states.NETWORKING, states.SPAWNING, None]
    assert seen[1]["network_info"] == got["network_info"] and len(got["network_info"]) == 1
    assert "network_info" not in seen[0] and "network_info" not in seen[2]


def _recording(cloud: fx.Cloud, monkeypatch: pytest.MonkeyPatch,
               name: str) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []
    method = getattr(cloud.conductor, name)

    def record(ctxt: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return method(ctxt, *args, **kwargs)
    monkeypatch.setattr(cloud.conductor, name, record)
    return calls


IMAGE_ROOT = {"source_type": "image", "destination_type": "local", "boot_index": 0}


def test_build_without_volumes_asks_no_block_devices(
        cloud: fx.Cloud, node: node_manager.ComputeManager,
        monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _recording(cloud, monkeypatch, "bdm_get_by_instance")
    got, _ = _build(cloud, node, spec={"block_device_mapping": [IMAGE_ROOT]})
    assert got["vm_state"] == states.ACTIVE and asked == []
    _build(cloud, node)  # a request spec that does not say: asked
    assert len(asked) == 1


def test_build_with_a_volume_connects_it(cloud: fx.Cloud, node: node_manager.ComputeManager,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    updates = _recording(cloud, monkeypatch, "instance_update")
    inst = cloud.conductor.new_instance(node.host)
    cloud.conductor.bdms[inst["uuid"]] = [{
        "uuid": "bdm-9", "instance_uuid": inst["uuid"], "volume_id": "vol-9",
        "attachment_id": "att-9", "destination_type": "volume", "source_type": "volume",
        "device_name": "/dev/vdb", "connection_info": None, "boot_index": None}]
    ctxt = fx.ctxt()
    spec = {"block_device_mapping": [IMAGE_ROOT, {"source_type": "volume",
                                                  "destination_type": "volume",
                                                  "uuid": "vol-9"}]}
    node.build_and_run_instance(ctxt, inst["uuid"], spec, LIMITS, node.host)
    got = cloud.conductor.instance_get(ctxt, inst["uuid"])
    assert got["vm_state"] == states.ACTIVE
    assert cloud.neighbours.volume_calls == [("connect", "att-9"), ("complete", "att-9")]
    assert cloud.conductor.bdms[inst["uuid"]][0]["connection_info"]["attachment_id"] == "att-9"
    assert [u[1].get("task_state", "-") for u in updates] == [
        states.NETWORKING, states.BLOCK_DEVICE_MAPPING, states.SPAWNING, None]
    assert updates[1][1]["network_info"] == got["network_info"]

def test_build_success(cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    got, ctxt = _build(cloud, node)
    assert (got["vm_state"], got["task_state"]) == (states.ACTIVE, None)
    assert got["power_state"] == power_state.RUNNING
    assert got["launched_at"] and got["launched_on"] == "node-1"
    assert got["host"] == "node-1" and got["node"] == "node-1"
    assert len(got["network_info"]) == 1
    assert cloud.neighbours.ports_of(got["uuid"]) == [got["network_info"][0]["id"]]
    assert got["uuid"] in node.driver.list_instance_uuids()
    assert _events(cloud, got["uuid"], ctxt.request_id) == [
        ("compute_build_and_run_instance", "Success")]
    report = cloud.conductor.last_report()
    assert (report["vcpus_used"], report["memory_mb_used"], report["local_gb_used"],
            report["running_vms"]) == (1, 128, 1, 1)
    # Nova's tail: the last N elements of split("\n"), the empty one after the
    # final newline included (Tempest counts exactly N).
    console = _call(node.get_console_output, ctxt, got["uuid"], tail_length=2)
    assert console.split("\n") == ["vm login: ", ""]


def test_build_failure_is_rescheduled_and_the_claim_released(
        cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    assert isinstance(node.driver, fake.FakeDriver)
    node.driver.fail_next("spawn", virt_exception.InstanceDeployFailure(reason="disk full"))
    got, ctxt = _build(cloud, node, spec=RETRY)
    assert (got["vm_state"], got["task_state"]) == (states.BUILDING, states.SCHEDULING)
    assert got["host"] is None and got["network_info"] == []
    assert cloud.conductor.reschedules == [{
        "instance_uuid": got["uuid"], "failed_host": "node-1",
        "reason": "Failed to deploy instance: disk full"}]
    assert cloud.neighbours.ports_of(got["uuid"]) == []
    assert node.driver.list_instance_uuids() == []
    assert node.node.tracker.claims() == {}
    assert cloud.conductor.last_report()["vcpus_used"] == 0
    assert _events(cloud, got["uuid"], ctxt.request_id) == [
        ("compute_build_and_run_instance", "Error")]


@pytest.mark.parametrize("spec", [{}, {"retry": {"num_attempts": 3, "max_attempts": 3}}],
                         ids=["one-attempt-only", "attempts-used-up"])
def test_build_failure_without_attempts_left_is_error_with_fault(
        cloud: fx.Cloud, node: node_manager.ComputeManager, spec: dict[str, Any]) -> None:
    assert isinstance(node.driver, fake.FakeDriver)
    node.driver.fail_next("spawn", virt_exception.InstanceDeployFailure(reason="disk full"))
    got, _ctxt = _build(cloud, node, spec=spec)
    assert (got["vm_state"], got["task_state"]) == (states.ERROR, None)
    assert got["host"] == "node-1", "an ERROR instance keeps its host so delete reaches it"
    fault = cloud.conductor.faults(got["uuid"])
    assert fault is not None and fault["code"] == 500
    assert "disk full" in fault["message"] and "aborted" in fault["message"]
    assert cloud.conductor.reschedules == []
    assert node.node.tracker.claims() == {}
    assert cloud.neighbours.ports_of(got["uuid"]) == []
    # ... and it can be deleted (there is no guest).
    node.terminate_instance(fx.ctxt(), got["uuid"])
    assert cloud.conductor.store.get(got["uuid"], read_deleted=True)["vm_state"] == \
        states.DELETED


def test_bad_image_aborts_without_reschedule(cloud: fx.Cloud,
                                             node: node_manager.ComputeManager) -> None:
    got, _ctxt = _build(cloud, node, spec=RETRY, image_ref="no-such-image")
    assert got["vm_state"] == states.ERROR
    assert cloud.conductor.reschedules == []
    fault = cloud.conductor.faults(got["uuid"])
    assert fault is not None and "no-such-image" in fault["message"]


def test_claim_over_the_limits_reschedules(cloud: fx.Cloud,
                                           node: node_manager.ComputeManager) -> None:
    got, _ctxt = _build(cloud, node, spec=RETRY, limits={"vcpu": 1.0, "memory_mb": 100.0})
    assert got["task_state"] == states.SCHEDULING
    assert "Insufficient compute resources" in cloud.conductor.reschedules[0]["reason"]
    assert node.driver.list_instance_uuids() == []


def test_network_failure_aborts_and_records_it(cloud: fx.Cloud,
                                               node: node_manager.ComputeManager) -> None:
    cloud.neighbours.allocate_error = exception.NoMoreFixedIps(net="n1")
    got, _ctxt = _build(cloud, node, spec=RETRY)
    assert got["vm_state"] == states.ERROR
    fault = cloud.conductor.faults(got["uuid"])
    assert fault is not None and "No fixed IP addresses available" in fault["message"]


def test_deleted_during_build_is_cleaned_up(cloud: fx.Cloud,
                                            node: node_manager.ComputeManager) -> None:
    real = cloud.neighbours.allocate_for_instance

    def allocate_then_delete(ctxt: Any, instance: dict[str, Any], *args: Any) -> Any:
        found = real(ctxt, instance, *args)
        # The user deletes the server while its ports are being made.
        cloud.conductor.store.update(instance["uuid"], {"task_state": states.DELETING})
        return found
    cloud.neighbours.allocate_for_instance = allocate_then_delete  # type: ignore[method-assign]
    got, ctxt = _build(cloud, node)
    assert got["task_state"] == states.DELETING and got["vm_state"] == states.BUILDING
    assert node.driver.list_instance_uuids() == []
    assert cloud.neighbours.ports_of(got["uuid"]) == []
    assert node.node.tracker.claims() == {}
    node.terminate_instance(ctxt, got["uuid"])
    assert cloud.conductor.store.get(got["uuid"], read_deleted=True)["deleted"]


def test_build_of_an_instance_already_deleted_does_nothing(
        cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    inst = cloud.conductor.new_instance(node.host)
    cloud.conductor.store.destroy(inst["uuid"])
    node.build_and_run_instance(fx.ctxt(), inst["uuid"], {}, LIMITS, node.host)
    assert node.driver.list_instance_uuids() == [] and node.node.tracker.claims() == {}


@pytest.mark.parametrize("values", [{"task_state": states.DELETING},
                                    {"vm_state": states.ERROR, "task_state": None}])
def test_build_of_an_instance_no_longer_building_does_nothing(
        cloud: fx.Cloud, node: node_manager.ComputeManager, values: dict[str, Any]) -> None:
    inst = cloud.conductor.new_instance(None)
    cloud.conductor.store.update(inst["uuid"], values)
    ctxt = fx.ctxt()
    cloud.conductor.start_action(inst["uuid"], "create", ctxt.request_id)
    node.build_and_run_instance(ctxt, inst["uuid"], {}, LIMITS, node.host)
    assert node.driver.list_instance_uuids() == [] and node.node.tracker.claims() == {}
    got = cloud.conductor.store.get(inst["uuid"])
    assert got["host"] is None and {k: got[k] for k in values} == values
    assert _events(cloud, inst["uuid"], ctxt.request_id) == []
    assert cloud.neighbours.ports_of(inst["uuid"]) == []


# -- delete ------------------------------------------------------------------------------


def test_terminate_removes_everything_and_is_idempotent(
        cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    got, _ctxt = _build(cloud, node)
    cloud.conductor.store.update(got["uuid"], {"task_state": states.DELETING})
    ctxt = fx.ctxt()
    cloud.conductor.start_action(got["uuid"], "delete", ctxt.request_id)
    node.terminate_instance(ctxt, got["uuid"])
    assert node.driver.list_instance_uuids() == []
    assert cloud.neighbours.ports_of(got["uuid"]) == []
    assert node.node.tracker.claims() == {}
    assert cloud.conductor.last_report()["running_vms"] == 0
    row = cloud.conductor.store.get(got["uuid"], read_deleted=True)
    assert row["vm_state"] == states.DELETED
    assert _events(cloud, got["uuid"], ctxt.request_id) == [
        ("compute_terminate_instance", "Success")]
    node.terminate_instance(fx.ctxt(), got["uuid"])  # again: nothing left, no error


def test_terminate_failure_leaves_a_deletable_error(cloud: fx.Cloud,
                                                    node: node_manager.ComputeManager) -> None:
    got, _ctxt = _build(cloud, node)
    assert isinstance(node.driver, fake.FakeDriver)
    node.driver.fail_next("destroy", virt_exception.InstanceTerminationFailure(reason="busy"))
    node.terminate_instance(fx.ctxt(), got["uuid"])
    row = cloud.conductor.instance_get(fx.ctxt(), got["uuid"])
    assert (row["vm_state"], row["task_state"]) == (states.ERROR, None)
    node.terminate_instance(fx.ctxt(), got["uuid"])
    assert cloud.conductor.store.get(got["uuid"], read_deleted=True)["deleted"]


# -- looking at guests ------------------------------------------------------------------


def test_console_vnc_and_diagnostics(cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    got, ctxt = _build(cloud, node)
    full = _call(node.get_console_output, ctxt, got["uuid"])
    assert "Linux version" in full
    assert _call(node.get_console_output, ctxt, got["uuid"], tail_length=0) == ""
    assert len(_call(node.get_console_output, ctxt, got["uuid"], tail_length=2).split("\n")) == 2
    vnc = _call(node.get_vnc_console, ctxt, got["uuid"])
    assert vnc["host"] == "127.0.0.1" and vnc["port"] > 5900
    diag = _call(node.get_diagnostics, ctxt, got["uuid"])
    assert diag["state"] == "running" and diag["num_cpus"] == 1 and diag["num_nics"] == 1
    assert diag["memory_details"]["maximum"] == 128
    with pytest.raises(exception.InstanceNotFound):
        _call(node.get_console_output, ctxt, "00000000-0000-0000-0000-000000000000")


# -- events, interfaces, volumes ----------------------------------------------------------


def test_network_changed_refreshes_and_vif_deleted_forgets(
        cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    got, ctxt = _build(cloud, node)
    extra = cloud.neighbours.allocate_for_instance(ctxt, got, [{"uuid": "net-2"}], [], "node-1")
    node.external_instance_event(ctxt, [{"name": "network-changed", "tag": extra[0]["id"],
                                         "status": "completed", "server_uuid": got["uuid"]}])
    row = cloud.conductor.instance_get(ctxt, got["uuid"])
    assert {v["id"] for v in row["network_info"]} == set(cloud.neighbours.ports_of(got["uuid"]))
    assert len(row["network_info"]) == 2
    node.external_instance_event(ctxt, [
        {"name": "network-vif-deleted", "tag": "unknown-port", "server_uuid": got["uuid"]},
        {"name": "network-vif-deleted", "tag": extra[0]["id"], "server_uuid": got["uuid"]},
        {"name": "network-vif-plugged", "tag": "x", "server_uuid": "no-such-instance"},
        {"name": "volume-extended", "tag": "v", "server_uuid": got["uuid"]}])
    row = cloud.conductor.instance_get(ctxt, got["uuid"])
    assert [v["id"] for v in row["network_info"]] == [got["network_info"][0]["id"]]


def test_interface_hotplug_unsupported_is_a_409(cloud: fx.Cloud) -> None:
    class NoHotplug(fake.FakeDriver):
        supports_interface_hotplug = False
    node = cloud.add_node("node-1", driver=NoHotplug("node-1"))
    node.init_host()
    got, ctxt = _build(cloud, node)
    with pytest.raises(exception.InterfaceHotplugNotSupported) as err:
        _call(node.attach_interface, ctxt, got["uuid"], fx.NETWORK_ID, None, None)
    assert err.value.code == 409
    node.detach_interface(ctxt, got["uuid"], got["network_info"][0]["id"])
    fault = cloud.conductor.faults(got["uuid"])
    assert fault is not None and fault["code"] == 409


def test_interface_hotplug_with_a_driver_that_can(cloud: fx.Cloud) -> None:
    class Hotplug(fake.FakeDriver):
        def attach_interface(self, context: Any, instance: Any, image_meta: Any,
                             vif: Any) -> None:
            self.plugged = vif

        def detach_interface(self, context: Any, instance: Any, vif: Any) -> None:
            self.unplugged = vif
    driver = Hotplug("node-1")
    node = cloud.add_node("node-1", driver=driver)
    node.init_host()
    got, ctxt = _build(cloud, node)
    entry = _call(node.attach_interface, ctxt, got["uuid"], "net-2", None, "10.0.0.99")
    assert driver.plugged.port_id == entry["id"]
    row = cloud.conductor.instance_get(ctxt, got["uuid"])
    assert [v["id"] for v in row["network_info"]][-1] == entry["id"]
    node.detach_interface(ctxt, got["uuid"], entry["id"])
    assert driver.unplugged.port_id == entry["id"]
    row = cloud.conductor.instance_get(ctxt, got["uuid"])
    assert entry["id"] not in [v["id"] for v in row["network_info"]]


def test_attach_and_detach_volume(cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    got, ctxt = _build(cloud, node)
    bdm = {"uuid": "bdm-1", "instance_uuid": got["uuid"], "volume_id": "vol-1",
           "attachment_id": "att-1", "destination_type": "volume", "source_type": "volume",
           "device_name": None, "connection_info": None}
    cloud.conductor.bdms[got["uuid"]] = [bdm]
    node.attach_volume(ctxt, got["uuid"], "bdm-1")
    stored = cloud.conductor.bdms[got["uuid"]][0]
    assert stored["device_name"] == "/dev/vdb" and stored["connection_info"]
    assert cloud.neighbours.volume_calls == [("connect", "att-1"), ("complete", "att-1")]
    assert isinstance(node.driver, fake.FakeDriver)
    assert "vdb" in node.driver._guests[got["uuid"]].volumes
    node.detach_volume(ctxt, got["uuid"], "vol-1", "att-1")
    assert "vdb" not in node.driver._guests[got["uuid"]].volumes
    assert cloud.neighbours.volume_calls[-1] == ("disconnect", "att-1")
    node.attach_volume(ctxt, got["uuid"], "no-such-bdm")
    fault = cloud.conductor.faults(got["uuid"])
    assert fault is not None and fault["code"] == 404
