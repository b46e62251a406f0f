"""Volume types through the real paste pipeline: admin create/update/delete,
the default type, visibility of private types and their access list, extra
specs (and which ones non-admins see); bodies checked against Tempest's schemas."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import webtest

from blockstorage.db import models
from tests.fixtures import blockstorage as bs


@pytest.fixture
def env(tmp_path: Any) -> Iterator[tuple[bs.BlockStorageService, bs.Api]]:
    svc = bs.BlockStorageService(bs.make_conf(str(tmp_path)))
    svc.add_service()
    try:
        yield svc, bs.Api(webtest.TestApp(svc.pipeline))
    finally:
        svc.stop()


def _create(api: bs.Api, status: int = 200, **fields: Any) -> Any:
    body = {"name": "t-" + uuid.uuid4().hex[:8]}
    body.update(fields)
    return api.admin("POST", "/types", json_body={"volume_type": body}, status=status)


def test_create_show_update_delete(env: tuple[bs.BlockStorageService, bs.Api]) -> None:
    _svc, api = env
    resp = _create(api, name="gold", description="fast",
                   extra_specs={"volume_backend_name": "file", "multiattach": "<is> True"},
                   **{"os-volume-type-access:is_public": True})
    bs.check_schema(bs.tempest_schema("volume_types", "create_volume_type"), resp)
    made = resp.json["volume_type"]
    assert made["name"] == "gold" and made["is_public"] is True
    assert "qos_specs_id" not in made
    shown = api.admin("GET", "/types/" + made["id"], status=200)
    bs.check_schema(bs.tempest_schema("volume_types", "show_volume_type"), shown)
    assert shown.json["volume_type"]["extra_specs"]["volume_backend_name"] == "file"
    # A user sees the type, but only the user-visible extra specs.
    user = api.v3("GET", "/types/" + made["id"], str(uuid.uuid4()), status=200)
    assert user.json["volume_type"]["extra_specs"] == {"multiattach": "<is> True"}
    assert "qos_specs_id" not in user.json["volume_type"]

    updated = api.admin("PUT", "/types/" + made["id"], json_body={"volume_type": {
        "name": "platinum", "description": "faster", "is_public": False}}, status=200)
    bs.check_schema(bs.tempest_schema("volume_types", "update_volume_types"), updated)
    assert updated.json["volume_type"]["is_public"] is False
    api.admin("PUT", "/types/" + made["id"], json_body={"volume_type": {}}, status=400)

    _create(api, name="platinum", status=409)
    _create(api, name="", status=400)
    _create(api, name="   ", status=400)
    api.v3("POST", "/types", str(uuid.uuid4()), json_body={"volume_type": {"name": "x"}},
           status=403)
    api.admin("DELETE", "/types/" + made["id"], status=202)
    api.admin("GET", "/types/" + made["id"], status=404)
    api.admin("DELETE", "/types/" + made["id"], status=404)


def test_default_type_and_in_use(env: tuple[bs.BlockStorageService, bs.Api]) -> None:
    svc, api = env
    project = str(uuid.uuid4())
    default = api.v3("GET", "/types/default", project, status=200).json["volume_type"]
    assert default["id"] == models.DEFAULT_TYPE_ID
    assert default["name"] == models.DEFAULT_TYPE_NAME
    api.admin("DELETE", "/types/" + models.DEFAULT_TYPE_ID, status=400)
    made = _create(api).json["volume_type"]
    bs.available(svc, api, project, volume_type=made["id"])
    api.admin("DELETE", "/types/" + made["id"], status=400)


def test_list_and_private_access(env: tuple[bs.BlockStorageService, bs.Api]) -> None:
    _svc, api = env
    project, other = str(uuid.uuid4()), str(uuid.uuid4())
    private = _create(api, **{"os-volume-type-access:is_public": False}).json["volume_type"]
    listed = api.v3("GET", "/types", project, status=200)
    bs.check_schema(bs.tempest_schema("volume_types", "list_volume_types"), listed)
    assert private["id"] not in [t["id"] for t in listed.json["volume_types"]]
    api.v3("GET", "/types/" + private["id"], project, status=404)
    # A volume of an unshared private type: not found.
    api.create_volume(project, status=404, volume_type=private["id"])

    action = "/types/%s/action" % private["id"]
    api.admin("POST", action, json_body={"addProjectAccess": {"project": project}},
              status=202)
    api.admin("POST", action, json_body={"addProjectAccess": {"project": project}},
              status=409)
    api.admin("POST", action, json_body={"addProjectAccess": {"project": other}},
              status=202)
    access = api.admin("GET", "/types/%s/os-volume-type-access" % private["id"], status=200)
    bs.check_schema(bs.tempest_schema("volume_types", "list_type_access"), access)
    assert sorted(a["project_id"] for a in access.json["volume_type_access"]) == sorted(
        [project, other])
    assert private["id"] in [t["id"] for t in api.v3(
        "GET", "/types", project, status=200).json["volume_types"]]
    api.v3("GET", "/types/" + private["id"], project, status=200)

    api.admin("POST", action, json_body={"removeProjectAccess": {"project": project}},
              status=202)
    api.admin("POST", action, json_body={"removeProjectAccess": {"project": project}},
              status=404)
    api.v3("GET", "/types/" + private["id"], project, status=404)
    api.admin("GET", "/types/%s/os-volume-type-access" % models.DEFAULT_TYPE_ID,
              status=404)
    api.admin("POST", "/types/%s/action" % models.DEFAULT_TYPE_ID,
              json_body={"addProjectAccess": {"project": project}}, status=400)
    # Admins list public types by default, private ones on request.
    admin_ids = [t["id"] for t in api.admin("GET", "/types", status=200).json[
        "volume_types"]]
    assert private["id"] not in admin_ids and models.DEFAULT_TYPE_ID in admin_ids
    assert [t["id"] for t in api.admin("GET", "/types?is_public=false", status=200).json[
        "volume_types"]] == [private["id"]]
    assert private["id"] in [t["id"] for t in api.admin(
        "GET", "/types?is_public=None", status=200).json["volume_types"]]


def test_extra_specs(env: tuple[bs.BlockStorageService, bs.Api]) -> None:
    _svc, api = env
    made = _create(api, extra_specs={"spec1": "val1"}).json["volume_type"]
    base = "/types/%s/extra_specs" % made["id"]
    resp = api.admin("POST", base, json_body={"extra_specs": {"spec2": "v2"}}, status=200)
    bs.check_schema(bs.tempest_schema("volume_types", "create_volume_types_extra_specs"),
                    resp)
    assert resp.json == {"extra_specs": {"spec2": "v2"}}
    listed = api.admin("GET", base, status=200)
    bs.check_schema(bs.tempest_schema("volume_types", "list_volume_types_extra_specs"),
                    listed)
    assert listed.json["extra_specs"] == {"spec1": "val1", "spec2": "v2"}
    assert api.admin("GET", base + "/spec1", status=200).json == {"spec1": "val1"}
    assert api.admin("PUT", base + "/spec1", json_body={"spec1": "new"},
                     status=200).json == {"spec1": "new"}
    api.admin("PUT", base + "/spec1", json_body={"spec2": "x"}, status=400)
    api.admin("PUT", base + "/spec1", json_body={"spec1": "a", "spec2": "b"}, status=400)
    api.admin("PUT", base + "/spec1", json_body=None, status=400)
    api.admin("POST", base, json_body={"extra_specs": ["invalid"]}, status=400)
    api.admin("POST", base, json_body=None, status=400)
    api.admin("DELETE", base + "/spec1", status=202)
    api.admin("GET", base + "/spec1", status=404)
    api.admin("DELETE", base + "/spec1", status=404)
    missing = "/types/%s/extra_specs" % uuid.uuid4()
    api.admin("GET", missing, status=404)
    api.admin("POST", missing, json_body={"extra_specs": {"a": "b"}}, status=404)
    api.admin("PUT", missing + "/a", json_body={"a": "b"}, status=404)
    api.v3("POST", base, str(uuid.uuid4()), json_body={"extra_specs": {"a": "b"}},
           status=403)
