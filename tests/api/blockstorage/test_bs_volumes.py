"""Volume create, show, update and delete through the block storage API: the
bodies (Tempest's schemas), the checks (400/404/413), and the casts."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
import webtest

from blockstorage.db import models
from tests.fixtures import blockstorage as fx


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[fx.BlockStorageService]:
    service = fx.BlockStorageService(fx.make_conf(str(tmp_path_factory.mktemp("bs"))))
    service.add_service(zone="nova")
    yield service
    service.stop()


@pytest.fixture(scope="module")
def api(svc: fx.BlockStorageService) -> fx.Api:
    return fx.Api(webtest.TestApp(svc.pipeline))


def test_create_records_creating_and_casts_to_scheduler(
        svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    resp = api.v3("POST", "/volumes", project, status=202, json_body={"volume": {
        "size": 2, "name": "vol-a", "description": "first", "metadata": {"k": "v"}}})
    fx.check_schema(fx.tempest_schema("volumes", "create_volume"), resp)
    volume = resp.json["volume"]
    assert volume["status"] == "creating" and volume["size"] == 2
    assert volume["name"] == "vol-a" and volume["metadata"] == {"k": "v"}
    assert volume["volume_type"] == "__DEFAULT__" and volume["bootable"] == "false"
    assert volume["availability_zone"] == "nova"
    assert volume["links"][0]["href"].endswith("/v3/%s/volumes/%s" % (project, volume["id"]))
    (mine,) = svc.rpc.wait_for("create_volume", daemon="scheduler",
                               volume_id=volume["id"])
    assert mine["_project"] == project
    assert mine["request_spec"]["volume_properties"]["size"] == 2
    assert mine["request_spec"]["volume_type"]["name"] == "__DEFAULT__"


@pytest.mark.parametrize("size", [0, -1, "abc", "", None, "#$%", 1.5, True])
def test_create_refuses_bad_sizes(api: fx.Api, size: Any) -> None:
    body: dict[str, Any] = {} if size is None else {"size": size}
    resp = api.v3("POST", "/volumes", fx.project(), json_body={"volume": body}, status=400)
    assert resp.json["badRequest"]["code"] == 400


def test_create_accepts_size_as_string(api: fx.Api) -> None:
    volume = api.create_volume(fx.project(), size="3")
    assert volume["size"] == 3


@pytest.mark.parametrize("field,status", [
    ("volume_type", 404), ("snapshot_id", 404), ("source_volid", 404),
    ("imageRef", 404), ("availability_zone", 400)])
def test_create_refuses_unknown_references(api: fx.Api, field: str, status: int) -> None:
    api.create_volume(fx.project(), status=status, **{field: "9" * 8})


def test_create_with_type_by_name_and_id(svc: fx.BlockStorageService, api: fx.Api) -> None:
    vtype = svc.app.volumes.types.create("gold", is_public=True)
    by_name = api.create_volume(fx.project(), volume_type="gold")
    by_id = api.create_volume(fx.project(), volume_type=vtype["id"])
    assert by_name["volume_type"] == by_id["volume_type"] == "gold"
    hidden = svc.app.volumes.types.create("secret", is_public=False)
    api.create_volume(fx.project(), volume_type=hidden["id"], status=404)


def test_create_from_image_keeps_image_metadata(svc: fx.BlockStorageService,
                                                api: fx.Api) -> None:
    image = svc.images.add(min_disk=2)
    project = fx.project()
    api.create_volume(project, size=1, imageRef=image["id"], status=400)
    volume = api.create_volume(project, size=2, imageRef=image["id"])
    assert volume["bootable"] == "true"
    shown = api.v3("GET", "/volumes/%s" % volume["id"], project, status=200).json["volume"]
    meta = shown["volume_image_metadata"]
    assert meta["image_id"] == image["id"] and meta["os_distro"] == "cirros"
    assert meta["min_disk"] == "2"


def test_create_from_volume_inherits_size_and_type(svc: fx.BlockStorageService,
                                                   api: fx.Api) -> None:
    project = fx.project()
    source = fx.available(svc, api, project, size=3)
    api.create_volume(project, size=2, source_volid=source["id"], status=400)
    clone = api.v3("POST", "/volumes", project, status=202, json_body={
        "volume": {"source_volid": source["id"]}}).json["volume"]
    assert clone["size"] == 3 and clone["source_volid"] == source["id"]
    other = fx.project()
    api.create_volume(other, source_volid=source["id"], status=404)


def test_create_from_snapshot(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    source = fx.available(svc, api, project, size=2)
    snap = svc.app.volumes.snapshots.create({
        "project_id": project, "user_id": "u", "volume_id": source["id"], "size": 2,
        "status": "creating"})
    api.create_volume(project, snapshot_id=snap["id"], status=400)
    svc.app.volumes.snapshots.update(snap["id"], {"status": "available"})
    volume = api.v3("POST", "/volumes", project, status=202, json_body={
        "volume": {"snapshot_id": snap["id"]}}).json["volume"]
    assert volume["size"] == 2 and volume["snapshot_id"] == snap["id"]


def test_availability_zone_must_have_a_volume_service(svc: fx.BlockStorageService,
                                                      api: fx.Api) -> None:
    api.create_volume(fx.project(), availability_zone="zone-b", status=400)
    svc.add_service(host="node2@file", zone="zone-b")
    volume = api.create_volume(fx.project(), availability_zone="zone-b")
    assert volume["availability_zone"] == "zone-b"


def test_quota_exceeded_is_413(api: fx.Api) -> None:
    project = fx.project()
    api.admin("PUT", "/os-quota-sets/%s" % project,
              json_body={"quota_set": {"volumes": 1, "gigabytes": 5}}, status=200)
    api.create_volume(project, size=6, status=413)
    api.create_volume(project, size=1)
    resp = api.create_volume(project, size=1, status=413)
    assert "VolumeLimitExceeded" in resp["overLimit"]["message"]


def test_show_hides_admin_fields_from_owner(svc: fx.BlockStorageService,
                                            api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project)
    resp = api.v3("GET", "/volumes/%s" % volume["id"], project, status=200)
    fx.check_schema(fx.tempest_schema("volumes", "show_volume"), resp)
    body = resp.json["volume"]
    assert "os-vol-host-attr:host" not in body and "migration_status" not in body
    assert body["os-vol-tenant-attr:tenant_id"] == project
    admin = api.admin("GET", "/volumes/%s" % volume["id"], status=200).json["volume"]
    assert admin["os-vol-host-attr:host"] == fx.BACKEND + "#pool"
    assert admin["os-vol-mig-status-attr:migstat"] is None


def test_show_fields_by_microversion(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project)
    path = "/volumes/%s" % volume["id"]
    old = api.v3("GET", path, project, version="3.12", status=200).json["volume"]
    assert "group_id" not in old and "service_uuid" not in old
    new = api.v3("GET", path, project, version="3.60", status=200)
    fx.check_schema(fx.tempest_schema("volumes", "show_volume"), new)
    assert new.json["volume"]["group_id"] is None
    assert isinstance(new.json["volume"]["shared_targets"], bool)
    assert "provider_id" not in new.json["volume"]
    admin = api.admin("GET", path, version="3.60", status=200).json["volume"]
    assert "provider_id" in admin and "cluster_name" not in admin
    assert "volume_type_id" not in admin


def test_other_projects_volume_is_not_found(svc: fx.BlockStorageService,
                                            api: fx.Api) -> None:
    volume = fx.available(svc, api, fx.project())
    api.v3("GET", "/volumes/%s" % volume["id"], fx.project(), status=404)
    api.v3("GET", "/volumes/%s" % "0" * 36, fx.project(), status=404)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_empty_volume_id_is_not_found(api: fx.Api, method: str) -> None:
    kwargs: dict[str, Any] = {"json_body": {"volume": {"name": "x"}}} if method == "PUT" \
        else {}
    api.v3(method, "/volumes/", fx.project(), status=404, **kwargs)


def test_update_name_description_metadata(svc: fx.BlockStorageService,
                                          api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project, metadata={"a": "1", "b": "2"})
    resp = api.v3("PUT", "/volumes/%s" % volume["id"], project, status=200, json_body={
        "volume": {"name": "renamed", "description": "new", "metadata": {"c": "3"}}})
    fx.check_schema(fx.tempest_schema("volumes", "update_volume"), resp)
    body = resp.json["volume"]
    assert (body["name"], body["description"], body["metadata"]) == ("renamed", "new",
                                                                     {"c": "3"})
    resp = api.v3("PUT", "/volumes/%s" % volume["id"], project, status=200, json_body={
        "volume": {"display_name": "legacy"}})
    assert resp.json["volume"]["name"] == "legacy"
    assert resp.json["volume"]["updated_at"] is not None


def test_delete_casts_to_the_backend(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project)
    api.v3("DELETE", "/volumes/%s" % volume["id"], project, status=202)
    shown = api.v3("GET", "/volumes/%s" % volume["id"], project, status=200)
    assert shown.json["volume"]["status"] == "deleting"
    (cast,) = svc.rpc.wait_for("delete_volume", daemon="volume", volume_id=volume["id"])
    assert cast["cascade"] is False
    api.v3("DELETE", "/volumes/%s" % volume["id"], project, status=400)


def test_delete_without_host_removes_the_row(svc: fx.BlockStorageService,
                                             api: fx.Api) -> None:
    project = fx.project()
    volume = api.create_volume(project)
    svc.set_volume(volume["id"], status="error")
    api.v3("DELETE", "/volumes/%s" % volume["id"], project, status=202)
    api.v3("GET", "/volumes/%s" % volume["id"], project, status=404)


def test_delete_refuses_busy_volumes(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    volume = api.create_volume(project)
    api.v3("DELETE", "/volumes/%s" % volume["id"], project, status=400)
    svc.set_volume(volume["id"], status="in-use", attach_status="attached",
                   host=fx.BACKEND)
    api.v3("DELETE", "/volumes/%s" % volume["id"], project, status=400)
    api.admin("DELETE", "/volumes/%s?force=true" % volume["id"], status=202)
    assert svc.app.volumes.store.get(volume["id"])["status"] == "deleting"
    api.v3("DELETE", "/volumes/%s?force=true" % volume["id"], project, status=403)


def test_delete_with_snapshots_needs_cascade(svc: fx.BlockStorageService,
                                             api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project)
    snap = svc.app.volumes.snapshots.create({
        "project_id": project, "user_id": "u", "volume_id": volume["id"], "size": 1,
        "status": "available"})
    api.v3("DELETE", "/volumes/%s" % volume["id"], project, status=400)
    api.v3("DELETE", "/volumes/%s?cascade=true" % volume["id"], project, status=202)
    assert svc.app.volumes.snapshots.get(snap["id"])["status"] == "deleting"
    (cast,) = svc.rpc.wait_for("delete_volume", volume_id=volume["id"])
    assert cast["cascade"] is True


def test_member_role_needed_to_create(api: fx.Api) -> None:
    api.v3("POST", "/volumes", fx.project(), roles="reader",
           json_body={"volume": {"size": 1}}, status=403)
    assert models.Volume.__tablename__ == "volumes"
