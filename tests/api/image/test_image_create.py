"""POST /v2/images: defaults, ids, properties, refused attributes, formats, visibility."""
from __future__ import annotations

import uuid

import pytest
from image_api_helpers import TIMESTAMP, UUID, Api, check_error, project, unique


def test_create_defaults(api: Api) -> None:
    pid = project()
    resp = api.call("POST", "/v2/images", pid, json_body={"name": "plain"}, status=201)
    assert resp.content_type == "application/json"
    image = resp.json
    assert UUID.match(image["id"])
    assert resp.headers["Location"].endswith("/v2/images/%s" % image["id"])
    assert image["name"] == "plain"
    assert image["status"] == "queued"
    assert image["visibility"] == "shared"
    assert image["protected"] is False
    assert image["os_hidden"] is False
    assert image["min_disk"] == 0 and image["min_ram"] == 0
    assert image["owner"] == pid
    assert image["tags"] == []
    for key in ("size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
                "disk_format", "container_format"):
        assert key in image and image[key] is None, key
    assert image["self"] == "/v2/images/%s" % image["id"]
    assert image["file"] == "/v2/images/%s/file" % image["id"]
    assert image["schema"] == "/v2/schemas/image"
    assert TIMESTAMP.match(image["created_at"]) and TIMESTAMP.match(image["updated_at"])
    assert "locations" not in image and "location" not in image
    assert "stores" not in image  # only images with data have stores


def test_create_empty_body_object(api: Api) -> None:
    image = api.create(project())
    assert image["name"] is None
    assert image["status"] == "queued"


def test_create_all_core_attributes(api: Api) -> None:
    pid = project()
    image = api.create(pid, name="full", disk_format="qcow2", container_format="bare",
                       min_disk=10, min_ram=512, protected=True, os_hidden=True,
                       visibility="private", tags=["a", "b"])
    assert image["disk_format"] == "qcow2" and image["container_format"] == "bare"
    assert image["min_disk"] == 10 and image["min_ram"] == 512
    assert image["protected"] is True and image["os_hidden"] is True
    assert image["visibility"] == "private"
    assert sorted(image["tags"]) == ["a", "b"]
    shown = api.show(pid, image["id"])
    for key in ("disk_format", "container_format", "min_disk", "min_ram", "protected",
                "os_hidden", "visibility"):
        assert shown[key] == image[key], key
    assert sorted(shown["tags"]) == ["a", "b"]


def test_create_with_id(api: Api) -> None:
    pid = project()
    image_id = str(uuid.uuid4())
    image = api.create(pid, id=image_id, name="with-id")
    assert image["id"] == image_id
    assert api.show(pid, image_id)["name"] == "with-id"


def test_create_with_duplicate_id_is_409(api: Api) -> None:
    pid = project()
    image_id = str(uuid.uuid4())
    api.create(pid, id=image_id)
    check_error(api.call("POST", "/v2/images", pid, json_body={"id": image_id}), 409)
    # Another project cannot take the id either.
    check_error(api.call("POST", "/v2/images", project(), json_body={"id": image_id}), 409)


@pytest.mark.parametrize("bad", ["not-a-uuid", "1234", "", 42])
def test_create_with_invalid_id_is_400(api: Api, bad: object) -> None:
    check_error(api.call("POST", "/v2/images", project(), json_body={"id": bad}), 400)


def test_custom_string_properties_are_top_level(api: Api) -> None:
    pid = project()
    image = api.create(pid, name="props", hw_disk_bus="scsi", os_distro="cirros",
                       **{"owner_specified.openstack.md5": "abc"})
    assert image["hw_disk_bus"] == "scsi"
    assert image["os_distro"] == "cirros"
    assert image["owner_specified.openstack.md5"] == "abc"
    assert "properties" not in image
    shown = api.show(pid, image["id"])
    assert shown["hw_disk_bus"] == "scsi" and shown["os_distro"] == "cirros"


@pytest.mark.parametrize("value", [1, 1.5, True, ["a"], {"a": "b"}])
def test_non_string_custom_property_is_400(api: Api, value: object) -> None:
    check_error(api.call("POST", "/v2/images", project(),
                         json_body={"name": "x", "custom": value}), 400)


@pytest.mark.parametrize("attr,value", [
    ("checksum", "d41d8cd98f00b204e9800998ecf8427e"), ("size", 10), ("virtual_size", 10),
    ("status", "active"), ("status", "queued"), ("created_at", "2020-01-01T00:00:00Z"),
    ("updated_at", "2020-01-01T00:00:00Z"), ("os_hash_algo", "sha512"),
    ("os_hash_value", "abc"), ("self", "/v2/images/x"), ("file", "/v2/images/x/file"),
    ("schema", "/v2/schemas/image"), ("direct_url", "file:///x"),
])
def test_read_only_attribute_on_create_is_403(api: Api, attr: str, value: object) -> None:
    pid = project()
    message = check_error(api.call("POST", "/v2/images", pid,
                                   json_body={"name": "ro", attr: value}), 403)
    assert attr in message
    assert api.list_ids(pid) == []


@pytest.mark.parametrize("attr,value", [
    ("locations", []), ("location", "file:///etc/passwd"), ("deleted", "true"),
    ("deleted_at", "2020-01-01T00:00:00Z"),
])
def test_reserved_attribute_on_create_is_403(api: Api, attr: str, value: object) -> None:
    pid = project()
    check_error(api.call("POST", "/v2/images", pid, json_body={"name": "rs", attr: value}),
                403)
    assert api.list_ids(pid) == []


@pytest.mark.parametrize("field,value", [
    ("disk_format", "floppy"), ("container_format", "zip"), ("disk_format", 1),
    ("disk_format", "QCOW2"),
])
def test_unknown_formats_are_400(api: Api, field: str, value: object) -> None:
    check_error(api.call("POST", "/v2/images", project(), json_body={field: value}), 400)


@pytest.mark.parametrize("field,value", [
    ("visibility", "everyone"), ("visibility", None), ("protected", "yes"),
    ("protected", None), ("os_hidden", 1), ("min_disk", -1), ("min_disk", "1"),
    ("min_ram", 1.5), ("min_ram", True), ("tags", "a,b"), ("tags", [1]), ("tags", [None]),
    ("tags", ["x" * 256]), ("name", "n" * 256), ("name", 12),
    ("owner", 12), ("owner", "o" * 256),
])
def test_invalid_core_values_are_400(api: Api, field: str, value: object) -> None:
    check_error(api.call("POST", "/v2/images", project(), json_body={field: value}), 400)


def test_name_of_255_characters_is_fine(api: Api) -> None:
    assert api.create(project(), name="n" * 255)["name"] == "n" * 255


def test_public_by_member_is_403(api: Api) -> None:
    pid = project()
    check_error(api.call("POST", "/v2/images", pid, json_body={"visibility": "public"}), 403)
    assert api.list_ids(pid) == []


def test_public_by_admin_is_201(api: Api) -> None:
    image = api.create(project(), roles="admin,member,reader", visibility="public")
    assert image["visibility"] == "public"


def test_community_by_member_is_201(api: Api) -> None:
    assert api.create(project(), visibility="community")["visibility"] == "community"


@pytest.mark.parametrize("visibility", ["private", "shared"])
def test_private_and_shared_by_member(api: Api, visibility: str) -> None:
    assert api.create(project(), visibility=visibility)["visibility"] == visibility


def test_owner_of_another_project_needs_admin(api: Api) -> None:
    pid, other = project(), project()
    check_error(api.call("POST", "/v2/images", pid, json_body={"owner": other}), 403)
    assert api.create(pid, owner=pid)["owner"] == pid
    image = api.create(pid, roles="admin,member,reader", owner=other)
    assert image["owner"] == other
    assert api.show(other, image["id"])["owner"] == other


def test_reader_cannot_create(api: Api) -> None:
    check_error(api.call("POST", "/v2/images", project(), roles="reader",
                         json_body={"name": "r"}), 403)


@pytest.mark.parametrize("body", [b"{", b"not json", b"{'name': 'x'}", b'{"name": }',
                                  b"\xff\xfe\x00"])
def test_malformed_json_is_400(api: Api, body: bytes) -> None:
    check_error(api.call("POST", "/v2/images", project(), body=body,
                         content_type="application/json"), 400)


@pytest.mark.parametrize("body", [[], "x", 1, None, True, [{"name": "x"}]])
def test_body_not_an_object_is_400(api: Api, body: object) -> None:
    check_error(api.call("POST", "/v2/images", project(), json_body=body), 400)


def test_no_body_is_400(api: Api) -> None:
    check_error(api.call("POST", "/v2/images", project(), content_type="application/json"),
                400)


def test_no_token_is_401(api: Api) -> None:
    check_error(api.call("POST", "/v2/images", None, json_body={"name": unique()}), 401)


def test_tags_are_deduplicated(api: Api) -> None:
    assert sorted(api.create(project(), tags=["a", "a", "b"])["tags"]) == ["a", "b"]


def test_custom_property_name_longer_than_255_is_400(api: Api) -> None:
    check_error(api.call("POST", "/v2/images", project(), json_body={"k" * 256: "v"}), 400)
    assert api.create(project(), **{"k" * 255: "v"})["k" * 255] == "v"


def test_os_glance_namespace_is_reserved(api: Api) -> None:
    pid = project()
    check_error(api.call("POST", "/v2/images", pid,
                         json_body={"os_glance_import_task": "x"}), 403)


def test_create_announces_import_methods(api: Api) -> None:
    resp = api.call("POST", "/v2/images", project(), json_body={}, status=201)
    assert "glance-direct" in resp.headers["OpenStack-image-import-methods"].split(",")


@pytest.mark.parametrize("field", ["min_disk", "min_ram"])
@pytest.mark.parametrize("value", [2 ** 31, 2 ** 63, 2 ** 64], ids=["2^31", "2^63", "2^64"])
def test_huge_min_values_are_400(api: Api, field: str, value: int) -> None:
    resp = api.app.post_json("/v2/images", {field: value}, headers=api.auth(project()),
                             expect_errors=True)
    check_error(resp, 400)
