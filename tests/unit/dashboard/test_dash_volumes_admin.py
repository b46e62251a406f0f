"""Volume snapshots, volume backups (restore) and the admin's All Volumes panel."""
from __future__ import annotations

import re
from typing import Any
from unittest import mock

from openstack.block_storage.v3.backup import Backup
from openstack.block_storage.v3.snapshot import Snapshot
from openstack.block_storage.v3.volume import Volume
from openstack.compute.v2.server import Server
from openstack.identity.v3.project import Project

from tests.unit.dashboard.conftest import OTHER_PROJECT_ID, PROJECT_ID, http_error


def _row(body: str, row_id: str) -> str:
    match = re.search(r'<tr id="row-%s".*?</tr>' % re.escape(row_id), body, re.S)
    assert match, "no row %s" % row_id
    return match.group(0)


def snapshot(snap_id: str = "snap-1", **attrs: Any) -> Snapshot:
    body = {"id": snap_id, "name": snap_id, "size": 2, "status": "available",
            "volume_id": "vol-1", "project_id": PROJECT_ID}
    body.update(attrs)
    return Snapshot(**body)


def backup(backup_id: str = "bak-1", **attrs: Any) -> Backup:
    body = {"id": backup_id, "name": backup_id, "size": 2, "status": "available",
            "volume_id": "vol-1", "container": "volumebackups",
            "created_at": "2026-12-06T09:00:00.000000"}
    body.update(attrs)
    return Backup(**body)


def test_dash_volumes_snapshots_table(client: Any, conn: mock.MagicMock) -> None:
    conn.block_storage.snapshots.return_value = [snapshot("snap-1"),
                                                 snapshot("snap-2", status="creating")]
    conn.block_storage.volumes.return_value = [Volume(id="vol-1", name="data")]
    body = client.get("/project/snapshots/").content.decode()
    conn.block_storage.snapshots.assert_called_once_with()
    conn.block_storage.volumes.assert_called_once_with()
    one = _row(body, "snap-1")
    assert 'href="/project/volumes/vol-1/"' in one and "data" in one
    assert 'href="/project/volumes/create/?snapshot=snap-1"' in one
    assert ">Edit<" in one and ">Delete<" in one
    two = _row(body, "snap-2")
    assert 'data-refresh="/project/snapshots/snap-2/row/"' in two
    assert ">Delete<" not in two and ">Create Volume<" not in two


def test_dash_volumes_snapshot_pages(client: Any, admin_client: Any,
                                     conn: mock.MagicMock) -> None:
    conn.block_storage.get_snapshot.return_value = snapshot(status="deleting")
    conn.block_storage.volumes.return_value = []
    body = client.get("/project/snapshots/snap-1/row/").content.decode()
    assert "data-refresh" in body and "deleting" in body
    conn.block_storage.get_snapshot.return_value = snapshot()
    assert "snap-1" in client.get("/project/snapshots/snap-1/").content.decode()
    resp = client.post("/project/snapshots/snap-1/edit/", {"name": "n", "description": "d"})
    assert resp.status_code == 302
    conn.block_storage.update_snapshot.assert_called_once_with(
        conn.block_storage.get_snapshot.return_value, name="n", description="d")
    assert client.post("/project/snapshots/snap-1/delete/").status_code == 302
    conn.block_storage.delete_snapshot.assert_called_once()
    conn.block_storage.get_snapshot.return_value = snapshot(project_id=OTHER_PROJECT_ID)
    assert admin_client.get("/project/snapshots/snap-1/").status_code == 404
    conn.block_storage.get_snapshot.side_effect = http_error(404, "not found")
    assert client.get("/project/snapshots/snap-9/").status_code == 404


def test_dash_volumes_backups_table(client: Any, conn: mock.MagicMock) -> None:
    conn.block_storage.backups.return_value = [backup("bak-1"),
                                               backup("bak-2", status="restoring"),
                                               backup("bak-3", volume_id="gone")]
    conn.block_storage.volumes.return_value = [Volume(id="vol-1", name="data")]
    body = client.get("/project/backups/").content.decode()
    conn.block_storage.backups.assert_called_once_with()
    one = _row(body, "bak-1")
    assert "data" in one and "volumebackups" in one and "2026-12-06 09:00 UTC" in one
    assert ">Restore<" in one and ">Delete<" in one
    two = _row(body, "bak-2")
    assert 'data-refresh="/project/backups/bak-2/row/"' in two and ">Restore<" not in two
    assert "gone" in _row(body, "bak-3")


def test_dash_volumes_backup_restore(client: Any, conn: mock.MagicMock) -> None:
    conn.block_storage.get_backup.return_value = backup(size=2)
    conn.block_storage.volumes.return_value = [
        Volume(id="big", name="big", size=3, status="available"),
        Volume(id="small", name="small", size=1, status="available"),
        Volume(id="busy", name="busy", size=5, status="in-use")]
    body = client.get("/project/backups/bak-1/restore/").content.decode()
    assert 'value="big"' in body and 'value="small"' not in body and 'value="busy"' not in body
    resp = client.post("/project/backups/bak-1/restore/", {"volume": "", "name": ""})
    assert resp.status_code == 400 and "Name the new volume" in resp.content.decode()
    assert client.post("/project/backups/bak-1/restore/",
                       {"volume": "small"}).status_code == 400
    conn.block_storage.restore_backup.assert_not_called()
    resp = client.post("/project/backups/bak-1/restore/", {"volume": "", "name": "again"})
    assert resp.status_code == 302 and resp["Location"] == "/project/volumes/"
    conn.block_storage.restore_backup.assert_called_with(
        conn.block_storage.get_backup.return_value, name="again")
    client.post("/project/backups/bak-1/restore/", {"volume": "big", "name": ""})
    conn.block_storage.restore_backup.assert_called_with(
        conn.block_storage.get_backup.return_value, volume="big")


def test_dash_volumes_backup_row_delete_404(client: Any, admin_client: Any,
                                            conn: mock.MagicMock) -> None:
    conn.block_storage.get_backup.return_value = backup(status="creating")
    conn.block_storage.volumes.return_value = []
    assert "data-refresh" in client.get("/project/backups/bak-1/row/").content.decode()
    conn.block_storage.get_backup.return_value = backup(status="error")
    assert client.post("/project/backups/bak-1/delete/").status_code == 302
    conn.block_storage.delete_backup.assert_called_once_with(
        conn.block_storage.get_backup.return_value, ignore_missing=False)
    conn.block_storage.get_backup.return_value = backup(project_id=OTHER_PROJECT_ID)
    assert admin_client.get("/project/backups/bak-1/").status_code == 404


def test_dash_volumes_admin_pages_are_for_admins(client: Any, conn: mock.MagicMock) -> None:
    for path in ("/admin/volumes/", "/admin/volumes/vol-1/reset_status/",
                 "/admin/volumes/vol-1/row/"):
        assert client.get(path).status_code == 403
    assert client.post("/admin/volumes/vol-1/delete/").status_code == 403
    conn.block_storage.volumes.assert_not_called()
    conn.block_storage.delete_volume.assert_not_called()


def test_dash_volumes_admin_index(admin_client: Any, conn: mock.MagicMock) -> None:
    conn.block_storage.volumes.return_value = [
        Volume(id="vol-1", name="data", size=1, status="in-use", project_id=OTHER_PROJECT_ID,
               host="node1@lvm#pool", volume_type="lvm",
               attachments=[{"server_id": "srv-1", "device": "/dev/vdc"}]),
        Volume(id="vol-2", name="scratch", size=5, status="error", project_id=PROJECT_ID)]
    conn.block_storage.snapshots.return_value = [snapshot("snap-1", project_id=OTHER_PROJECT_ID)]
    conn.identity.projects.return_value = [Project(id=OTHER_PROJECT_ID, name="other"),
                                           Project(id=PROJECT_ID, name="demo")]
    conn.compute.servers.return_value = [Server(id="srv-1", name="web")]
    resp = admin_client.get("/admin/volumes/")
    assert resp.status_code == 200
    conn.block_storage.volumes.assert_called_once_with(all_projects=True)
    conn.block_storage.snapshots.assert_called_once_with(all_projects=True)
    conn.identity.projects.assert_called_once_with()
    conn.compute.servers.assert_called_once_with(details=False, all_projects=True)
    body = resp.content.decode()
    one = _row(body, "vol-1")
    assert "other" in one and "node1@lvm#pool" in one and "web on /dev/vdc" in one
    assert ">Reset Status<" in one and ">Delete<" not in one
    assert ">Delete<" in _row(body, "vol-2") and "demo" in _row(body, "vol-2")
    snap = _row(body, "snap-1")
    assert "other" in snap and "data" in snap and ">Delete<" in snap
    assert 'id="snapshots"' in body


def test_dash_volumes_admin_reset_status_and_delete(admin_client: Any,
                                                    conn: mock.MagicMock) -> None:
    conn.block_storage.get_volume.return_value = Volume(id="vol-1", name="data",
                                                        status="error_deleting")
    body = admin_client.get("/admin/volumes/vol-1/reset_status/").content.decode()
    assert '<option value="error_deleting" selected>' in body
    assert admin_client.post("/admin/volumes/vol-1/reset_status/",
                             {"status": "bogus"}).status_code == 400
    conn.block_storage.reset_volume_status.assert_not_called()
    resp = admin_client.post("/admin/volumes/vol-1/reset_status/",
                             {"status": "available", "attach_status": "detached"})
    assert resp.status_code == 302 and resp["Location"] == "/admin/volumes/"
    conn.block_storage.reset_volume_status.assert_called_once_with(
        "vol-1", status="available", attach_status="detached")
    admin_client.post("/admin/volumes/vol-1/delete/")
    conn.block_storage.delete_volume.assert_called_once_with("vol-1", ignore_missing=False)
    admin_client.post("/admin/volumes/snapshots/snap-1/delete/")
    conn.block_storage.delete_snapshot.assert_called_once_with("snap-1", ignore_missing=False)
    conn.block_storage.get_volume.return_value = Volume(id="vol-1", status="creating")
    conn.identity.projects.return_value = []
    body = admin_client.get("/admin/volumes/vol-1/row/").content.decode()
    assert 'data-refresh="/admin/volumes/vol-1/row/"' in body
