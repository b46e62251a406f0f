"""The node's shelve, offload and unshelve, and the driver diagnostics; with the
fake driver, a fake conductor and in-memory neighbours."""
from __future__ import annotations

import datetime
from typing import Any, Iterator

import pytest

from compute import states
from compute.node import manager as node_manager
from compute.node import shelve
from compute.virt import power_state
from tests.fixtures import compute_node as fx

LIMITS = {"vcpu": 64.0, "memory_mb": 65536.0, "disk_gb": 1000.0}
SHELVED_IMAGE = "99999999-8888-7777-6666-555555555555"


def _cloud(tmp_path: Any, **compute: Any) -> fx.Cloud:
    return fx.Cloud(str(tmp_path), **compute)


@pytest.fixture
def cloud(tmp_path: Any) -> Iterator[fx.Cloud]:
    found = _cloud(tmp_path)
    yield found
    found.close()


@pytest.fixture
def kept(tmp_path: Any) -> Iterator[fx.Cloud]:
    """Shelved guests stay on their host (``shelved_offload_time`` -1)."""
    found = _cloud(tmp_path, shelved_offload_time=-1)
    yield found
    found.close()


def _node(cloud: fx.Cloud, host: str = "node-1") -> node_manager.ComputeManager:
    manager = cloud.add_node(host, vcpus=8, memory_mb=4096, local_gb=100)
    manager.init_host()
    return manager


def _build(cloud: fx.Cloud, node: node_manager.ComputeManager) -> dict[str, Any]:
    inst = cloud.conductor.new_instance(node.host)
    ctxt = fx.ctxt()
    cloud.conductor.start_action(inst["uuid"], "create", ctxt.request_id)
    node.build_and_run_instance(ctxt, inst["uuid"], {}, LIMITS, node.host)
    return cloud.conductor.instance_get(ctxt, inst["uuid"])


def _start(cloud: fx.Cloud, uuid: str, action: str, task_state: str) -> Any:
    """What the API does before its cast: the task state and the action record."""
    ctxt = fx.ctxt()
    cloud.conductor.instance_update(ctxt, uuid, {"task_state": task_state})
    cloud.conductor.start_action(uuid, action, ctxt.request_id)
    return ctxt


def _events(cloud: fx.Cloud, uuid: str, ctxt: Any) -> list[tuple[str, str]]:
    action = cloud.conductor.store.get_action(uuid, ctxt.request_id)
    return [(e["event"], e["result"]) for e in action["events"]]


def _shelve(cloud: fx.Cloud, node: node_manager.ComputeManager, got: dict[str, Any],
            image_id: str | None = SHELVED_IMAGE) -> Any:
    ctxt = _start(cloud, got["uuid"], "shelve", states.SHELVING)
    node.shelve_instance(ctxt, got["uuid"], image_id)
    return ctxt


def test_shelve_offloads_at_once_by_default(cloud: fx.Cloud) -> None:
    node = _node(cloud)
    got = _build(cloud, node)
    port = got["network_info"][0]["id"]
    ctxt = _shelve(cloud, node, got)
    row = cloud.conductor.instance_get(ctxt, got["uuid"])
    assert (row["vm_state"], row["task_state"]) == (states.SHELVED_OFFLOADED, None)
    assert row["host"] is None and row["node"] is None
    assert row["power_state"] == int(power_state.SHUTDOWN)
    assert row["system_metadata"]["shelved_image_id"] == SHELVED_IMAGE
    assert row["system_metadata"]["shelved_host"] == "node-1"
    assert SHELVED_IMAGE in cloud.neighbours.uploads
    assert got["uuid"] not in node.driver.list_instance_uuids()
    assert cloud.neighbours.bindings[port] == ""
    assert cloud.neighbours.ports_of(got["uuid"]) == [port]  # kept, unbound
    assert got["uuid"] not in node.node.tracker.claims()
    assert _events(cloud, got["uuid"], ctxt) == [
        ("compute_shelve_instance", "Success"),
        ("compute_shelve_offload_instance", "Success")]


def test_shelve_keeps_the_guest_then_unshelve_powers_it_on(kept: fx.Cloud) -> None:
    node = _node(kept)
    got = _build(kept, node)
    ctxt = _shelve(kept, node, got)
    row = kept.conductor.instance_get(ctxt, got["uuid"])
    assert (row["vm_state"], row["task_state"], row["host"]) == (states.SHELVED, None,
                                                                 "node-1")
    assert node.driver.get_info(fx_guest(row)).state == power_state.SHUTDOWN
    assert got["uuid"] in node.node.tracker.claims()
    ctxt = _start(kept, got["uuid"], "unshelve", states.UNSHELVING)
    node.unshelve_instance(ctxt, got["uuid"])
    row = kept.conductor.instance_get(ctxt, got["uuid"])
    assert (row["vm_state"], row["task_state"]) == (states.ACTIVE, None)
    assert row["power_state"] == int(power_state.RUNNING)
    assert "shelved_image_id" not in row["system_metadata"]
    assert kept.neighbours.deleted_images == [SHELVED_IMAGE]
    assert _events(kept, got["uuid"], ctxt) == [("compute_unshelve_instance", "Success")]


def fx_guest(row: dict[str, Any]) -> Any:
    from compute.node import base
    return base.driver_instance(row)


def test_shelve_offload_on_request(kept: fx.Cloud) -> None:
    node = _node(kept)
    got = _build(kept, node)
    _shelve(kept, node, got)
    ctxt = _start(kept, got["uuid"], "shelveOffload", states.SHELVING_OFFLOADING)
    node.shelve_offload_instance(ctxt, got["uuid"])
    row = kept.conductor.instance_get(ctxt, got["uuid"])
    assert (row["vm_state"], row["host"]) == (states.SHELVED_OFFLOADED, None)
    assert _events(kept, got["uuid"], ctxt) == [("compute_shelve_offload_instance",
                                                 "Success")]


def test_unshelve_offloaded_spawns_from_the_shelved_image(cloud: fx.Cloud) -> None:
    node = _node(cloud)
    other = _node(cloud, "node-2")
    got = _build(cloud, node)
    port = got["network_info"][0]["id"]
    _shelve(cloud, node, got)
    cloud.neighbours.images[SHELVED_IMAGE] = dict(
        cloud.neighbours.images[fx.IMAGE_ID], id=SHELVED_IMAGE, name="vm-shelved")
    ctxt = _start(cloud, got["uuid"], "unshelve", states.UNSHELVING)
    # The scheduler chose node-2 (and recorded it).
    cloud.conductor.instance_update(ctxt, got["uuid"], {"host": "node-2", "node": "node-2"})
    other.unshelve_instance(ctxt, got["uuid"], "node-2", LIMITS)
    row = cloud.conductor.instance_get(ctxt, got["uuid"])
    assert (row["vm_state"], row["task_state"]) == (states.ACTIVE, None)
    assert (row["host"], row["node"]) == ("node-2", "node-2")
    assert row["image_ref"] == fx.IMAGE_ID
    assert "shelved_image_id" not in row["system_metadata"]
    assert got["uuid"] in other.driver.list_instance_uuids()
    assert other.driver._guest(got["uuid"]).image_meta.id == SHELVED_IMAGE
    assert cloud.neighbours.bindings[port] == "node-2"
    assert got["uuid"] in other.node.tracker.claims()
    assert cloud.neighbours.deleted_images == [SHELVED_IMAGE]


def test_failed_unshelve_stays_offloaded(cloud: fx.Cloud) -> None:
    node = _node(cloud)
    got = _build(cloud, node)
    _shelve(cloud, node, got)  # the shelved image is unknown to get_image
    ctxt = _start(cloud, got["uuid"], "unshelve", states.UNSHELVING)
    cloud.conductor.instance_update(ctxt, got["uuid"], {"host": "node-1", "node": "node-1"})
    node.unshelve_instance(ctxt, got["uuid"], "node-1", LIMITS)
    row = cloud.conductor.instance_get(ctxt, got["uuid"])
    assert (row["vm_state"], row["task_state"]) == (states.SHELVED_OFFLOADED, None)
    assert row["host"] is None
    assert got["uuid"] not in node.node.tracker.claims()
    assert got["uuid"] not in node.driver.list_instance_uuids()
    assert cloud.conductor.faults(got["uuid"]) is not None
    assert _events(cloud, got["uuid"], ctxt) == [("compute_unshelve_instance", "Error")]


def test_failed_snapshot_keeps_the_state_and_drops_the_image(kept: fx.Cloud) -> None:
    node = _node(kept)
    got = _build(kept, node)
    kept.neighbours.upload_error = RuntimeError("image service down")
    ctxt = _shelve(kept, node, got)
    row = kept.conductor.instance_get(ctxt, got["uuid"])
    assert (row["vm_state"], row["task_state"]) == (states.ACTIVE, None)
    assert kept.neighbours.deleted_images == [SHELVED_IMAGE]
    assert kept.conductor.faults(got["uuid"]) is not None


def test_volume_backed_shelve_makes_no_snapshot(cloud: fx.Cloud) -> None:
    node = _node(cloud)
    got = _build(cloud, node)
    ctxt = _shelve(cloud, node, got, image_id=None)
    row = cloud.conductor.instance_get(ctxt, got["uuid"])
    assert row["vm_state"] == states.SHELVED_OFFLOADED
    assert cloud.neighbours.uploads == {}


def test_periodic_offload_of_old_shelved(tmp_path: Any) -> None:
    cloud = _cloud(tmp_path, shelved_offload_time=60)
    try:
        node = _node(cloud)
        old, new = _build(cloud, node), _build(cloud, node)
        for got in (old, new):
            _shelve(cloud, node, got)
        ctxt = fx.ctxt()
        row = cloud.conductor.instance_get(ctxt, old["uuid"])
        long_ago = (datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
                    - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%f")
        cloud.conductor.instance_update(ctxt, old["uuid"], {"system_metadata": dict(
            row["system_metadata"], shelved_at=long_ago)})
        assert shelve.offload_old_shelved(node.node, ctxt) == [old["uuid"]]
        assert cloud.conductor.instance_get(ctxt, old["uuid"])["vm_state"] == \
            states.SHELVED_OFFLOADED
        assert cloud.conductor.instance_get(ctxt, new["uuid"])["vm_state"] == states.SHELVED
    finally:
        cloud.close()


def test_driver_diagnostics(cloud: fx.Cloud) -> None:
    node = _node(cloud)
    got = _build(cloud, node)
    diag = node.get_diagnostics(fx.ctxt(), got["uuid"], standard=False)
    assert diag["state"] == "running" and diag["memory"] == 128 * 1024
    assert diag["cpu0_time"] > 0 and diag["vda_read"] >= 0
    assert any(k.startswith("tap") and k.endswith("_rx") for k in diag)
    assert node.get_diagnostics(fx.ctxt(), got["uuid"])["num_cpus"] == 1
