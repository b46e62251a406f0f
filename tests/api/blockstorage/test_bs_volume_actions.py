"""Volume actions: statuses moved compare-and-set, the casts and calls they make,
and the admin-only ones."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
import webtest

from tests.fixtures import blockstorage as fx

SERVER = "8c7c2a7e-5e0e-4d8e-9d4f-0a1b2c3d4e5f"
CONNECTOR = {"host": "compute-1", "initiator": "iqn.1993-08.org.debian:01:abc"}


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[fx.BlockStorageService]:
    service = fx.BlockStorageService(fx.make_conf(str(tmp_path_factory.mktemp("bs"))))
    service.add_service(zone="nova")
    yield service
    service.stop()


@pytest.fixture(scope="module")
def api(svc: fx.BlockStorageService) -> fx.Api:
    return fx.Api(webtest.TestApp(svc.pipeline))


def act(api: fx.Api, project: str, volume_id: str, name: str, params: Any = None,
        status: int = 202, **kwargs: Any) -> webtest.TestResponse:
    return api.v3("POST", "/volumes/%s/action" % volume_id, project,
                  json_body={name: params}, status=status, **kwargs)


def status_of(svc: fx.BlockStorageService, volume_id: str) -> str:
    return str(svc.app.volumes.store.get(volume_id)["status"])


def test_extend(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project, size=1)
    for bad in (1, 0, "abc", None):
        act(api, project, volume["id"], "os-extend", {"new_size": bad}, status=400)
    act(api, project, volume["id"], "os-extend", {"new_size": 3})
    assert status_of(svc, volume["id"]) == "extending"
    (cast,) = svc.rpc.wait_for("extend_volume", daemon="scheduler", volume_id=volume["id"])
    assert cast["new_size"] == 3
    act(api, project, volume["id"], "os-extend", {"new_size": 4}, status=400)
    act(api, project, "0" * 36, "os-extend", {"new_size": 4}, status=404)


def test_extend_in_use_needs_342(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project)
    svc.set_volume(volume["id"], status="in-use", attach_status="attached")
    act(api, project, volume["id"], "os-extend", {"new_size": 2}, status=400)
    act(api, project, volume["id"], "os-extend", {"new_size": 2}, version="3.42")
    assert status_of(svc, volume["id"]) == "extending"


def test_extend_checks_quota(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project)
    api.admin("PUT", "/os-quota-sets/%s" % project,
              json_body={"quota_set": {"gigabytes": 2}}, status=200)
    act(api, project, volume["id"], "os-extend", {"new_size": 3}, status=413)
    assert status_of(svc, volume["id"]) == "available"


def test_reserve_and_detach_states(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project)
    act(api, project, volume["id"], "os-reserve")
    assert status_of(svc, volume["id"]) == "attaching"
    act(api, project, volume["id"], "os-reserve", status=400)
    act(api, project, volume["id"], "os-unreserve", {})
    assert status_of(svc, volume["id"]) == "available"
    act(api, project, volume["id"], "os-begin_detaching", status=400)


def test_attach_detach(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project)
    act(api, project, volume["id"], "os-attach", {"mountpoint": "/dev/vdb"}, status=400)
    act(api, project, volume["id"], "os-attach",
        {"instance_uuid": SERVER, "mountpoint": "/dev/vdb"})
    shown = api.v3("GET", "/volumes/%s" % volume["id"], project, status=200)
    fx.check_schema(fx.tempest_schema("volumes", "show_volume"), shown)
    body = shown.json["volume"]
    assert body["status"] == "in-use"
    (attachment,) = body["attachments"]
    assert attachment["server_id"] == SERVER and attachment["device"] == "/dev/vdb"
    assert attachment["volume_id"] == volume["id"] and attachment["host_name"] is None
    act(api, project, volume["id"], "os-attach",
        {"instance_uuid": SERVER, "mountpoint": "/dev/vdc"}, status=400)
    act(api, project, volume["id"], "os-begin_detaching")
    assert status_of(svc, volume["id"]) == "detaching"
    act(api, project, volume["id"], "os-roll_detaching")
    assert status_of(svc, volume["id"]) == "in-use"
    act(api, project, volume["id"], "os-detach", {})
    found = svc.app.volumes.store.get(volume["id"])
    assert (found["status"], found["attach_status"], found["attachments"]) == (
        "available", "detached", [])
    act(api, project, volume["id"], "os-detach", {}, status=400)


def test_readonly_volume_attaches_only_ro(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project)
    act(api, project, volume["id"], "os-update_readonly_flag", {"readonly": "maybe"},
        status=400)
    act(api, project, volume["id"], "os-update_readonly_flag", {"readonly": True})
    assert svc.app.volumes.store.get(volume["id"])["admin_metadata"]["readonly"] == "True"
    # Readers see the flag among the volume's metadata (as Cinder shows it).
    shown = api.v3("GET", "/volumes/" + volume["id"], project, status=200).json["volume"]
    assert shown["metadata"]["readonly"] == "True"
    act(api, project, volume["id"], "os-attach",
        {"instance_uuid": SERVER, "mountpoint": "/dev/vdb"}, status=400)
    act(api, project, volume["id"], "os-attach",
        {"instance_uuid": SERVER, "mountpoint": "/dev/vdb", "mode": "ro"})
    act(api, project, volume["id"], "os-update_readonly_flag", {"readonly": False},
        status=400)


def test_connections_call_the_backend(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project)
    resp = act(api, project, volume["id"], "os-initialize_connection",
               {"connector": CONNECTOR}, status=200)
    assert resp.json == {"connection_info": fx.CONNECTION_INFO}
    (call,) = svc.rpc.wait_for("initialize_connection", volume_id=volume["id"])
    assert call["connector"] == CONNECTOR
    act(api, project, volume["id"], "os-terminate_connection", {"connector": CONNECTOR})
    svc.rpc.wait_for("terminate_connection", volume_id=volume["id"])
    act(api, project, volume["id"], "os-initialize_connection", {}, status=400)
    unplaced = api.create_volume(project)
    act(api, project, unplaced["id"], "os-initialize_connection",
        {"connector": CONNECTOR}, status=400)


def test_set_bootable(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project)
    act(api, project, volume["id"], "os-set_bootable", {"bootable": True}, status=200)
    shown = api.v3("GET", "/volumes/%s" % volume["id"], project, status=200)
    assert shown.json["volume"]["bootable"] == "true"
    act(api, project, volume["id"], "os-set_bootable", {"bootable": "nope"}, status=400)


def test_upload_to_image(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project, size=2)
    resp = act(api, project, volume["id"], "os-volume_upload_image",
               {"image_name": "snap", "disk_format": "qcow2"}, version="3.1")
    answer = resp.json["os-volume_upload_image"]
    assert answer["status"] == "uploading" and answer["image_name"] == "snap"
    assert answer["visibility"] == "private" and answer["volume_type"]["name"] == "__DEFAULT__"
    created = svc.images.created[-1]
    assert created["id"] == answer["image_id"] and created["min_disk"] == 2
    (cast,) = svc.rpc.wait_for("copy_volume_to_image", volume_id=volume["id"])
    assert cast["image_meta"]["id"] == answer["image_id"]
    assert cast["image_meta"]["disk_format"] == "qcow2"
    assert status_of(svc, volume["id"]) == "uploading"
    act(api, project, volume["id"], "os-volume_upload_image", {"image_name": "again"},
        status=400)
    act(api, project, volume["id"], "os-volume_upload_image",
        {"image_name": "x", "disk_format": "exe"}, status=400)


def test_retype(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    svc.app.volumes.types.create("silver", is_public=True)
    volume = fx.available(svc, api, project)
    act(api, project, volume["id"], "os-retype", {"new_type": "__DEFAULT__"}, status=400)
    act(api, project, volume["id"], "os-retype", {"new_type": "nope"}, status=404)
    act(api, project, volume["id"], "os-retype",
        {"new_type": "silver", "migration_policy": "on-demand"})
    assert status_of(svc, volume["id"]) == "retyping"
    (cast,) = svc.rpc.wait_for("retype", daemon="scheduler", volume_id=volume["id"])
    assert cast["request_spec"]["migration_policy"] == "on-demand"


def test_admin_actions(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project)
    act(api, project, volume["id"], "os-reset_status", {"status": "error"}, status=403)
    api.admin("POST", "/volumes/%s/action" % volume["id"],
              json_body={"os-reset_status": {"status": "bogus"}}, status=400)
    api.admin("POST", "/volumes/%s/action" % volume["id"],
              json_body={"os-reset_status": {"status": "error",
                                             "attach_status": "detached"}}, status=202)
    assert status_of(svc, volume["id"]) == "error"
    act(api, project, volume["id"], "os-attach",
        {"instance_uuid": SERVER, "mountpoint": "/dev/vdb"}, status=400)
    api.admin("POST", "/volumes/%s/action" % volume["id"],
              json_body={"os-reset_status": {"status": "available"}}, status=202)
    act(api, project, volume["id"], "os-attach",
        {"instance_uuid": SERVER, "mountpoint": "/dev/vdb"})
    api.admin("POST", "/volumes/%s/action" % volume["id"],
              json_body={"os-force_detach": {"connector": CONNECTOR}}, status=202)
    svc.rpc.wait_for("terminate_connection", volume_id=volume["id"], force=True)
    assert svc.app.volumes.store.get(volume["id"])["attach_status"] == "detached"
    svc.set_volume(volume["id"], status="extending")
    api.admin("POST", "/volumes/%s/action" % volume["id"],
              json_body={"os-force_delete": {}}, status=202)
    svc.rpc.wait_for("delete_volume", volume_id=volume["id"])


def test_unknown_or_malformed_actions(svc: fx.BlockStorageService, api: fx.Api) -> None:
    project = fx.project()
    volume = fx.available(svc, api, project)
    act(api, project, volume["id"], "os-nothing", {}, status=400)
    api.v3("POST", "/volumes/%s/action" % volume["id"], project,
           json_body={"os-reserve": None, "os-unreserve": None}, status=400)
    act(api, fx.project(), volume["id"], "os-reserve", status=404)
    act(api, project, volume["id"], "os-reserve", roles="reader", status=403)
