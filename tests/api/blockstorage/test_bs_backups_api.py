"""Backups through the real paste pipeline: create (statuses, force, snapshot,
incremental parents, quota, no backup service), list/detail/show by
microversion, update, delete, restore (onto a volume or a new one) and the
admin actions; bodies checked against Tempest's schemas, casts against the
recorder."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import webtest

from blockstorage import exception
from blockstorage import rpcapi
from blockstorage.db import backups as backups_db
from blockstorage.db import models
from tests.fixtures import blockstorage as bs


@pytest.fixture
def env(tmp_path: Any) -> Iterator[tuple[bs.BlockStorageService, bs.Api]]:
    svc = bs.BlockStorageService(bs.make_conf(str(tmp_path)))
    svc.add_service()
    svc.add_service(host="backup-1", binary=rpcapi.BACKUP_BINARY)
    try:
        yield svc, bs.Api(webtest.TestApp(svc.pipeline))
    finally:
        svc.stop()


def _project() -> str:
    return str(uuid.uuid4())


def _backup(api: bs.Api, project: str, volume_id: str, status: int = 202,
            version: str | None = None, **fields: Any) -> Any:
    body = {"volume_id": volume_id}
    body.update(fields)
    return api.v3("POST", "/backups", project, version=version,
                  json_body={"backup": body}, status=status)


def _cast_for(svc: bs.BlockStorageService, method: str, volume_id: str) -> dict[str, Any]:
    """The cast of ``method`` about ``volume_id`` (casts arrive asynchronously)."""
    count = 1
    while True:
        found = [c for c in svc.rpc.wait_for(method, count) if c["volume_id"] == volume_id]
        if found:
            return found[0]
        count = len(svc.rpc.wait_for(method, count)) + 1


def _done(svc: bs.BlockStorageService, backup_id: str, volume_id: str) -> None:
    """What the backup daemon does at the end of a backup."""
    svc.app.backups_store.update(backup_id, {"status": "available", "object_count": 2})
    svc.set_volume(volume_id, status="available")


@pytest.fixture(autouse=True)
def _store(env: tuple[bs.BlockStorageService, bs.Api]) -> None:
    env[0].app.backups_store = backups_db.BackupStore(env[0].db)


def test_create_show_list_update_delete(env: tuple[bs.BlockStorageService, bs.Api]) -> None:
    svc, api = env
    project = _project()
    volume = bs.available(svc, api, project, size=2)
    resp = _backup(api, project, volume["id"], name="b1", description="d")
    bs.check_schema(bs.tempest_schema("backups", "create_backup"), resp)
    backup = resp.json["backup"]
    assert backup["name"] == "b1" and backup["links"][0]["rel"] == "self"
    assert svc.rpc.wait_for("create_backup", daemon="backup")[0]["backup_id"] == backup["id"]
    assert api.v3("GET", "/volumes/" + volume["id"], project,
                  status=200).json["volume"]["status"] == "backing-up"
    _done(svc, backup["id"], volume["id"])

    shown = api.v3("GET", "/backups/" + backup["id"], project, status=200)
    bs.check_schema(bs.tempest_schema("backups", "show_backup"), shown)
    body = shown.json["backup"]
    assert body["status"] == "available" and body["size"] == 2
    assert body["container"] == "volumebackups" and body["is_incremental"] is False
    assert "metadata" not in body and "user_id" not in body
    newer = api.v3("GET", "/backups/" + backup["id"], project, version="3.56",
                   status=200).json["backup"]
    assert newer["metadata"] == {} and newer["user_id"]
    assert "os-backup-project-attr:project_id" not in newer
    admin = api.admin("GET", "/backups/" + backup["id"], version="3.18",
                      status=200).json["backup"]
    assert admin["os-backup-project-attr:project_id"] == project

    listed = api.v3("GET", "/backups", project, status=200)
    bs.check_schema(bs.tempest_schema("backups", "list_backups_no_detail"), listed)
    detail = api.v3("GET", "/backups/detail?name=b1", project, status=200)
    bs.check_schema(bs.tempest_schema("backups", "list_backups_with_detail"), detail)
    assert [b["id"] for b in detail.json["backups"]] == [backup["id"]]
    assert api.v3("GET", "/backups/detail?name=zz", project, status=200).json == {
        "backups": []}

    api.v3("PUT", "/backups/" + backup["id"], project, json_body={"backup": {"name": "x"}},
           status=404)  # update needs 3.9
    updated = api.v3("PUT", "/backups/" + backup["id"], project, version="3.43",
                     json_body={"backup": {"name": "b2", "metadata": {"k": "v"}}},
                     status=200)
    bs.check_schema(bs.tempest_schema("backups", "update_backup"), updated)
    assert updated.json["backup"]["metadata"] == {"k": "v"}

    api.v3("DELETE", "/backups/" + backup["id"], project, status=202)
    assert svc.rpc.wait_for("delete_backup")[0]["backup_id"] == backup["id"]
    api.v3("DELETE", "/backups/" + backup["id"], project, status=400)
    api.v3("GET", "/backups/" + backup["id"], _project(), status=404)


def test_create_rules(env: tuple[bs.BlockStorageService, bs.Api]) -> None:
    svc, api = env
    project = _project()
    volume = bs.available(svc, api, project)
    _backup(api, project, str(uuid.uuid4()), status=404)
    _backup(api, project, volume["id"], incremental=True, status=400)  # no parent
    svc.set_volume(volume["id"], status="in-use")
    _backup(api, project, volume["id"], status=400)
    full = _backup(api, project, volume["id"], force=True).json["backup"]
    svc.app.backups_store.update(full["id"], {"status": "available"})
    svc.set_volume(volume["id"], status="in-use")
    incr = _backup(api, project, volume["id"], incremental=True, force=True).json["backup"]
    stored = svc.app.backups_store.get(incr["id"])
    assert stored["parent_id"] == full["id"] and stored["is_incremental"]
    # The full backup has a dependent now: it cannot go first.
    assert api.v3("GET", "/backups/" + full["id"], project,
                  status=200).json["backup"]["has_dependent_backups"] is True
    api.v3("DELETE", "/backups/" + full["id"], project, status=400)
    svc.set_volume(volume["id"], status="error")
    _backup(api, project, volume["id"], force=True, status=400)
    _backup(api, project, volume["id"], metadata={"a": "b"}, status=400)  # needs 3.43


def test_snapshot_backup_quota_and_service(env: tuple[bs.BlockStorageService,
                                                      bs.Api]) -> None:
    svc, api = env
    project = _project()
    volume = bs.available(svc, api, project)
    snap = api.v3("POST", "/snapshots", project,
                  json_body={"snapshot": {"volume_id": volume["id"]}},
                  status=202).json["snapshot"]
    _backup(api, project, volume["id"], snapshot_id=snap["id"], status=400)  # creating
    svc.app.snapshots.store.update(snap["id"], {"status": "available"})
    _backup(api, project, volume["id"], snapshot_id=snap["id"])
    assert svc.app.snapshots.store.get(snap["id"])["status"] == "backing-up"
    assert api.v3("GET", "/volumes/" + volume["id"], project,
                  status=200).json["volume"]["status"] == "available"
    api.admin("PUT", "/os-quota-sets/" + project,
              json_body={"quota_set": {"backups": 1}}, status=200)
    resp = _backup(api, project, volume["id"], status=413)
    assert "BackupLimitExceeded" in resp.json["overLimit"]["message"]
    api.admin("PUT", "/os-quota-sets/" + project,
              json_body={"quota_set": {"backups": 10}}, status=200)
    with svc.db.writer() as session:
        session.query(models.Service).filter(
            models.Service.binary == rpcapi.BACKUP_BINARY).delete()
    # No live backup daemon: 503 (checked below the API: the test client
    # treats every 5xx as a bug), and nothing changed.
    with pytest.raises(exception.ServiceUnavailable):
        svc.app.backups.create(_Ctx(project), volume["id"])
    assert api.v3("GET", "/volumes/" + volume["id"], project,
                  status=200).json["volume"]["status"] == "available"


class _Ctx:
    """The little of a request context the backup service reads."""

    def __init__(self, project_id: str) -> None:
        self.project_id, self.user_id, self.is_admin = project_id, "u", False
        self.roles: list[str] = []


def test_restore_and_actions(env: tuple[bs.BlockStorageService, bs.Api]) -> None:
    svc, api = env
    project = _project()
    volume = bs.available(svc, api, project, size=2)
    backup = _backup(api, project, volume["id"]).json["backup"]
    path = "/backups/%s/restore" % backup["id"]
    api.v3("POST", path, project, json_body={"restore": {}}, status=400)  # creating
    _done(svc, backup["id"], volume["id"])

    small = bs.available(svc, api, project, size=1)
    api.v3("POST", path, project, json_body={"restore": {"volume_id": small["id"]}},
           status=400)
    target = bs.available(svc, api, project, size=3, name="target")
    resp = api.v3("POST", path, project, json_body={"restore": {"volume_id": target["id"]}},
                  status=202)
    bs.check_schema(bs.tempest_schema("backups", "restore_backup"), resp)
    assert resp.json["restore"] == {"backup_id": backup["id"], "volume_id": target["id"],
                                    "volume_name": "target"}
    cast = svc.rpc.wait_for("restore_backup", daemon="backup")[0]
    assert cast == dict(cast, backup_id=backup["id"], volume_id=target["id"])
    assert svc.app.backups_store.get(backup["id"])["status"] == "restoring"
    assert api.v3("GET", "/volumes/" + target["id"], project,
                  status=200).json["volume"]["status"] == "restoring-backup"

    # Into a new volume: the volume create of 3.47 (backup_id), sent to the scheduler.
    svc.app.backups_store.update(backup["id"], {"status": "available"})
    new = api.v3("POST", path, project, json_body={"restore": {"name": "fresh"}},
                 status=202).json["restore"]
    assert new["volume_name"] == "fresh"
    spec = _cast_for(svc, "create_volume", new["volume_id"])
    assert spec["request_spec"]["backup_id"] == backup["id"]
    assert api.v3("GET", "/volumes/" + new["volume_id"], project,
                  status=200).json["volume"]["size"] == 2

    action = "/backups/%s/action" % backup["id"]
    api.v3("POST", action, project, json_body={"os-reset_status": {"status": "error"}},
           status=403)
    api.admin("POST", action, json_body={"os-reset_status": {"status": "creating"}},
              status=400)
    api.admin("POST", action, json_body={"os-reset_status": {"status": "error"}},
              status=202)
    api.admin("POST", action, json_body={"os-force_delete": {}}, status=202)
    assert svc.app.backups_store.get(backup["id"])["status"] == "deleting"
