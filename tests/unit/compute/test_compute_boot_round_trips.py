"""A boot's conductor round trips: the node takes the instance and starts its
action event in one call, reports its claim along with the next state change
and finishes the event with the ACTIVE update (ConductorAPI 1.4), with the
same records as separate calls made; the stores' plain-statement writes."""
from __future__ import annotations

import threading
from typing import Any, Iterator

import pytest
from oslo_messaging.rpc import dispatcher as messaging

from compute import exception
from compute import rpcapi
from compute import states
from compute.conductor import manager as conductor_manager
from compute.db import instances as instances_db
from compute.node import manager as node_manager
from compute.node import resource_tracker as rt
from compute.virt import exception as virt_exception
from compute.virt import fake
from tests.fixtures import compute_daemons as dfx
from tests.fixtures import compute_node as fx

LIMITS = {"vcpu": 64.0, "memory_mb": 65536.0, "disk_gb": 1000.0}
BUILD_EVENT = "compute_build_and_run_instance"
# What the API puts in a boot's request spec: the image as the root disk.
IMAGE_ROOT = {"block_device_mapping": [{"boot_index": 0, "source_type": "image",
                                        "destination_type": "local"}]}
RETRY = {**IMAGE_ROOT,
         "retry": {"num_attempts": 1, "max_attempts": 3, "hosts": [["node-1", "node-1"]],
                   "alternates": [{"host": "node-2", "node": "node-2", "limits": {}}]}}


class Recorder:
    """Records the name and keyword arguments of every conductor call."""

    def __init__(self, conductor: fx.FakeConductor) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        for name in ("instance_update", "action_event_start", "action_event_finish",
                     "compute_node_update", "instance_get", "bdm_get_by_instance"):
            setattr(conductor, name, self._wrap(name, getattr(conductor, name)))

    def _wrap(self, name: str, method: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls.append((name, dict(kwargs)))
            return method(*args, **kwargs)
        return call

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def _boot(cloud: fx.Cloud, node: node_manager.ComputeManager,
          spec: dict[str, Any] | None = None) -> tuple[dict[str, Any], Any, Recorder]:
    inst = cloud.conductor.new_instance(node.host)
    ctxt = fx.ctxt()
    cloud.conductor.start_action(inst["uuid"], "create", ctxt.request_id)
    recorder = Recorder(cloud.conductor)
    node.build_and_run_instance(ctxt, inst["uuid"], spec or IMAGE_ROOT, LIMITS, node.host)
    return cloud.conductor.store.get(inst["uuid"]), ctxt, recorder


def _events(cloud: fx.Cloud, uuid: str, request_id: str) -> list[dict[str, Any]]:
    return list(cloud.conductor.store.get_action(uuid, request_id)["events"])


def test_a_build_makes_three_conductor_calls(cloud: fx.Cloud,
                                             node: node_manager.ComputeManager) -> None:
    got, ctxt, recorder = _boot(cloud, node)
    assert (got["vm_state"], got["task_state"]) == (states.ACTIVE, None)
    assert recorder.names() == ["instance_update"] * 3
    take, spawning, active = (kwargs for _, kwargs in recorder.calls)
    assert take["action_event"] == {"request_id": ctxt.request_id, "event": BUILD_EVENT,
                                    "host": "node-1"}
    assert "node_resources" not in take
    # The claim is reported with the first state change after it.
    assert spawning["node_resources"]["host"] == "node-1"
    assert spawning["node_resources"]["resources"]["vcpus_used"] == 1
    assert "action_event" not in spawning
    assert active["action_event"]["result"] == "Success"
    assert "node_resources" not in active
    [event] = _events(cloud, got["uuid"], ctxt.request_id)
    assert (event["event"], event["result"], event["host"]) == (BUILD_EVENT, "Success",
                                                                "node-1")
    assert event["start_time"] <= event["finish_time"]
    report = cloud.conductor.last_report()
    assert (report["vcpus_used"], report["running_vms"]) == (1, 1)
    [row] = cloud.conductor.hosts.compute_node_list("node-1")
    assert (row["vcpus_used"], row["memory_mb_used"], row["running_vms"]) == (1, 128, 1)


def test_a_failure_before_the_report_releases_and_reports(
        cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    cloud.neighbours.allocate_error = exception.NetworkNotFound(network_id="n1")
    got, ctxt, recorder = _boot(cloud, node)
    assert got["vm_state"] == states.ERROR
    assert not any(kwargs.get("node_resources") for _, kwargs in recorder.calls)
    assert recorder.names().count("compute_node_update") == 1  # the release
    assert cloud.conductor.last_report()["vcpus_used"] == 0
    assert node.node.tracker.claims() == {}
    assert [(e["event"], e["result"]) for e in _events(cloud, got["uuid"], ctxt.request_id)
            ] == [(BUILD_EVENT, "Error")]


def test_a_failed_spawn_finishes_the_event_with_error_once(
        cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    assert isinstance(node.driver, fake.FakeDriver)
    node.driver.fail_next("spawn", virt_exception.InstanceDeployFailure(reason="disk full"))
    got, ctxt, recorder = _boot(cloud, node, spec=RETRY)
    assert (got["vm_state"], got["task_state"]) == (states.BUILDING, states.SCHEDULING)
    assert recorder.names().count("action_event_finish") == 1
    [event] = _events(cloud, got["uuid"], ctxt.request_id)
    assert event["result"] == "Error" and "disk full" in event["traceback"]
    assert cloud.conductor.last_report()["vcpus_used"] == 0


def test_a_delete_during_the_build_still_records_the_report(
        cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    inst = cloud.conductor.new_instance(node.host)
    ctxt = fx.ctxt()
    cloud.conductor.start_action(inst["uuid"], "create", ctxt.request_id)
    allocate = cloud.neighbours.allocate_for_instance

    def deleting(*args: Any, **kwargs: Any) -> Any:
        found = allocate(*args, **kwargs)
        cloud.conductor.store.update(inst["uuid"], {"task_state": states.DELETING})
        return found
    cloud.neighbours.allocate_for_instance = deleting  # type: ignore[method-assign]
    recorder = Recorder(cloud.conductor)
    node.build_and_run_instance(ctxt, inst["uuid"], IMAGE_ROOT, LIMITS, node.host)
    # The spawning update failed (the delete won) but carried the claim's report;
    # the release reported again.
    reports = [kwargs["node_resources"]["resources"]["vcpus_used"]
               for name, kwargs in recorder.calls if kwargs.get("node_resources")]
    assert reports == [1]
    assert cloud.conductor.node_reports[-1]["vcpus_used"] == 0
    assert node.driver.list_instance_uuids() == []


def test_concurrent_builds_never_overbook_with_deferred_reports(cloud: fx.Cloud) -> None:
    manager = cloud.add_node("node-1", vcpus=2, memory_mb=4096, local_gb=100)
    manager.init_host()
    tight = {"vcpu": 2.0, "memory_mb": 4096.0, "disk_gb": 100.0}
    uuids = [cloud.conductor.new_instance("node-1")["uuid"] for _ in range(6)]
    start = threading.Barrier(len(uuids))

    def build(uuid: str) -> None:
        start.wait()
        manager.build_and_run_instance(fx.ctxt(), uuid, IMAGE_ROOT, tight, "node-1")
    threads = [threading.Thread(target=build, args=(u,)) for u in uuids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    active = [u for u in uuids
              if cloud.conductor.store.get(u)["vm_state"] == states.ACTIVE]
    assert len(active) == 2
    assert cloud.conductor.last_report()["vcpus_used"] == 2


# -- the resource tracker -------------------------------------------------------------


def test_report_with_sends_the_current_use_inside_another_call(cloud: fx.Cloud) -> None:
    driver = fake.FakeDriver("node-1", vcpus=8, memory_mb=1024, local_gb=100)
    tracker = rt.ResourceTracker(cloud.conf, "node-1", driver, cloud.conductor)
    tracker.instance_claim(None, {"uuid": "i1", "vcpus": 2, "memory_mb": 256, "root_gb": 1},
                           LIMITS, report=False)
    assert cloud.conductor.node_reports == []
    sent: list[dict[str, Any]] = []

    def send(report: dict[str, Any]) -> str:
        sent.append(report)
        return "answer"
    assert tracker.report_with(send) == "answer"
    assert (sent[0]["vcpus_used"], sent[0]["memory_mb_used"], sent[0]["running_vms"]) == (
        2, 256, 1)
    assert sent[0] == tracker.snapshot()

    def broken(report: dict[str, Any]) -> None:
        raise exception.InstanceNotFound(instance_id="i1")
    with pytest.raises(exception.InstanceNotFound):
        tracker.report_with(broken)


# -- the conductor's side --------------------------------------------------------------


@pytest.fixture
def conductor(tmp_path: Any) -> Iterator[conductor_manager.ConductorManager]:
    conf, db = dfx.make_db(str(tmp_path))
    found = conductor_manager.ConductorManager(conf, db, scheduler=dfx.InProcessScheduler(None),
                                               compute=dfx.FakeCompute())
    yield found
    db.dispose()


def test_instance_update_records_the_event_and_the_report(
        conductor: conductor_manager.ConductorManager) -> None:
    ctxt = dfx.ctxt()
    uuid = dfx.add_instance(conductor.db)
    conductor.instances.action_start(uuid, "create", ctxt.request_id, "u1", "p1")
    event = {"request_id": ctxt.request_id, "event": BUILD_EVENT, "host": "h1"}
    resources = {"hypervisor_hostname": "h1", "vcpus": 8, "memory_mb": 4096,
                 "local_gb": 100, "vcpus_used": 1, "memory_mb_used": 512,
                 "local_gb_used": 1, "running_vms": 1, "hypervisor_type": "fake"}
    got = conductor.instance_update(ctxt, uuid, {"task_state": states.NETWORKING},
                                    expected_task_state=[states.SCHEDULING],
                                    action_event=event,
                                    node_resources={"host": "h1", "resources": resources})
    assert got["task_state"] == states.NETWORKING
    [node] = conductor.hosts.compute_node_list("h1")
    assert (node["vcpus_used"], node["running_vms"]) == (1, 1)
    action = conductor.instances.get_action(uuid, ctxt.request_id)
    assert [(e["event"], e["result"], e["host"]) for e in action["events"]] == [
        (BUILD_EVENT, None, "h1")]
    conductor.instance_update(ctxt, uuid, {"task_state": None, "vm_state": states.ACTIVE},
                              expected_task_state=states.NETWORKING,
                              action_event=dict(event, result="Success", traceback=None))
    action = conductor.instances.get_action(uuid, ctxt.request_id)
    assert [(e["event"], e["result"]) for e in action["events"]] == [(BUILD_EVENT, "Success")]
    assert action["finish_time"] is not None and action["message"] is None


def test_a_failed_update_records_no_event_but_the_report(
        conductor: conductor_manager.ConductorManager) -> None:
    ctxt = dfx.ctxt()
    uuid = dfx.add_instance(conductor.db)
    conductor.instances.action_start(uuid, "create", ctxt.request_id, "u1", "p1")
    resources = {"hypervisor_hostname": "h1", "vcpus": 8, "memory_mb": 4096,
                 "local_gb": 100, "vcpus_used": 3}
    with pytest.raises(exception.UnexpectedTaskStateError):
        conductor.instances.update(uuid, {"task_state": states.SPAWNING},
                                   expected_task_state=[states.NETWORKING],
                                   action_event={"request_id": ctxt.request_id,
                                                 "event": BUILD_EVENT, "host": "h1"})
    with pytest.raises(messaging.ExpectedException):  # rpc.expected wraps it
        conductor.instance_update(ctxt, uuid, {"task_state": states.SPAWNING},
                                  expected_task_state=[states.NETWORKING],
                                  node_resources={"host": "h1", "resources": resources})
    assert conductor.instances.get_action(uuid, ctxt.request_id)["events"] == []
    assert conductor.hosts.compute_node_list("h1")[0]["vcpus_used"] == 3


def test_the_client_sends_1_4_only_with_the_new_arguments(monkeypatch: Any) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    class Prepared:
        def __init__(self, version: str) -> None:
            self.version = version

        def call(self, ctxt: Any, method: str, **kwargs: Any) -> dict[str, Any]:
            sent.append((self.version, kwargs))
            return {}

    client = rpcapi.ConductorAPI.__new__(rpcapi.ConductorAPI)
    monkeypatch.setattr(client, "_prepare", lambda version="1.0", **kw: Prepared(version),
                        raising=False)
    client.instance_update(None, "u1", {"task_state": None})
    client.instance_update(None, "u1", {}, action_event={"request_id": "r", "event": "e"})
    client.instance_update(None, "u1", {}, node_resources={"host": "h", "resources": {}})
    assert [version for version, _ in sent] == ["1.0", "1.4", "1.4"]
    assert set(sent[0][1]) == {"instance_uuid", "values", "expected_task_state",
                               "expected_vm_state"}
    assert sent[1][1]["action_event"] == {"request_id": "r", "event": "e"}
    assert sent[2][1]["node_resources"] == {"host": "h", "resources": {}}


# -- the stores' plain statements ------------------------------------------------------


def test_compare_and_set_update_checks_states_with_and_without_null(
        conductor: conductor_manager.ConductorManager) -> None:
    store = conductor.instances
    uuid = dfx.add_instance(conductor.db)
    store.update(uuid, {"task_state": None})
    # None allowed alongside other states; a vm state list; no check at all.
    got = store.update(uuid, {"task_state": states.SPAWNING},
                       expected_task_state=[states.NETWORKING, None],
                       expected_vm_state=[states.BUILDING])
    assert got["task_state"] == states.SPAWNING
    with pytest.raises(exception.UnexpectedTaskStateError):
        store.update(uuid, {"task_state": None}, expected_task_state=[None])
    with pytest.raises(exception.UnexpectedTaskStateError):
        store.update(uuid, {"task_state": None}, expected_task_state=[])
    with pytest.raises(exception.UnexpectedVMStateError):
        store.update(uuid, {"task_state": None}, expected_task_state=states.SPAWNING,
                     expected_vm_state=states.ACTIVE)
    got = store.update(uuid, {"network_info": [{"id": "p1"}],
                              "launched_at": "2026-01-02T03:04:05.000006"},
                       expected_task_state=instances_db.ANY)
    assert got["network_info"] == [{"id": "p1"}]
    assert got["launched_at"] == "2026-01-02T03:04:05.000006"
    store.destroy(uuid)
    with pytest.raises(exception.InstanceNotFound):
        store.update(uuid, {"task_state": None})


def test_a_node_report_updates_its_row(conductor: conductor_manager.ConductorManager) -> None:
    hosts = conductor.hosts
    first = hosts.compute_node_update("h1", {"hypervisor_hostname": "h1", "vcpus": 8,
                                             "memory_mb": 4096, "local_gb": 100,
                                             "cpu_info": {"arch": "x86_64"}})
    assert (first["hypervisor_type"], first["vcpus_used"]) == ("unknown", 0)
    again = hosts.compute_node_update("h1", {"hypervisor_hostname": "h1", "vcpus_used": 2,
                                             "memory_mb_used": 1024, "vcpus": None,
                                             "cpu_info": {"arch": "aarch64"}})
    assert again == hosts.compute_node_list("h1")[0]
    assert (again["id"], again["uuid"], again["created_at"]) == (
        first["id"], first["uuid"], first["created_at"])
    assert (again["vcpus"], again["vcpus_used"], again["free_ram_mb"]) == (8, 2, 3072)
    assert again["cpu_info"] == {"arch": "aarch64"}
    assert again["updated_at"] >= first["updated_at"]
