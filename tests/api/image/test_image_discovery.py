"""Version discovery, the healthcheck, /v2/schemas/*, /v2/info/* and authentication."""
from __future__ import annotations

import re

from image_api_helpers import REQUEST_ID, Api, check_error, project

CORE_KEYS = ("id", "name", "status", "visibility", "protected", "os_hidden", "checksum",
             "os_hash_algo", "os_hash_value", "size", "virtual_size", "container_format",
             "disk_format", "min_disk", "min_ram", "owner", "created_at", "updated_at",
             "tags", "self", "file", "schema")


def _check_versions(body: dict[str, object]) -> None:
    versions = body["versions"]
    assert isinstance(versions, list) and versions
    ids = []
    for entry in versions:
        assert isinstance(entry, dict)
        assert re.match(r"^v2\.\d+$", entry["id"]), entry
        assert entry["status"] in ("CURRENT", "SUPPORTED", "DEPRECATED"), entry
        assert {"rel": "self", "href": "http://localhost/v2/"} in entry["links"], entry
        ids.append(entry["id"])
    assert [v["status"] for v in versions].count("CURRENT") == 1
    assert "v2.0" in ids
    current = next(v for v in versions if v["status"] == "CURRENT")
    # The CURRENT version is the newest minor version.
    assert int(current["id"].split(".")[1]) == max(int(i.split(".")[1]) for i in ids)


def test_root_lists_versions_with_300(api: Api) -> None:
    resp = api.call("GET", "/", None, status=300)
    assert resp.content_type == "application/json"
    _check_versions(resp.json)


def test_versions_path_answers_200(api: Api) -> None:
    resp = api.call("GET", "/versions", None)
    assert resp.status_int == 200


def test_versions_path_lists_versions(api: Api) -> None:
    resp = api.call("GET", "/versions", None)
    assert resp.status_int in (200, 300)
    _check_versions(resp.json)


def test_discovery_needs_no_token_but_api_does(api: Api) -> None:
    api.call("GET", "/", None, status=300)
    resp = api.call("GET", "/v2/images", None, status=401)
    check_error(resp, 401)
    api.call("POST", "/v2/images", None, json_body={"name": "x"}, status=401)
    api.call("GET", "/v2/schemas/image", None, status=401)


def test_healthcheck_needs_no_token(api: Api) -> None:
    resp = api.app.get("/healthcheck", status=200)
    assert resp.text.strip() == "OK"


def test_request_id_on_every_response(api: Api) -> None:
    pid = project()
    for resp in (api.app.get("/", status=300), api.app.get("/healthcheck"),
                 api.app.get("/v2/images", headers=api.auth(pid)),
                 api.app.get("/v2/images/nope", headers=api.auth(pid), status=404),
                 api.app.get("/v2/images", status=401)):
        assert REQUEST_ID.match(resp.headers.get("X-OpenStack-Request-ID", "")), resp.status


def test_unknown_path_is_glance_404(api: Api) -> None:
    check_error(api.call("GET", "/v2/nothing-here", project()), 404)


def test_wrong_method_is_405(api: Api) -> None:
    check_error(api.call("PUT", "/v2/images", project(), json_body={}), 405)


# -- schemas --------------------------------------------------------------------------

def test_image_schema(api: Api) -> None:
    body = api.call("GET", "/v2/schemas/image", project(), status=200).json
    assert body["name"] == "image"
    for key in CORE_KEYS:
        assert key in body["properties"], key
    assert body["additionalProperties"] == {"type": "string"}
    assert "qcow2" in body["properties"]["disk_format"]["enum"]
    assert "bare" in body["properties"]["container_format"]["enum"]
    assert set(body["properties"]["visibility"]["enum"]) == {"public", "private", "shared",
                                                             "community"}
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert rels == {"self": "{self}", "enclosure": "{file}", "describedby": "{schema}"}


def test_images_schema(api: Api) -> None:
    body = api.call("GET", "/v2/schemas/images", project(), status=200).json
    assert body["name"] == "images"
    assert body["properties"]["images"]["items"]["name"] == "image"
    for key in ("first", "next", "schema"):
        assert key in body["properties"]
    rels = {link["rel"] for link in body["links"]}
    assert {"first", "next", "describedby"} <= rels


def test_member_schemas(api: Api) -> None:
    member = api.call("GET", "/v2/schemas/member", project(), status=200).json
    assert member["name"] == "member"
    assert set(member["properties"]["status"]["enum"]) == {"pending", "accepted",
                                                           "rejected"}
    for key in ("image_id", "member_id", "created_at", "updated_at", "schema"):
        assert key in member["properties"]
    members = api.call("GET", "/v2/schemas/members", project(), status=200).json
    assert members["name"] == "members"
    assert members["properties"]["members"]["items"]["name"] == "member"


# -- info -----------------------------------------------------------------------------

def test_import_info_lists_glance_direct(api: Api) -> None:
    body = api.call("GET", "/v2/info/import", project(), status=200).json
    assert "glance-direct" in body["import-methods"]["value"]


def test_stores_info_has_a_default_store(api: Api) -> None:
    stores = api.call("GET", "/v2/info/stores", project(), status=200).json["stores"]
    assert stores
    defaults = [s for s in stores if s.get("default")]
    assert len(defaults) == 1
    assert all(isinstance(s["id"], str) and s["id"] for s in stores)
