"""Snapshots through the real paste pipeline: create (volume statuses, force,
quota), list/detail with filters, sort and paging, show, update, delete, the
admin and backend actions and the metadata routes; bodies checked against
Tempest's schemas and the casts against the recorder."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import webtest

from tests.fixtures import blockstorage as bs


@pytest.fixture
def env(tmp_path: Any) -> Iterator[tuple[bs.BlockStorageService, bs.Api]]:
    svc = bs.BlockStorageService(bs.make_conf(str(tmp_path)))
    svc.add_service()
    try:
        yield svc, bs.Api(webtest.TestApp(svc.pipeline))
    finally:
        svc.stop()


def _project() -> str:
    """A project id Tempest's uuid format accepts under jsonschema's checker too."""
    return str(uuid.uuid4())


def _snapshot(api: bs.Api, project: str, volume_id: str, status: int = 202,
              **fields: Any) -> Any:
    body = {"volume_id": volume_id}
    body.update(fields)
    return api.v3("POST", "/snapshots", project, json_body={"snapshot": body},
                  status=status)


def _available(svc: bs.BlockStorageService, snap_id: str) -> None:
    svc.app.snapshots.store.update(snap_id, {"status": "available", "progress": "100%"})


def test_create_show_list_update_delete(env: tuple[bs.BlockStorageService, bs.Api]) -> None:
    svc, api = env
    project = _project()
    volume = bs.available(svc, api, project, size=2)
    resp = _snapshot(api, project, volume["id"], name="s1", description="d",
                     metadata={"k": "v"})
    bs.check_schema(bs.tempest_schema("snapshots", "create_snapshot"), resp)
    snap = resp.json["snapshot"]
    assert snap["status"] == "creating" and snap["size"] == 2
    assert snap["metadata"] == {"k": "v"}
    cast = svc.rpc.wait_for("create_snapshot", daemon="volume")[0]
    assert cast["snapshot_id"] == snap["id"]

    _available(svc, snap["id"])
    shown = api.v3("GET", "/snapshots/" + snap["id"], project, status=200)
    bs.check_schema(bs.tempest_schema("snapshots", "show_snapshot"), shown)
    body = shown.json["snapshot"]
    assert body["os-extended-snapshot-attributes:project_id"] == project
    assert body["os-extended-snapshot-attributes:progress"] == "100%"
    assert "user_id" not in body and "group_snapshot_id" not in body
    newer = api.v3("GET", "/snapshots/" + snap["id"], project, version="3.41", status=200)
    assert newer.json["snapshot"]["user_id"] == svc.app.snapshots.store.get(
        snap["id"])["user_id"]
    assert newer.json["snapshot"]["group_snapshot_id"] is None

    listed = api.v3("GET", "/snapshots", project, status=200)
    bs.check_schema(bs.tempest_schema("snapshots", "list_snapshots_no_detail"), listed)
    detail = api.v3("GET", "/snapshots/detail", project, status=200)
    bs.check_schema(bs.tempest_schema("snapshots", "list_snapshots_with_detail"), detail)
    assert [s["id"] for s in detail.json["snapshots"]] == [snap["id"]]

    updated = api.v3("PUT", "/snapshots/" + snap["id"], project,
                     json_body={"snapshot": {"name": "new", "description": "nd"}},
                     status=200)
    bs.check_schema(bs.tempest_schema("snapshots", "update_snapshot"), updated)
    assert updated.json["snapshot"]["name"] == "new"

    api.v3("DELETE", "/snapshots/" + snap["id"], project, status=202)
    assert svc.rpc.wait_for("delete_snapshot")[0]["snapshot_id"] == snap["id"]
    shown = api.v3("GET", "/snapshots/" + snap["id"], project, status=200)
    assert shown.json["snapshot"]["status"] == "deleting"
    # Deleting again: the status no longer allows it.
    api.v3("DELETE", "/snapshots/" + snap["id"], project, status=400)


def test_create_errors(env: tuple[bs.BlockStorageService, bs.Api]) -> None:
    svc, api = env
    project = _project()
    volume = bs.available(svc, api, project)
    _snapshot(api, project, _project(), status=404)
    api.v3("POST", "/snapshots", project, json_body={"snapshot": {"volume_id": None}},
           status=404)
    # Another project's volume is not found either.
    _snapshot(api, _project(), volume["id"], status=404)
    svc.set_volume(volume["id"], status="in-use")
    _snapshot(api, project, volume["id"], force=False, status=400)
    _snapshot(api, project, volume["id"], status=400)
    _snapshot(api, project, volume["id"], force="maybe", status=400)
    _snapshot(api, project, volume["id"], force=True, status=202)
    # The openstack client sends "metadata": null when no property is given.
    resp = _snapshot(api, project, volume["id"], force=True, metadata=None, status=202)
    assert resp.json["snapshot"]["metadata"] == {}
    _snapshot(api, project, volume["id"], force=True, metadata=["x"], status=400)
    svc.set_volume(volume["id"], status="error")
    _snapshot(api, project, volume["id"], force=True, status=400)


def test_snapshot_quota(env: tuple[bs.BlockStorageService, bs.Api]) -> None:
    svc, api = env
    project = _project()
    volume = bs.available(svc, api, project)
    api.admin("PUT", "/os-quota-sets/" + project,
              json_body={"quota_set": {"snapshots": 1}}, status=200)
    _snapshot(api, project, volume["id"])
    resp = _snapshot(api, project, volume["id"], status=413)
    assert "SnapshotLimitExceeded" in resp.json["overLimit"]["message"]


def test_list_filters_sort_paging(env: tuple[bs.BlockStorageService, bs.Api]) -> None:
    svc, api = env
    project = _project()
    volume = bs.available(svc, api, project)
    ids = [_snapshot(api, project, volume["id"], name="s%d" % i).json["snapshot"]["id"]
           for i in range(3)]
    _available(svc, ids[0])
    _snapshot(api, _project(), bs.available(svc, api, _project())["id"], status=404)

    def names(query: str, status: int = 200) -> Any:
        resp = api.v3("GET", "/snapshots" + query, project, status=status)
        return [s["name"] for s in resp.json["snapshots"]] if status == 200 else resp

    assert names("") == ["s2", "s1", "s0"]
    assert names("?sort_key=display_name&sort_dir=asc") == ["s0", "s1", "s2"]
    assert names("?sort=name:asc") == ["s0", "s1", "s2"]
    assert names("?status=available") == ["s0"]
    assert names("?name=s1") == ["s1"]
    assert names("?limit=1") == ["s2"]
    assert names("?limit=0") == []
    assert names("?offset=2&limit=3") == ["s0"]
    assert names("?marker=" + ids[1]) == ["s0"]
    names("?sort_key=invalid", status=400)
    names("?limit=invalid", status=400)
    names("?marker=" + _project(), status=404)
    linked = api.v3("GET", "/snapshots?limit=2", project, status=200).json
    assert linked["snapshots_links"][0]["rel"] == "next"
    counted = api.v3("GET", "/snapshots?with_count=true", project, version="3.45",
                     status=200).json
    assert counted["count"] == 3
    everyone = api.admin("GET", "/snapshots?all_tenants=1", status=200).json
    assert {s["id"] for s in everyone["snapshots"]} >= set(ids)
    assert api.admin("GET", "/snapshots", status=200).json["snapshots"] == []


def test_actions(env: tuple[bs.BlockStorageService, bs.Api]) -> None:
    svc, api = env
    project = _project()
    volume = bs.available(svc, api, project)
    snap = _snapshot(api, project, volume["id"]).json["snapshot"]
    path = "/snapshots/%s/action" % snap["id"]
    # os-reset_status is for admins.
    api.v3("POST", path, project, json_body={"os-reset_status": {"status": "error"}},
           status=403)
    api.admin("POST", path, json_body={"os-reset_status": {"status": "bogus"}}, status=400)
    api.admin("POST", path, json_body={"os-reset_status": {"status": "creating"}},
              status=202)
    # The backend's report: creating -> error with progress.
    api.v3("POST", path, project,
           json_body={"os-update_snapshot_status": {"status": "error", "progress": "80%"}},
           status=202)
    shown = api.admin("GET", "/snapshots/" + snap["id"], status=200).json["snapshot"]
    assert shown["status"] == "error"
    assert shown["os-extended-snapshot-attributes:progress"] == "80%"
    api.v3("POST", path, project,
           json_body={"os-update_snapshot_status": {"status": "available"}}, status=400)
    api.admin("POST", path, json_body={"os-reset_status": {"status": "deleting"}},
              status=202)
    api.admin("POST", path, json_body={"os-force_delete": {}}, status=202)
    assert svc.rpc.wait_for("delete_snapshot")[0]["snapshot_id"] == snap["id"]
    api.v3("POST", path, project, json_body={"os-unknown": {}}, status=400)


def test_metadata_routes(env: tuple[bs.BlockStorageService, bs.Api]) -> None:
    svc, api = env
    project = _project()
    volume = bs.available(svc, api, project)
    snap = _snapshot(api, project, volume["id"], metadata={"a": "1"}).json["snapshot"]
    base = "/snapshots/%s/metadata" % snap["id"]
    resp = api.v3("POST", base, project, json_body={"metadata": {"b": "2"}}, status=200)
    bs.check_schema(bs.tempest_schema("snapshots", "create_snapshot_metadata"), resp)
    assert resp.json["metadata"] == {"a": "1", "b": "2"}
    resp = api.v3("PUT", base, project, json_body={"metadata": {"c": "3"}}, status=200)
    assert resp.json["metadata"] == {"c": "3"}
    assert api.v3("GET", base, project, status=200).json["metadata"] == {"c": "3"}
    item = api.v3("GET", base + "/c", project, status=200)
    bs.check_schema(bs.tempest_schema("snapshots", "show_snapshot_metadata_item"), item)
    assert item.json == {"meta": {"c": "3"}}
    api.v3("PUT", base + "/c", project, json_body={"meta": {"c": "4"}}, status=200)
    api.v3("PUT", base + "/c", project, json_body={"meta": {"d": "4"}}, status=400)
    api.v3("PUT", base + "/c", project, json_body={"meta": {"c": "4", "d": "5"}},
           status=400)
    api.v3("DELETE", base + "/c", project, status=200)
    api.v3("GET", base + "/c", project, status=404)
    api.v3("DELETE", base + "/c", project, status=404)
    api.v3("GET", base, _project(), status=404)
