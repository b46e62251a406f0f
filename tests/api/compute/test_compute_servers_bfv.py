"""POST /servers with volumes the node creates (block_device_mapping_v2 source
image/blank/snapshot, destination volume): Nova's validation and messages,
what is written (no volume yet, no attachment), the image metadata a
volume-backed server boots with, and the volumes released when the API
deletes a server itself."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from compute_api_helpers import Api, message, project

from compute import states
from compute.db import models
from tests.fixtures import compute as fx

SERVICE_CONF = {"quota": {"instances": 20, "cores": 40}}


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, service: Any, api: Api) -> fx.Servers:
    return fx.Servers(api, service, fx.install_fakes(monkeypatch))


def _image_volume(image_id: str, **extra: Any) -> dict[str, Any]:
    bdm = {"source_type": "image", "destination_type": "volume", "uuid": image_id,
           "boot_index": 0, "volume_size": 1}
    bdm.update(extra)
    return bdm


def _bdms(fakes: fx.Servers, instance_uuid: str) -> list[Any]:
    bdm = models.BlockDeviceMapping
    with fakes.db.reader() as session:
        return list(session.scalars(sa.select(bdm).where(bdm.instance_uuid == instance_uuid)
                                    .order_by(bdm.id)))


def test_boot_from_image_into_a_new_volume(fakes: fx.Servers) -> None:
    kernel, ramdisk = str(uuid.uuid4()), str(uuid.uuid4())
    image = fakes.boundary.add_image(disk_format="ami", container_format="ami",
                                     kernel_id=kernel, ramdisk_id=ramdisk,
                                     os_command_line="console=ttyS0")
    blank = {"source_type": "blank", "destination_type": "volume", "volume_size": 2,
             "delete_on_termination": True}
    resp = fakes.create(project(), imageRef="", block_device_mapping_v2=[
        _image_volume(image["id"], delete_on_termination=True), blank])
    instance = fakes.store.get(resp.json["server"]["id"])
    assert instance["image_ref"] == ""
    sysmeta = instance["system_metadata"]
    assert (sysmeta["image_kernel_id"], sysmeta["image_ramdisk_id"]) == (kernel, ramdisk)
    assert sysmeta["image_os_command_line"] == "console=ttyS0"
    rows = _bdms(fakes, instance["uuid"])
    assert [(r.source_type, r.destination_type, r.image_id, r.volume_id, r.volume_size,
             r.boot_index, r.delete_on_termination, r.attachment_id) for r in rows] == [
        ("image", "volume", image["id"], None, 1, 0, True, None),
        ("blank", "volume", None, None, 2, None, True, None)]
    assert fakes.boundary.attachments == []
    (cast,) = fakes.boundary.casts("build_instances")
    assert [m["source_type"] for m in cast["request_spec"]["block_device_mapping"]] == [
        "image", "blank"]
    shown = fakes.call("GET", "/servers/" + instance["uuid"], None, admin=True,
                       version="2.3").json["server"]
    assert shown["image"] == ""
    assert shown["os-extended-volumes:volumes_attached"] == []


def test_several_servers_may_each_get_a_volume_from_one_image(fakes: fx.Servers) -> None:
    resp = fakes.create(project(), imageRef=None, min_count=2, max_count=2,
                        block_device_mapping_v2=[_image_volume(fakes.image["id"])])
    assert resp.status_int == 202
    (cast,) = fakes.boundary.casts("build_instances")
    assert len(cast["instance_uuids"]) == 2


@pytest.mark.parametrize("bdm,text", [
    ({"source_type": "image", "destination_type": "volume", "boot_index": 0},
     "Images with destination_type 'volume' need to have a non-zero size specified"),
    ({"source_type": "image", "destination_type": "volume", "boot_index": 0,
      "volume_size": 0},
     "Images with destination_type 'volume' need to have a non-zero size specified"),
    ({"source_type": "blank", "destination_type": "volume"},
     "Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size"),
    ({"source_type": "blank", "destination_type": "volume", "volume_size": 1,
      "uuid": "0b0b0b0b-0000-0000-0000-000000000000"},
     "Block Device Mapping is Invalid: Invalid device UUID."),
    ({"source_type": "snapshot", "destination_type": "volume", "boot_index": 0},
     "Block Device Mapping is Invalid: Missing device UUID."),
])
def test_bad_mappings(fakes: fx.Servers, bdm: dict[str, Any], text: str) -> None:
    if bdm["source_type"] == "image":
        bdm["uuid"] = fakes.image["id"]
    resp = fakes.create(project(), imageRef=None, block_device_mapping_v2=[bdm], status=400)
    assert message(resp) == text
    assert not fakes.boundary.casts("build_instances")


def test_the_sources_must_exist(fakes: fx.Servers) -> None:
    p = project()
    missing = str(uuid.uuid4())
    resp = fakes.create(p, imageRef=None, block_device_mapping_v2=[_image_volume(missing)],
                        status=400)
    assert message(resp) == "Block Device Mapping is Invalid: failed to get image %s." % missing
    queued = fakes.boundary.add_image(status="queued")
    resp = fakes.create(p, imageRef=None, block_device_mapping_v2=[
        _image_volume(queued["id"])], status=400)
    assert message(resp) == "Image %s is not active." % queued["id"]
    snapshot = {"source_type": "snapshot", "destination_type": "volume", "uuid": missing,
                "boot_index": 0}
    resp = fakes.create(p, imageRef=None, block_device_mapping_v2=[snapshot], status=400)
    assert message(resp) == ("Block Device Mapping is Invalid: failed to get snapshot %s."
                             % missing)
    fakes.boundary.snapshots[missing] = {"id": missing, "status": "available", "size": 1}
    fakes.create(p, imageRef=None, block_device_mapping_v2=[snapshot])
    assert not fakes.boundary.attachments


def test_the_image_must_fit_the_flavor_and_the_volume(fakes: fx.Servers) -> None:
    p = project()
    big = fakes.boundary.add_image(min_disk=3)
    resp = fakes.create(p, imageRef=None, block_device_mapping_v2=[
        _image_volume(big["id"], volume_size=2)], status=400)
    assert message(resp) == (
        "Volume is smaller than the minimum size specified in image metadata. Volume size "
        "is %d bytes, minimum size is %d bytes." % (2 * 1024 ** 3, 3 * 1024 ** 3))
    fakes.create(p, imageRef=None, block_device_mapping_v2=[
        _image_volume(big["id"], volume_size=3)])
    hungry = fakes.boundary.add_image(min_ram=4096)
    resp = fakes.create(p, imageRef=None, block_device_mapping_v2=[
        _image_volume(hungry["id"])], status=400)
    assert message(resp) == "Flavor's memory is too small for requested image."


def test_boot_from_an_existing_volume_uses_its_image_metadata(fakes: fx.Servers) -> None:
    volume = str(uuid.uuid4())
    kernel = str(uuid.uuid4())
    fakes.boundary.volumes[volume] = {
        "id": volume, "status": "available",
        "volume_image_metadata": {"image_id": fakes.image["id"], "image_name": "cirros",
                                  "kernel_id": kernel, "min_ram": "0", "min_disk": "1"}}
    resp = fakes.create(project(), imageRef=None, block_device_mapping_v2=[{
        "source_type": "volume", "destination_type": "volume", "uuid": volume,
        "boot_index": 0}])
    instance = fakes.store.get(resp.json["server"]["id"])
    assert instance["image_ref"] == ""
    assert instance["system_metadata"]["image_kernel_id"] == kernel
    assert instance["system_metadata"]["image_base_image_ref"] == fakes.image["id"]


def test_a_server_deleted_by_the_api_releases_its_volumes(fakes: fx.Servers) -> None:
    p = project()
    keep, drop = str(uuid.uuid4()), str(uuid.uuid4())
    for volume in (keep, drop):
        fakes.boundary.volumes[volume] = {"id": volume, "status": "available"}
    resp = fakes.create(p, imageRef=None, block_device_mapping_v2=[
        {"source_type": "volume", "destination_type": "volume", "uuid": drop,
         "boot_index": 0, "delete_on_termination": True},
        {"source_type": "volume", "destination_type": "volume", "uuid": keep,
         "boot_index": 1},
        {"source_type": "blank", "destination_type": "volume", "volume_size": 1,
         "delete_on_termination": True}])
    server_id = resp.json["server"]["id"]
    assert len(fakes.boundary.attachments) == 2
    # Never scheduled (no host): the API deletes it, and releases what it holds.
    fakes.set(server_id, vm_state=states.ERROR, task_state=None)
    fakes.call("DELETE", "/servers/" + server_id, p, status=204)
    assert fakes.boundary.attachments == []
    assert fakes.boundary.deleted_volumes == [drop]
