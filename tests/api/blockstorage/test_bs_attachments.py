"""The attachments API (3.27+) through the real paste pipeline, as compute's
volume client drives it: reserve, connect (an RPC call to the volume's backend
answered by the recorder), complete, delete; the volume's status follows, and
the wrong states answer 400."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import webtest

from blockstorage import attachments as attachments_service
from blockstorage import exception
from tests.fixtures import blockstorage as bs

V = "3.44"
CONNECTOR = {"host": "compute1", "initiator": "iqn.1993-08.org.debian:01:abc",
             "mountpoint": "/dev/vdb"}


@pytest.fixture
def env(tmp_path: Any) -> Iterator[tuple[bs.BlockStorageService, bs.Api]]:
    svc = bs.BlockStorageService(bs.make_conf(str(tmp_path)))
    svc.add_service()
    svc.rpc.answers["attachment_update"] = bs.CONNECTION_INFO
    try:
        yield svc, bs.Api(webtest.TestApp(svc.pipeline))
    finally:
        svc.stop()


def _attach(api: bs.Api, project: str, volume_id: str, status: int = 200,
            version: str = V, **fields: Any) -> Any:
    body = {"volume_uuid": volume_id, "instance_uuid": str(uuid.uuid4())}
    body.update(fields)
    return api.v3("POST", "/attachments", project, version=version,
                  json_body={"attachment": body}, status=status)


def _volume(api: bs.Api, project: str, volume_id: str) -> dict[str, Any]:
    return dict(api.v3("GET", "/volumes/" + volume_id, project, status=200).json["volume"])


def test_reserve_connect_complete_delete(env: tuple[bs.BlockStorageService, bs.Api]) -> None:
    svc, api = env
    project = bs.project()
    volume = bs.available(svc, api, project)
    att = _attach(api, project, volume["id"]).json["attachment"]
    assert att["status"] == "reserved" and att["connection_info"] is None
    assert att["attach_mode"] == "rw" and att["volume_id"] == volume["id"]
    assert _volume(api, project, volume["id"])["status"] == "reserved"
    # A second attachment of a non-multiattach volume: 400.
    _attach(api, project, volume["id"], status=400)

    updated = api.v3("PUT", "/attachments/" + att["id"], project, version=V,
                     json_body={"attachment": {"connector": CONNECTOR}}, status=200)
    info = updated.json["attachment"]["connection_info"]
    assert info["driver_volume_type"] == "file" and info["device_path"] == "/tmp/volume"
    assert info["attachment_id"] == att["id"]
    call = svc.rpc.wait_for("attachment_update", daemon="volume")[0]
    assert call["attachment_id"] == att["id"] and call["connector"] == CONNECTOR
    assert updated.json["attachment"]["status"] == "attaching"
    assert _volume(api, project, volume["id"])["status"] == "attaching"

    api.v3("POST", "/attachments/%s/action" % att["id"], project, version=V,
           json_body={"os-complete": None}, status=204)
    shown = _volume(api, project, volume["id"])
    assert shown["status"] == "in-use"
    assert shown["attachments"][0]["attachment_id"] == att["id"]
    got = api.v3("GET", "/attachments/" + att["id"], project, version=V, status=200)
    assert got.json["attachment"]["status"] == "attached"
    assert got.json["attachment"]["attached_at"]

    resp = api.v3("DELETE", "/attachments/" + att["id"], project, version=V, status=200)
    assert resp.json == {"attachments": []}
    assert svc.rpc.wait_for("attachment_delete")[0]["attachment_id"] == att["id"]
    after = _volume(api, project, volume["id"])
    assert after["status"] == "available" and after["attachments"] == []
    api.v3("GET", "/attachments/" + att["id"], project, version=V, status=404)


def test_create_with_connector_and_lists(env: tuple[bs.BlockStorageService,
                                                     bs.Api]) -> None:
    svc, api = env
    project = bs.project()
    volume = bs.available(svc, api, project)
    att = _attach(api, project, volume["id"], connector=CONNECTOR, mode="ro",
                  version="3.54").json["attachment"]
    assert att["status"] == "attaching" and att["attach_mode"] == "ro"
    assert att["connection_info"]["access_mode"] == "rw"  # what the backend said
    listed = api.v3("GET", "/attachments", project, version=V, status=200).json
    assert listed == {"attachments": [{"id": att["id"], "status": "attaching",
                                       "instance": att["instance"],
                                       "volume_id": volume["id"]}]}
    detail = api.v3("GET", "/attachments/detail?volume_id=" + volume["id"], project,
                    version=V, status=200).json["attachments"]
    assert detail[0]["connection_info"]["attachment_id"] == att["id"]
    assert api.v3("GET", "/attachments", bs.project(), version=V,
                  status=200).json == {"attachments": []}
    api.v3("GET", "/attachments/" + att["id"], bs.project(), version=V, status=404)
    # Deleting a reserved-only attachment needs no backend call.
    svc.rpc.clear()
    other = bs.available(svc, api, project)
    reserved = _attach(api, project, other["id"]).json["attachment"]
    api.v3("DELETE", "/attachments/" + reserved["id"], project, version=V, status=200)
    assert "attachment_delete" not in svc.rpc.methods()
    assert _volume(api, project, other["id"])["status"] == "available"


def test_versions_and_errors(env: tuple[bs.BlockStorageService, bs.Api]) -> None:
    svc, api = env
    project = bs.project()
    volume = bs.available(svc, api, project)
    _attach(api, project, volume["id"], version="3.26", status=404)
    api.v3("GET", "/attachments", project, status=404)
    _attach(api, project, volume["id"], mode="ro", status=400)  # mode needs 3.54
    _attach(api, project, str(uuid.uuid4()), status=404)
    _attach(api, bs.project(), volume["id"], status=404)
    att = _attach(api, project, volume["id"], version="3.27").json["attachment"]
    api.v3("POST", "/attachments/%s/action" % att["id"], project, version="3.43",
           json_body={"os-complete": None}, status=404)
    api.v3("PUT", "/attachments/" + att["id"], project, version=V,
           json_body={"attachment": {}}, status=400)
    svc.set_volume(volume["id"], status="in-use")
    other = bs.available(svc, api, project)
    svc.set_volume(other["id"], status="error")
    _attach(api, project, other["id"], status=400)


def test_multiattach_and_backend_failure(env: tuple[bs.BlockStorageService,
                                                    bs.Api]) -> None:
    svc, api = env
    project = bs.project()
    volume = bs.available(svc, api, project, multiattach=True)
    first = _attach(api, project, volume["id"]).json["attachment"]
    api.v3("POST", "/attachments/%s/action" % first["id"], project, version=V,
           json_body={"os-complete": None}, status=204)
    second = _attach(api, project, volume["id"]).json["attachment"]
    assert _volume(api, project, volume["id"])["status"] == "in-use"
    api.v3("DELETE", "/attachments/" + first["id"], project, version=V, status=200)
    # The reserved second one keeps the volume reserved.
    assert _volume(api, project, volume["id"])["status"] == "reserved"
    svc.rpc.answers["attachment_update"] = exception.InvalidVolume(reason="no export")
    api.v3("PUT", "/attachments/" + second["id"], project, version=V,
           json_body={"attachment": {"connector": CONNECTOR}}, status=400)
    got = api.v3("GET", "/attachments/" + second["id"], project, version=V, status=200)
    assert got.json["attachment"]["status"] == "error_attaching"


def test_flat_connection_info() -> None:
    flat = attachments_service.flat_connection_info(
        {"driver_volume_type": "iscsi", "data": {"target_lun": 1}}, "a1", "ro")
    assert flat == {"target_lun": 1, "driver_volume_type": "iscsi", "attachment_id": "a1",
                    "access_mode": "ro"}
