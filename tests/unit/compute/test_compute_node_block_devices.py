"""Volumes made during a build (compute/node/block_devices.py): boot from an
image into a new volume, blank and snapshot volumes, the wait for
``available`` (error status, timeout), block storage's refusals, device names,
what a failed build gives back (reschedule, abort) and delete_on_termination
at delete; the real ComputeManager with the fake driver, a fake conductor and
fake block storage (tests/fixtures/compute_node.py)."""
from __future__ import annotations

import uuid
from typing import Any, Iterator

import pytest

from compute import exception
from compute import states
from compute.node import manager as node_manager
from compute.virt import exception as virt_exception
from compute.virt import fake
from tests.fixtures import compute_node as fx

LIMITS = {"vcpu": 64.0, "memory_mb": 65536.0, "disk_gb": 1000.0}
RETRY = {"retry": {"num_attempts": 1, "max_attempts": 3, "hosts": [["node-1", "node-1"]],
                   "alternates": [{"host": "node-2", "node": "node-2", "limits": {}}]}}
KERNEL, RAMDISK = "kernel-1", "ramdisk-1"


@pytest.fixture
def cloud(tmp_path: Any) -> Iterator[fx.Cloud]:
    found = fx.Cloud(str(tmp_path))
    found.conf.set_override("block_device_allocate_retries_interval", 0)
    yield found
    found.close()


def _bdm(instance_uuid: str, source: str, boot_index: int | None = 0,
         **values: Any) -> dict[str, Any]:
    bdm = {"uuid": str(uuid.uuid4()), "instance_uuid": instance_uuid, "source_type": source,
           "destination_type": "volume", "boot_index": boot_index, "volume_id": None,
           "image_id": fx.IMAGE_ID if source == "image" else None, "snapshot_id": None,
           "volume_size": 1, "volume_type": None, "device_name": None,
           "delete_on_termination": False, "attachment_id": None, "connection_info": None}
    bdm.update(values)
    return bdm


def _volume_backed(cloud: fx.Cloud, node: node_manager.ComputeManager, *extra: dict[str, Any],
                   spec: dict[str, Any] | None = None,
                   **root: Any) -> tuple[dict[str, Any], Any]:
    """Build a server whose root is a new volume from the image (plus ``extra``)."""
    sysmeta = {"image_kernel_id": KERNEL, "image_ramdisk_id": RAMDISK,
               "image_os_command_line": "console=ttyS0", "image_disk_format": "ami"}
    inst = cloud.conductor.new_instance(node.host, image_ref="", system_metadata=sysmeta)
    uuid_ = inst["uuid"]
    cloud.conductor.bdms[uuid_] = [_bdm(uuid_, "image", **root)] + [
        dict(e, instance_uuid=uuid_) for e in extra]
    ctxt = fx.ctxt()
    cloud.conductor.start_action(uuid_, "create", ctxt.request_id)
    request = dict(spec or {}, block_device_mapping=cloud.conductor.bdms[uuid_])
    node.build_and_run_instance(ctxt, uuid_, request, LIMITS, node.host)
    return cloud.conductor.instance_get(ctxt, uuid_), ctxt


def _fault(cloud: fx.Cloud, uuid_: str) -> str:
    fault = cloud.conductor.faults(uuid_)
    assert fault is not None
    return str(fault["message"])


def test_boot_from_an_image_into_a_new_volume(cloud: fx.Cloud,
                                              node: node_manager.ComputeManager) -> None:
    got, ctxt = _volume_backed(cloud, node, volume_size=2)
    assert (got["vm_state"], got["task_state"]) == (states.ACTIVE, None), _fault(
        cloud, got["uuid"])
    (volume,) = cloud.neighbours.volumes.values()
    assert (volume["size"], volume["image_id"], volume["name"]) == (2, fx.IMAGE_ID, "")
    assert volume["looks"] == 2  # creating, then available
    (bdm,) = cloud.conductor.bdms[got["uuid"]]
    assert bdm["volume_id"] == volume["id"] and bdm["device_name"] == "/dev/vda"
    assert bdm["attachment_id"] == "att-" + volume["id"]
    assert bdm["connection_info"]["driver_volume_type"] == "file"
    assert cloud.neighbours.volume_calls == [
        ("create", volume["id"]), ("reserve", volume["id"]),
        ("connect", bdm["attachment_id"]), ("complete", bdm["attachment_id"])]
    # The guest boots from the volume, with the image's kernel and ramdisk.
    assert isinstance(node.driver, fake.FakeDriver)
    assert node.driver.list_instance_uuids() == [got["uuid"]]
    guest = node.driver._guests[got["uuid"]]
    assert set(guest.volumes) == {"vda"}
    assert (guest.image_meta.id, guest.image_meta.kernel_id,
            guest.image_meta.ramdisk_id) == (None, KERNEL, RAMDISK)


def test_extra_blank_and_snapshot_volumes(cloud: fx.Cloud,
                                          node: node_manager.ComputeManager) -> None:
    got, _ = _volume_backed(cloud, node,
                            _bdm("", "blank", None, volume_size=3),
                            _bdm("", "snapshot", None, snapshot_id="snap-1", volume_size=None))
    assert got["vm_state"] == states.ACTIVE
    root, blank, snap = cloud.conductor.bdms[got["uuid"]]
    assert [b["device_name"] for b in (root, blank, snap)] == [
        "/dev/vda", "/dev/vdb", "/dev/vdc"]
    made = cloud.neighbours.volumes
    assert made[blank["volume_id"]]["name"] == got["uuid"] + "-blank-vol"
    assert (made[blank["volume_id"]]["size"], made[blank["volume_id"]]["image_id"]) == (3, None)
    assert (made[snap["volume_id"]]["snapshot_id"], made[snap["volume_id"]]["size"]) == (
        "snap-1", None)
    assert set(node.driver._guests[got["uuid"]].volumes) == {  # type: ignore[attr-defined]
        "vda", "vdb", "vdc"}


def test_a_volume_in_error_fails_the_build_naming_it(
        cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    cloud.neighbours.volume_statuses = ["creating", "error"]
    got, ctxt = _volume_backed(cloud, node, spec=RETRY, delete_on_termination=True)
    assert (got["vm_state"], got["task_state"]) == (states.ERROR, None)
    assert cloud.conductor.reschedules == []
    (deleted,) = [v for op, v in cloud.neighbours.volume_calls if op == "delete"]
    message = _fault(cloud, got["uuid"])
    assert message.startswith("Build of instance %s aborted: Volume %s did not finish being "
                              "created" % (got["uuid"], deleted))
    assert message.endswith("or 2 attempts. And its status is error.")
    # Deleted with the failed build (delete_on_termination), forgotten by the mapping.
    assert cloud.conductor.bdms[got["uuid"]][0]["volume_id"] is None
    assert node.driver.list_instance_uuids() == []
    assert node.node.tracker.claims() == {}


def test_a_volume_never_ready_times_out(cloud: fx.Cloud,
                                        node: node_manager.ComputeManager) -> None:
    cloud.conf.set_override("block_device_allocate_retries", 2)
    cloud.neighbours.volume_statuses = ["creating"]
    got, _ = _volume_backed(cloud, node)
    assert got["vm_state"] == states.ERROR
    (volume,) = cloud.neighbours.volumes.values()
    assert volume["looks"] == 3
    assert "or 3 attempts. And its status is creating." in _fault(cloud, got["uuid"])
    # Not to delete with the server: kept (and still named by the mapping).
    assert cloud.conductor.bdms[got["uuid"]][0]["volume_id"] == volume["id"]
    assert ("delete", volume["id"]) not in cloud.neighbours.volume_calls


@pytest.mark.parametrize("error,text", [
    (exception.VolumeLimitExceeded(reason="VolumeLimitExceeded: Maximum number of volumes "
                                          "allowed (1) exceeded for quota 'volumes'."),
     "Volume resource quota exceeded: VolumeLimitExceeded: Maximum number of volumes"),
    (exception.InvalidVolume(reason="Image disk is larger than the volume"),
     "Invalid volume: Image disk is larger than the volume"),
    (exception.VolumeServiceUnavailable(reason="no block storage endpoint"),
     "The block storage service is unavailable: no block storage endpoint"),
])
def test_block_storage_refusal_is_the_fault(cloud: fx.Cloud, node: node_manager.ComputeManager,
                                            error: Exception, text: str) -> None:
    cloud.neighbours.volume_create_error = error
    got, ctxt = _volume_backed(cloud, node, spec=RETRY)
    assert got["vm_state"] == states.ERROR
    assert cloud.conductor.reschedules == [], "another host would be refused too"
    message = _fault(cloud, got["uuid"])
    assert message.startswith("Build of instance %s aborted: Failed to create block device "
                              "for instance: " % got["uuid"])
    assert text in message
    action = cloud.conductor.store.get_action(got["uuid"], ctxt.request_id)
    assert [(e["event"], e["result"]) for e in action["events"]] == [
        ("compute_build_and_run_instance", "Error")]


def test_a_rescheduled_build_lets_the_volumes_go_and_the_next_host_takes_them(
        cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    assert isinstance(node.driver, fake.FakeDriver)
    node.driver.fail_next("spawn", virt_exception.InstanceDeployFailure(reason="disk full"))
    existing = _bdm("", "volume", None, volume_id="vol-9", attachment_id="att-9",
                    device_name="/dev/vdb")
    got, _ = _volume_backed(cloud, node, existing, spec=RETRY)
    assert (got["vm_state"], got["task_state"]) == (states.BUILDING, states.SCHEDULING)
    root, extra = cloud.conductor.bdms[got["uuid"]]
    made = root["volume_id"]
    assert made and made in cloud.neighbours.volumes, "the volume is kept for the next host"
    assert (root["attachment_id"], root["connection_info"]) == (None, None)
    assert (extra["attachment_id"], extra["connection_info"]) == (None, None)
    assert ("disconnect", "att-9") in cloud.neighbours.volume_calls
    assert ("disconnect", "att-" + made) in cloud.neighbours.volume_calls
    # The next host reserves both again, making no new volume.
    other = cloud.add_node("node-2", vcpus=8, memory_mb=4096, local_gb=100)
    other.init_host()
    cloud.neighbours.volume_calls.clear()
    ctxt = fx.ctxt()
    other.build_and_run_instance(ctxt, got["uuid"], {}, LIMITS, "node-2")
    again = cloud.conductor.instance_get(ctxt, got["uuid"])
    assert (again["vm_state"], again["host"]) == (states.ACTIVE, "node-2")
    assert [op for op, _v in cloud.neighbours.volume_calls] == [
        "reserve", "connect", "reserve", "connect", "complete", "complete"]
    assert len(cloud.neighbours.volumes) == 1


def test_delete_honours_delete_on_termination(cloud: fx.Cloud,
                                              node: node_manager.ComputeManager) -> None:
    got, _ = _volume_backed(cloud, node, _bdm("", "blank", None, volume_size=1),
                            delete_on_termination=True)
    root, blank = cloud.conductor.bdms[got["uuid"]]
    cloud.neighbours.volume_calls.clear()
    node.terminate_instance(fx.ctxt(), got["uuid"])
    assert cloud.conductor.store.get(got["uuid"], read_deleted=True)["vm_state"] == \
        states.DELETED
    calls = cloud.neighbours.volume_calls
    assert sorted(calls[:2]) == sorted([("disconnect", root["attachment_id"]),
                                        ("disconnect", blank["attachment_id"])])
    assert calls[2:] == [("delete", root["volume_id"])]
    assert list(cloud.neighbours.volumes) == [blank["volume_id"]]


def test_a_volume_that_cannot_be_deleted_does_not_stop_the_delete(
        cloud: fx.Cloud, node: node_manager.ComputeManager,
        monkeypatch: pytest.MonkeyPatch) -> None:
    got, _ = _volume_backed(cloud, node, delete_on_termination=True)

    def refuse(ctxt: Any, volume_id: str) -> None:
        raise exception.InvalidVolume(reason="Volume status must be available")
    monkeypatch.setattr(cloud.neighbours, "volume_delete", refuse)
    node.terminate_instance(fx.ctxt(), got["uuid"])
    assert cloud.conductor.store.get(got["uuid"], read_deleted=True)["vm_state"] == \
        states.DELETED
