"""PATCH /v2/images/{id} with application/openstack-images-v2.1-json-patch."""
from __future__ import annotations

import json
from typing import Any

import pytest
from image_api_helpers import PATCH_TYPE, Api, check_error, project

ADMIN = "admin,member,reader"


def _new(api: Api, **fields: Any) -> tuple[str, str]:
    owner = project()
    return owner, api.create(owner, **fields)["id"]


def _op(op: str, path: str, *value: Any) -> dict[str, Any]:
    change: dict[str, Any] = {"op": op, "path": path}
    if value:
        change["value"] = value[0]
    return change


def test_add_replace_remove_name_and_properties(api: Api) -> None:
    owner, image_id = _new(api, name="before")
    resp = api.patch(owner, image_id, [_op("replace", "/name", "after"),
                                       _op("add", "/os_distro", "cirros"),
                                       _op("add", "/hw_disk_bus", "scsi")])
    assert resp.content_type == "application/json"
    image = resp.json
    assert image["name"] == "after"
    assert image["os_distro"] == "cirros" and image["hw_disk_bus"] == "scsi"
    assert image["id"] == image_id and image["self"] == "/v2/images/" + image_id
    image = api.patch(owner, image_id, [_op("replace", "/os_distro", "ubuntu"),
                                        _op("remove", "/hw_disk_bus")]).json
    assert image["os_distro"] == "ubuntu"
    assert "hw_disk_bus" not in image
    shown = api.show(owner, image_id)
    assert shown["name"] == "after" and shown["os_distro"] == "ubuntu"
    assert "hw_disk_bus" not in shown


def test_add_name_and_null_name(api: Api) -> None:
    owner, image_id = _new(api)
    assert api.patch(owner, image_id, [_op("add", "/name", "n")]).json["name"] == "n"
    assert api.patch(owner, image_id, [_op("replace", "/name", None)]).json["name"] is None


def test_add_on_existing_property_replaces(api: Api) -> None:
    owner, image_id = _new(api, color="red")
    image = api.patch(owner, image_id, [_op("add", "/color", "blue")]).json
    assert image["color"] == "blue"
    assert api.show(owner, image_id)["color"] == "blue"


def test_operations_apply_in_order(api: Api) -> None:
    owner, image_id = _new(api)
    image = api.patch(owner, image_id, [_op("add", "/k", "1"), _op("replace", "/k", "2"),
                                        _op("remove", "/k"), _op("add", "/k", "3")]).json
    assert image["k"] == "3"


def test_empty_patch_is_a_noop(api: Api) -> None:
    owner, image_id = _new(api, name="same")
    before = api.show(owner, image_id)
    assert api.patch(owner, image_id, []).json == before


def test_core_attributes(api: Api) -> None:
    owner, image_id = _new(api)
    image = api.patch(owner, image_id, [
        _op("replace", "/min_ram", 256), _op("replace", "/min_disk", 5),
        _op("replace", "/protected", True), _op("replace", "/os_hidden", True),
        _op("replace", "/disk_format", "qcow2"), _op("replace", "/container_format", "bare"),
        _op("replace", "/visibility", "private")]).json
    assert image["min_ram"] == 256 and image["min_disk"] == 5
    assert image["protected"] is True and image["os_hidden"] is True
    assert image["disk_format"] == "qcow2" and image["container_format"] == "bare"
    assert image["visibility"] == "private"
    api.patch(owner, image_id, [_op("replace", "/protected", False)])


def test_tags_via_patch(api: Api) -> None:
    owner, image_id = _new(api, tags=["old"])
    image = api.patch(owner, image_id, [_op("replace", "/tags", ["a", "b", "a"])]).json
    assert sorted(image["tags"]) == ["a", "b"]
    image = api.patch(owner, image_id, [_op("add", "/tags", ["c"])]).json
    assert image["tags"] == ["c"]
    assert api.show(owner, image_id)["tags"] == ["c"]
    assert api.patch(owner, image_id, [_op("replace", "/tags", [])]).json["tags"] == []


def test_json_pointer_escapes(api: Api) -> None:
    owner, image_id = _new(api)
    image = api.patch(owner, image_id, [_op("add", "/a~1b", "slash"),
                                        _op("add", "/c~0d", "tilde")]).json
    assert image["a/b"] == "slash" and image["c~d"] == "tilde"


def test_replace_of_missing_property_is_409(api: Api) -> None:
    owner, image_id = _new(api)
    check_error(api.patch(owner, image_id, [_op("replace", "/nope", "x")], status=409), 409)


def test_remove_of_missing_property_is_409(api: Api) -> None:
    owner, image_id = _new(api)
    check_error(api.patch(owner, image_id, [_op("remove", "/nope")], status=409), 409)


def test_failed_patch_changes_nothing(api: Api) -> None:
    owner, image_id = _new(api, name="keep")
    api.patch(owner, image_id, [_op("replace", "/name", "changed"),
                                _op("remove", "/nope")], status=409)
    assert api.show(owner, image_id)["name"] == "keep"


@pytest.mark.parametrize("attr", ["name", "visibility", "protected", "os_hidden", "min_ram",
                                  "min_disk", "disk_format", "container_format", "owner",
                                  "tags"])
def test_remove_of_core_attribute_is_403(api: Api, attr: str) -> None:
    owner, image_id = _new(api, name="n", disk_format="raw", container_format="bare")
    check_error(api.patch(owner, image_id, [_op("remove", "/" + attr)], status=403), 403)


@pytest.mark.parametrize("attr", ["checksum", "status", "size", "id", "virtual_size",
                                  "created_at", "updated_at", "os_hash_algo",
                                  "os_hash_value", "self", "file", "schema", "direct_url"])
@pytest.mark.parametrize("op", ["add", "replace", "remove"])
def test_read_only_attribute_is_403(api: Api, attr: str, op: str) -> None:
    owner, image_id = _new(api)
    value = {"size": 1, "virtual_size": 1}.get(attr, "x")
    change = _op(op, "/" + attr, value) if op != "remove" else _op(op, "/" + attr)
    message = check_error(api.patch(owner, image_id, [change], status=403), 403)
    assert attr in message
    assert api.show(owner, image_id)["status"] == "queued"


@pytest.mark.parametrize("attr", ["location", "deleted", "deleted_at"])
def test_reserved_attribute_is_403(api: Api, attr: str) -> None:
    owner, image_id = _new(api)
    check_error(api.patch(owner, image_id, [_op("add", "/" + attr, "x")], status=403), 403)


def test_os_glance_namespace_is_reserved(api: Api) -> None:
    owner, image_id = _new(api)
    check_error(api.patch(owner, image_id, [_op("add", "/os_glance_x", "y")], status=403),
                403)


@pytest.mark.parametrize("ctype", ["application/json", "text/plain",
                                   "application/json-patch+json",
                                   "application/openstack-images-v2.2-json-patch"])
def test_wrong_content_type_is_415(api: Api, ctype: str) -> None:
    owner, image_id = _new(api)
    check_error(api.patch(owner, image_id, [_op("replace", "/name", "x")], status=415,
                          content_type=ctype), 415)


def test_patch_content_type_parameters_are_ignored(api: Api) -> None:
    owner, image_id = _new(api)
    resp = api.patch(owner, image_id, [_op("replace", "/name", "cs")],
                     content_type=PATCH_TYPE + "; charset=UTF-8")
    assert resp.json["name"] == "cs"


def test_no_content_type_is_415(api: Api) -> None:
    owner, image_id = _new(api)
    resp = api.call("PATCH", "/v2/images/" + image_id, owner,
                    body=json.dumps([_op("replace", "/name", "x")]))
    check_error(resp, 415)


def test_415_names_the_accepted_patch_types(api: Api) -> None:
    owner, image_id = _new(api)
    resp = api.patch(owner, image_id, [], status=415, content_type="application/json")
    accepted = [t.strip() for t in resp.headers["Accept-Patch"].split(",")]
    assert PATCH_TYPE in accepted
    assert "application/openstack-images-v2.0-json-patch" in accepted


def test_v20_patch_format(api: Api) -> None:
    owner, image_id = _new(api)
    resp = api.patch(owner, image_id, [{"replace": "/name", "value": "d4"}],
                     content_type="application/openstack-images-v2.0-json-patch")
    assert resp.json["name"] == "d4"


@pytest.mark.parametrize("ops", [
    {}, {"op": "replace", "path": "/name", "value": "x"}, "x", 1, None, [1], [[]], ["add"],
    [{"path": "/name", "value": "x"}],                        # no op
    [{"op": "move", "path": "/name", "from": "/x"}],           # unsupported op
    [{"op": "copy", "path": "/name", "from": "/x"}],
    [{"op": "test", "path": "/name", "value": "x"}],
    [{"op": "ADD", "path": "/name", "value": "x"}],
    [{"op": "add", "value": "x"}],                             # no path
    [{"op": "add", "path": "name", "value": "x"}],             # not a pointer
    [{"op": "add", "path": "", "value": "x"}],
    [{"op": "add", "path": 5, "value": "x"}],
    [{"op": "add", "path": "/a/b", "value": "x"}],             # nested
    [{"op": "add", "path": "/a//b", "value": "x"}],
    [{"op": "add", "path": "/name/", "value": "x"}],
    pytest.param([{"op": "add", "path": "/a~2b", "value": "x"}], id="bad-escape"),
    [{"op": "add", "path": "/name"}],                          # missing value
    [{"op": "replace", "path": "/name"}],
    [{"op": "add", "path": "/custom", "value": 1}],            # not a string
    [{"op": "add", "path": "/custom", "value": ["x"]}],
    [{"op": "replace", "path": "/name", "value": 5}],
    [{"op": "replace", "path": "/name", "value": "n" * 256}],
    [{"op": "replace", "path": "/min_ram", "value": "big"}],
    [{"op": "replace", "path": "/min_disk", "value": -1}],
    [{"op": "replace", "path": "/protected", "value": "yes"}],
    [{"op": "replace", "path": "/visibility", "value": "everyone"}],
    [{"op": "replace", "path": "/disk_format", "value": "floppy"}],
    [{"op": "replace", "path": "/container_format", "value": "zip"}],
    [{"op": "replace", "path": "/tags", "value": "a,b"}],
    [{"op": "replace", "path": "/tags", "value": ["x" * 256]}],
])
def test_malformed_patch_is_400(api: Api, ops: Any) -> None:
    owner, image_id = _new(api, name="n")
    check_error(api.patch(owner, image_id, ops, status=400), 400)
    assert api.show(owner, image_id)["name"] == "n"


@pytest.mark.parametrize("body", [b"", b"[", b"not json", b"[{'op': 'add'}]"])
def test_unparsable_patch_is_400(api: Api, body: bytes) -> None:
    owner, image_id = _new(api)
    check_error(api.call("PATCH", "/v2/images/" + image_id, owner, body=body,
                         content_type=PATCH_TYPE), 400)


def test_non_owner_of_public_image_is_403(api: Api) -> None:
    owner = project()
    image_id = api.create(owner, roles=ADMIN, visibility="public", name="pub")["id"]
    check_error(api.patch(project(), image_id, [_op("replace", "/name", "x")], status=403),
                403)
    assert api.show(owner, image_id)["name"] == "pub"


@pytest.mark.parametrize("visibility", ["community"])
def test_non_owner_of_community_image_is_403(api: Api, visibility: str) -> None:
    _owner, image_id = _new(api, visibility=visibility)
    api.patch(project(), image_id, [_op("replace", "/name", "x")], status=403)


@pytest.mark.parametrize("visibility", ["private", "shared"])
def test_non_owner_of_invisible_image_is_404(api: Api, visibility: str) -> None:
    _owner, image_id = _new(api, visibility=visibility)
    check_error(api.patch(project(), image_id, [_op("replace", "/name", "x")], status=404),
                404)


def test_member_of_shared_image_cannot_patch(api: Api) -> None:
    owner, image_id = _new(api, visibility="shared")
    member = project()
    api.add_member(owner, image_id, member)
    api.set_member_status(member, image_id, member, "accepted")
    api.patch(member, image_id, [_op("replace", "/name", "x")], status=403)


def test_reader_cannot_patch_own_project_image(api: Api) -> None:
    owner, image_id = _new(api)
    api.patch(owner, image_id, [_op("replace", "/name", "x")], roles="reader", status=403)


def test_admin_may_patch_any_image(api: Api) -> None:
    _owner, image_id = _new(api, visibility="private")
    image = api.patch(project(), image_id, [_op("replace", "/name", "by-admin")],
                      roles=ADMIN).json
    assert image["name"] == "by-admin"


def test_unknown_image_is_404(api: Api) -> None:
    api.patch(project(), "00000000-0000-0000-0000-000000000000",
              [_op("replace", "/name", "x")], status=404)


def test_visibility_public_needs_admin(api: Api) -> None:
    owner, image_id = _new(api)
    check_error(api.patch(owner, image_id, [_op("replace", "/visibility", "public")],
                          status=403), 403)
    assert api.show(owner, image_id)["visibility"] == "shared"
    image = api.patch(owner, image_id, [_op("replace", "/visibility", "public")],
                      roles=ADMIN).json
    assert image["visibility"] == "public"


@pytest.mark.parametrize("visibility", ["community", "private", "shared"])
def test_member_may_change_visibility(api: Api, visibility: str) -> None:
    owner, image_id = _new(api, visibility="private")
    image = api.patch(owner, image_id, [_op("replace", "/visibility", visibility)]).json
    assert image["visibility"] == visibility


def test_owner_change_needs_admin(api: Api) -> None:
    owner, image_id = _new(api)
    api.patch(owner, image_id, [_op("replace", "/owner", project())], status=403)
    other = project()
    image = api.patch(owner, image_id, [_op("replace", "/owner", other)], roles=ADMIN).json
    assert image["owner"] == other


@pytest.mark.parametrize("value", [2 ** 31, 2 ** 64], ids=["2^31", "2^64"])
def test_huge_min_disk_is_400(api: Api, value: int) -> None:
    owner, image_id = _new(api)
    resp = api.app.patch("/v2/images/" + image_id,
                         json.dumps([_op("replace", "/min_disk", value)]),
                         headers=dict(api.auth(owner), **{"Content-Type": PATCH_TYPE}),
                         expect_errors=True)
    check_error(resp, 400)


def test_updated_at_moves_forward(api: Api) -> None:
    owner, image_id = _new(api)
    before = api.show(owner, image_id)
    after = api.patch(owner, image_id, [_op("add", "/k", "v")]).json
    assert after["updated_at"] >= before["updated_at"]
    assert after["created_at"] == before["created_at"]


def test_disk_format_of_active_image_is_403(api: Api, needs_data: None) -> None:
    owner = project()
    image = api.active_image(owner)
    assert image["status"] == "active"
    for attr, value in (("disk_format", "qcow2"), ("container_format", "ovf")):
        check_error(api.patch(owner, image["id"], [_op("replace", "/" + attr, value)],
                              status=403), 403)
    shown = api.show(owner, image["id"])
    assert shown["disk_format"] == "raw" and shown["container_format"] == "bare"
    # Other attributes of an active image may still change.
    assert api.patch(owner, image["id"], [_op("replace", "/name", "ok")]).json["name"] == "ok"
