"""Boot from an image into a new volume, through the real clients, against
real compute daemons (fake driver) and a real block storage service (api,
scheduler, file volume daemon: tests/functional/compute/blockstorage_cloud.py).

One test, its steps in order (one cloud, no reordering by pytest-xdist):
``openstack server create --boot-from-volume`` (the volume is made from the
image, attached as the root disk, listed by os-volume_attachments, the server
shows no image; deleting the server detaches and keeps the volume), a raw
request with a blank extra volume and ``delete_on_termination`` (both volumes
go with the server), block storage's quota refusal and a volume that ends in
``error`` (the server goes to ERROR with a fault saying so).
"""
from __future__ import annotations

import json
import subprocess
import time
import uuid
from typing import Any, Iterator

import pytest

from tests.functional.compute.blockstorage_cloud import BlockStorageCloud
from tests.functional.compute.conftest import ComputeCloud
from tests.functional.conftest import IdentityCloud

DEMO = ("bfv", "bfv-pw", "bfv")
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def clouds(identity_cloud: IdentityCloud,
           tmp_path_factory: Any) -> Iterator[tuple[ComputeCloud, BlockStorageCloud]]:
    compute = ComputeCloud(str(tmp_path_factory.mktemp("compute-bfv")), identity_cloud,
                           extra_conf="[DEFAULT]\nblock_device_allocate_retries_interval = 1\n")
    try:
        storage = BlockStorageCloud(str(tmp_path_factory.mktemp("blockstorage")),
                                    identity_cloud)
    except BaseException:
        compute.stop()
        raise
    yield compute, storage
    compute.stop()
    storage.stop()


def _wait_server(compute: ComputeCloud, storage: BlockStorageCloud, api: Any, server_id: str,
                 status: str, timeout: float = 90.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    server: dict[str, Any] = {}
    while time.monotonic() < deadline:
        resp = api.get("/servers/%s" % server_id)
        if status == "DELETED" and resp.status_code == 404:
            return {}
        assert resp.status_code == 200, resp.text
        server = resp.json()["server"]
        if server["status"] == status and server.get("OS-EXT-STS:task_state") is None:
            return dict(server)
        if server["status"] == "ERROR" and status not in ("ERROR", "DELETED"):
            pytest.fail("server went to ERROR: %s\n%s\n%s" % (
                server.get("fault"), compute.logs(), storage.logs()))
        time.sleep(0.2)
    pytest.fail("server %s is %s (task %s), not %s\n%s\n%s" % (
        server_id, server.get("status"), server.get("OS-EXT-STS:task_state"), status,
        compute.logs(), storage.logs()))


def _wait_volume(volumes: Any, volume_id: str, statuses: tuple[str, ...],
                 timeout: float = 60.0) -> dict[str, Any]:
    """Until the volume has one of ``statuses`` (``deleted``: until 404)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        resp = volumes.get("/volumes/%s" % volume_id)
        if resp.status_code == 404 and "deleted" in statuses:
            return {}
        assert resp.status_code == 200, resp.text
        last = resp.json()["volume"]
        if last["status"] in statuses:
            return dict(last)
        time.sleep(0.2)
    pytest.fail("volume %s is %s, not %s" % (volume_id, (last or {}).get("status"), statuses))


def _volume_ids(api: Any, server_id: str) -> list[str]:
    resp = api.get("/servers/%s/os-volume_attachments" % server_id)
    assert resp.status_code == 200, resp.text
    return [a["volumeId"] for a in resp.json()["volumeAttachments"]]


def test_boot_from_volume(clouds: tuple[ComputeCloud, BlockStorageCloud],
                          tmp_path: Any) -> None:
    compute, storage = clouds
    project_id, _ = compute.user(DEMO[2], DEMO[0], DEMO[1])
    admin = compute.api(compute.session())
    resp = admin.post("/flavors", json={"flavor": {"name": "bfv.tiny", "ram": 64, "vcpus": 1,
                                                   "disk": 1}})
    assert resp.status_code == 200, resp.text
    flavor = resp.json()["flavor"]["id"]
    image_id = compute.upload_image("bfv-image", data=b"STRATUS BFV\n" + b"\0" * (MiB - 12))
    sess = compute.session(*DEMO)
    api = compute.api(sess)
    volumes = storage.api(sess)
    env = compute.env(*DEMO)

    # 1. The CLI: --boot-from-volume makes a 1 GiB volume from the image.
    out = compute.openstack("server", "create", "--image", image_id, "--flavor", "bfv.tiny",
                            "--boot-from-volume", "1", "--wait", "-f", "json", "bfv1",
                            env=env).stdout
    server = dict(json.loads(out))
    assert server["status"] == "ACTIVE", server
    shown = api.get("/servers/%s" % server["id"]).json()["server"]
    assert shown["image"] == ""
    (volume_id,) = _volume_ids(api, server["id"])
    attachments = api.get("/servers/%s/os-volume_attachments" % server["id"]).json()
    assert attachments["volumeAttachments"][0]["device"] == "/dev/vda"
    volume = _wait_volume(volumes, volume_id, ("in-use",))
    assert volume["size"] == 1 and volume["bootable"] == "true"
    assert volume["volume_image_metadata"]["image_id"] == image_id
    assert [a["server_id"] for a in volume["attachments"]] == [server["id"]]
    compute.openstack("server", "delete", "--wait", server["id"], env=env)
    # Not asked to go with the server: detached and kept.
    _wait_volume(volumes, volume_id, ("available",))
    assert volumes.delete("/volumes/%s" % volume_id).status_code == 202

    # 2. A blank extra volume; both go with the server.
    body = {"server": {
        "name": "bfv2", "imageRef": "", "flavorRef": flavor,
        "block_device_mapping_v2": [
            {"source_type": "image", "destination_type": "volume", "uuid": image_id,
             "boot_index": 0, "volume_size": 1, "delete_on_termination": True},
            {"source_type": "blank", "destination_type": "volume", "volume_size": 1,
             "delete_on_termination": True}]}}
    resp = api.post("/servers", json=body)
    assert resp.status_code == 202, resp.text
    server_id = resp.json()["server"]["id"]
    shown = _wait_server(compute, storage, api, server_id, "ACTIVE")
    made = _volume_ids(api, server_id)
    assert len(made) == 2
    assert sorted(v["id"] for v in shown["os-extended-volumes:volumes_attached"]) == \
        sorted(made)
    blank = _wait_volume(volumes, made[1], ("in-use",))
    assert blank["name"] == server_id + "-blank-vol"
    assert api.delete("/servers/%s" % server_id).status_code == 204
    _wait_server(compute, storage, api, server_id, "DELETED")
    for volume_id in made:
        _wait_volume(volumes, volume_id, ("deleted",))

    # 3. Over block storage's quota: ERROR, its message in the fault.
    storage_admin = storage.api(compute.session())
    resp = storage_admin.put("/os-quota-sets/%s" % project_id,
                             json={"quota_set": {"gigabytes": 1}})
    assert resp.status_code == 200, resp.text
    body["server"].update(name="bfv3", block_device_mapping_v2=[
        dict(body["server"]["block_device_mapping_v2"][0], volume_size=2)])
    resp = api.post("/servers", json=body)
    assert resp.status_code == 202, resp.text
    server_id = resp.json()["server"]["id"]
    fault = _wait_server(compute, storage, api, server_id, "ERROR")["fault"]
    assert fault["message"].startswith("Build of instance %s aborted: Failed to create block "
                                       "device for instance: Volume resource quota exceeded"
                                       % server_id), fault
    assert "gigabytes" in fault["message"], fault
    assert _volume_ids(api, server_id) == []
    assert api.delete("/servers/%s" % server_id).status_code == 204
    _wait_server(compute, storage, api, server_id, "DELETED")
    resp = storage_admin.put("/os-quota-sets/%s" % project_id,
                             json={"quota_set": {"gigabytes": 1000}})
    assert resp.status_code == 200, resp.text

    # 4. A volume that ends in error: an image (qcow2, 2 GiB virtual) larger than it.
    api_image = compute.image_api(compute.session())
    resp = api_image.post("/v2/images", json={"name": "too-big", "disk_format": "qcow2",
                                               "container_format": "bare",
                                               "visibility": "public"})
    assert resp.status_code == 201, resp.text
    bad_image = resp.json()["id"]
    qcow2 = str(tmp_path / "big.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", qcow2, "2G"], check=True)
    with open(qcow2, "rb") as handle:
        resp = api_image.put("/v2/images/%s/file" % bad_image, data=handle.read(),
                             headers={"Content-Type": "application/octet-stream"})
    assert resp.status_code == 204, resp.text
    body["server"].update(name="bfv4", block_device_mapping_v2=[
        dict(body["server"]["block_device_mapping_v2"][0], uuid=bad_image, volume_size=1,
             delete_on_termination=False)])
    resp = api.post("/servers", json=body)
    assert resp.status_code == 202, resp.text
    server_id = resp.json()["server"]["id"]
    fault = _wait_server(compute, storage, api, server_id, "ERROR")["fault"]
    (volume_id,) = _volume_ids(api, server_id)
    assert fault["message"] == (
        "Build of instance %s aborted: Volume %s did not finish being created even after we "
        "waited %s" % (server_id, volume_id, fault["message"].split("waited ", 1)[1])), fault
    assert fault["message"].endswith("And its status is error."), fault
    assert _wait_volume(volumes, volume_id, ("error",))["attachments"] == []
    assert api.delete("/servers/%s" % server_id).status_code == 204
    _wait_server(compute, storage, api, server_id, "DELETED")
    _wait_volume(volumes, volume_id, ("error",))  # not to delete with the server: kept
    # Nothing a client sent here answered a 5xx.
    assert uuid.UUID(server_id)
