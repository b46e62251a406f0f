"""The volumes panel: table (one call per kind), refreshing rows, actions per
status, the forms' validation and the exact API calls, and 404 for another
project's volume."""
from __future__ import annotations

import re
from typing import Any
from unittest import mock

from openstack.block_storage.v3.availability_zone import AvailabilityZone
from openstack.block_storage.v3.snapshot import Snapshot
from openstack.block_storage.v3.type import Type
from openstack.block_storage.v3.volume import Volume
from openstack.compute.v2.server import Server
from openstack.image.v2.image import Image

from tests.unit.dashboard.conftest import OTHER_PROJECT_ID, PROJECT_ID, http_error

GIB = 1024 ** 3
ACTION_LABELS = ("Edit", "Extend", "Attach", "Detach", "Create Snapshot", "Create Backup",
                 "Upload to Image", "Launch as Instance", "Delete")


def volume(volume_id: str = "vol-1", **attrs: Any) -> Volume:
    body = {"id": volume_id, "name": volume_id, "size": 1, "status": "available",
            "project_id": PROJECT_ID, "volume_type": "lvm", "availability_zone": "nova",
            "is_bootable": False, "is_encrypted": False, "is_multiattach": False,
            "attachments": []}
    body.update(attrs)
    return Volume(**body)


def _row(body: str, row_id: str) -> str:
    match = re.search(r'<tr id="row-%s".*?</tr>' % re.escape(row_id), body, re.S)
    assert match, "no row %s" % row_id
    return match.group(0)


def _actions(html: str) -> set[str]:
    return {label for label in ACTION_LABELS if ">%s<" % label in html}


def _create_form(conn: mock.MagicMock) -> None:
    conn.image.images.return_value = [
        Image(id="img-1", name="cirros", status="active", visibility="public",
              owner=OTHER_PROJECT_ID, min_disk=3, size=GIB // 2),
        Image(id="img-q", name="queued", status="queued", visibility="public")]
    conn.block_storage.snapshots.return_value = [
        Snapshot(id="snap-1", name="s1", size=4, status="available", volume_id="vol-1"),
        Snapshot(id="snap-e", name="bad", size=1, status="error")]
    conn.block_storage.volumes.return_value = [volume("vol-1", size=2)]
    conn.block_storage.types.return_value = [Type(id="t1", name="lvm")]
    conn.block_storage.availability_zones.return_value = [
        AvailabilityZone(name="nova", state={"available": True}),
        AvailabilityZone(name="down", state={"available": False})]


def test_dash_volumes_table_one_call_per_kind(client: Any, conn: mock.MagicMock) -> None:
    conn.block_storage.volumes.return_value = [
        volume("vol-a", name="data", description="my data", size=10, is_bootable=True),
        volume("vol-b", status="in-use",
               attachments=[{"server_id": "srv-1", "device": "/dev/vdb"}]),
        volume("vol-c", status="creating"),
        volume("vol-d", status="error")]
    conn.compute.servers.return_value = [Server(id="srv-1", name="web")]
    resp = client.get("/project/volumes/")
    assert resp.status_code == 200
    conn.block_storage.volumes.assert_called_once_with()
    conn.compute.servers.assert_called_once_with(details=False)
    body = resp.content.decode()
    assert 'id="volumes"' in body and 'href="/project/volumes/create/"' in body
    a = _row(body, "vol-a")
    assert "my data" in a and "10 GiB" in a and "lvm" in a and "nova" in a
    assert _actions(a) == {"Edit", "Extend", "Attach", "Create Snapshot", "Create Backup",
                           "Upload to Image", "Launch as Instance", "Delete"}
    assert 'href="/project/instances/launch/?volume=vol-a"' in a
    b = _row(body, "vol-b")
    assert "web on /dev/vdb" in b
    assert _actions(b) == {"Edit", "Extend", "Detach", "Create Snapshot", "Create Backup",
                           "Upload to Image"}
    c = _row(body, "vol-c")
    assert 'data-refresh="/project/volumes/vol-c/row/"' in c and _actions(c) == {"Edit"}
    assert "data-refresh" not in a
    assert _actions(_row(body, "vol-d")) == {"Edit", "Delete"}


def test_dash_volumes_no_server_call_when_nothing_is_attached(client: Any,
                                                              conn: mock.MagicMock) -> None:
    conn.block_storage.volumes.return_value = [volume("vol-a")]
    assert client.get("/project/volumes/").status_code == 200
    conn.compute.servers.assert_not_called()


def test_dash_volumes_row_refresh(client: Any, conn: mock.MagicMock) -> None:
    conn.block_storage.get_volume.return_value = volume("vol-1", status="extending")
    body = client.get("/project/volumes/vol-1/row/").content.decode()
    assert body.strip().startswith('<tr id="row-vol-1"') and "extending" in body
    assert "data-refresh" in body
    conn.block_storage.get_volume.return_value = volume("vol-1", status="available", size=2)
    body = client.get("/project/volumes/vol-1/row/").content.decode()
    assert "data-refresh" not in body and "2 GiB" in body


def test_dash_volumes_another_projects_volume_is_404(client: Any, admin_client: Any,
                                                     conn: mock.MagicMock) -> None:
    conn.block_storage.get_volume.side_effect = http_error(404, "Volume vol-x not found")
    assert client.get("/project/volumes/vol-x/").status_code == 404
    conn.block_storage.get_volume.side_effect = None
    conn.block_storage.get_volume.return_value = volume("vol-x", project_id=OTHER_PROJECT_ID)
    for path in ("", "row/", "edit/", "extend/", "attach/", "snapshot/", "backup/", "upload/"):
        assert admin_client.get("/project/volumes/vol-x/" + path).status_code == 404, path
    for path in ("delete/", "detach/"):
        assert admin_client.post("/project/volumes/vol-x/" + path).status_code == 404
    conn.block_storage.delete_volume.assert_not_called()


def test_dash_volumes_detail(client: Any, conn: mock.MagicMock) -> None:
    conn.block_storage.get_volume.return_value = volume(
        "vol-1", status="in-use", metadata={"k": "v"},
        attachments=[{"server_id": "srv-1", "device": "/dev/vdb"}])
    conn.compute.servers.return_value = [Server(id="srv-1", name="web")]
    conn.block_storage.snapshots.return_value = [Snapshot(id="snap-1", name="nightly", size=1,
                                                          status="available")]
    body = client.get("/project/volumes/vol-1/").content.decode()
    assert "web" in body and "/dev/vdb" in body and "nightly" in body and ">k<" in body
    conn.block_storage.snapshots.assert_called_once_with(volume_id="vol-1")


def test_dash_volumes_create_prefill_and_validation(client: Any, conn: mock.MagicMock) -> None:
    _create_form(conn)
    body = client.get("/project/volumes/create/?image=img-1").content.decode()
    assert '<option value="image" selected>' in body
    assert '<option value="img-1" selected>' in body and 'value="3"' in body
    assert "img-q" not in body and "snap-e" not in body
    assert '<option value="nova">' in body and '"down"' not in body
    body = client.get("/project/volumes/create/?snapshot=snap-1").content.decode()
    assert '<option value="snap-1" selected>' in body and 'value="4"' in body
    cases = [({"source": "image", "image": "img-1", "size": "2"}, "at least 3 GiB"),
             ({"source": "snapshot", "snapshot": "snap-1", "size": "3"}, "at least 4 GiB"),
             ({"source": "volume", "volume": "vol-1", "size": "1"}, "at least 2 GiB"),
             ({"source": "image", "size": "5"}, "Choose the image"),
             ({"source": "snapshot", "snapshot": "snap-e", "size": "5"}, "valid choice"),
             ({"size": "0"}, "greater than or equal to 1")]
    for data, error in cases:
        resp = client.post("/project/volumes/create/", data)
        assert resp.status_code == 400 and error in resp.content.decode(), error
    conn.block_storage.create_volume.assert_not_called()


def test_dash_volumes_create_calls(client: Any, conn: mock.MagicMock) -> None:
    _create_form(conn)
    conn.block_storage.create_volume.return_value = volume("new", name="v")
    resp = client.post("/project/volumes/create/", {
        "name": "v", "description": "d", "source": "image", "image": "img-1", "size": "3",
        "volume_type": "lvm", "availability_zone": "nova"})
    assert resp.status_code == 302 and resp["Location"] == "/project/volumes/"
    conn.block_storage.create_volume.assert_called_with(
        name="v", description="d", size=3, volume_type="lvm", availability_zone="nova",
        image_id="img-1")
    client.post("/project/volumes/create/", {"name": "v", "source": "snapshot",
                                             "snapshot": "snap-1", "size": "4"})
    conn.block_storage.create_volume.assert_called_with(
        name="v", description=None, size=4, snapshot_id="snap-1")
    client.post("/project/volumes/create/", {"source": "volume", "volume": "vol-1",
                                             "size": "2"})
    conn.block_storage.create_volume.assert_called_with(
        name=None, description=None, size=2, source_volume_id="vol-1")
    client.post("/project/volumes/create/", {"name": "empty", "source": "", "size": "1"})
    conn.block_storage.create_volume.assert_called_with(name="empty", description=None,
                                                        size=1)
    conn.block_storage.create_volume.side_effect = http_error(413, "VolumeSizeExceedsLimit")
    resp = client.post("/project/volumes/create/", {"name": "big", "source": "", "size": "9"})
    assert resp.status_code == 400 and "VolumeSizeExceedsLimit (HTTP 413)" in \
        resp.content.decode()


def test_dash_volumes_extend(client: Any, conn: mock.MagicMock) -> None:
    vol = volume("vol-1", size=2)
    conn.block_storage.get_volume.return_value = vol
    resp = client.post("/project/volumes/vol-1/extend/", {"new_size": "2"})
    assert resp.status_code == 400 and "more than the current 2 GiB" in resp.content.decode()
    conn.block_storage.extend_volume.assert_not_called()
    assert client.post("/project/volumes/vol-1/extend/", {"new_size": "5"}).status_code == 302
    conn.block_storage.extend_volume.assert_called_once_with(vol, 5)


def test_dash_volumes_attach_and_detach(client: Any, conn: mock.MagicMock) -> None:
    conn.block_storage.get_volume.return_value = volume("vol-1")
    conn.compute.servers.return_value = [Server(id="srv-1", name="web", status="ACTIVE"),
                                         Server(id="srv-2", name="broken", status="ERROR")]
    body = client.get("/project/volumes/vol-1/attach/").content.decode()
    assert "web (ACTIVE)" in body and "srv-2" not in body
    assert client.post("/project/volumes/vol-1/attach/", {"server": "srv-2"}).status_code == 400
    resp = client.post("/project/volumes/vol-1/attach/", {"server": "srv-1"})
    assert resp.status_code == 302
    conn.compute.create_volume_attachment.assert_called_once_with("srv-1", volume="vol-1")
    conn.block_storage.get_volume.return_value = volume(
        "vol-1", status="in-use", attachments=[{"server_id": "srv-1", "device": "/dev/vdb"}])
    assert client.post("/project/volumes/vol-1/detach/").status_code == 302
    conn.compute.delete_volume_attachment.assert_called_once_with("srv-1", "vol-1",
                                                                  ignore_missing=False)


def test_dash_volumes_snapshot_backup_upload(client: Any, conn: mock.MagicMock) -> None:
    conn.block_storage.get_volume.return_value = volume("vol-1", status="in-use")
    assert client.post("/project/volumes/vol-1/snapshot/", {"name": ""}).status_code == 400
    resp = client.post("/project/volumes/vol-1/snapshot/", {"name": "s", "description": ""})
    assert resp.status_code == 302 and resp["Location"] == "/project/snapshots/"
    conn.block_storage.create_snapshot.assert_called_once_with(
        volume_id="vol-1", name="s", description=None, is_forced=True)
    resp = client.post("/project/volumes/vol-1/backup/", {"name": "b", "description": "d",
                                                          "container": "a/b"})
    assert resp.status_code == 400 and "no &#x27;/&#x27;" in resp.content.decode()
    resp = client.post("/project/volumes/vol-1/backup/", {"name": "b", "description": "d",
                                                          "container": "mine"})
    assert resp.status_code == 302 and resp["Location"] == "/project/backups/"
    conn.block_storage.create_backup.assert_called_once_with(
        volume_id="vol-1", name="b", description="d", is_incremental=False, force=True,
        container="mine")
    resp = client.post("/project/volumes/vol-1/upload/", {"image_name": "img",
                                                          "disk_format": "qcow2"})
    assert resp.status_code == 302
    conn.block_storage.upload_volume_to_image.assert_called_once_with(
        conn.block_storage.get_volume.return_value, "img", force=True, disk_format="qcow2",
        container_format="bare")


def test_dash_volumes_edit(client: Any, conn: mock.MagicMock) -> None:
    vol = volume("vol-1", name="old", description="")
    conn.block_storage.get_volume.return_value = vol
    resp = client.post("/project/volumes/vol-1/edit/", {"name": "new", "description": "x",
                                                        "bootable": "on"})
    assert resp.status_code == 302
    conn.block_storage.update_volume.assert_called_once_with(vol, name="new", description="x")
    conn.block_storage.set_volume_bootable_status.assert_called_once_with(vol, True)


def test_dash_volumes_delete_shows_the_refusal(client: Any, conn: mock.MagicMock) -> None:
    conn.block_storage.get_volume.return_value = volume("vol-1")
    conn.block_storage.volumes.return_value = []
    conn.block_storage.delete_volume.side_effect = http_error(
        400, "Volume vol-1 still has 1 dependent snapshots.")
    body = client.post("/project/volumes/vol-1/delete/", follow=True).content.decode()
    assert "still has 1 dependent snapshots. (HTTP 400)" in body
    conn.block_storage.delete_volume.assert_called_once_with(
        conn.block_storage.get_volume.return_value, ignore_missing=False)
