"""Bad input everywhere: a Glance 4xx in Glance's text format, never a 500.

``Api.call`` already fails on a 500 and checks the error format and the request
id; these tests throw odd bodies, paths and query strings at every route.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from image_api_helpers import PATCH_TYPE, Api, check_error, project

WEIRD_JSON: list[Any] = [[], "x", 1, 1.5, None, True, {}, [[[]]], {"a": {"b": {"c": {}}}},
                         "\u0000", {"\u0000": "\u0000"}, ["x" * 300], {"name": ["x"]},
                         {"name": {"x": 1}}, {"": ""}, {"tags": [None]}, {"tags": {}},
                         {"name": "x" * 100000}]
WEIRD_RAW: list[bytes] = [b"", b"{", b"}", b"[1,", b"nul", b"\xff\xfe\xfd", b"\x00" * 10,
                          b'{"a": 1} trailing', b'"unterminated', b"NaN"]


@pytest.fixture(scope="module")
def target(api: Api) -> dict[str, str]:
    """A shared image with a member, owned by ``owner``."""
    owner, member = project(), project()
    image_id = api.create(owner, name="target", disk_format="raw",
                          container_format="bare")["id"]
    api.add_member(owner, image_id, member)
    return {"owner": owner, "member": member, "image": image_id}


def _routes(t: dict[str, str]) -> list[tuple[str, str, str, str | None]]:
    """(method, path, caller, content type) of every route that takes a body."""
    image = "/v2/images/" + t["image"]
    return [
        ("POST", "/v2/images", t["owner"], "application/json"),
        ("PATCH", image, t["owner"], PATCH_TYPE),
        ("POST", image + "/members", t["owner"], "application/json"),
        ("PUT", image + "/members/" + t["member"], t["member"], "application/json"),
        ("POST", image + "/import", t["owner"], "application/json"),
        ("POST", image + "/actions/deactivate", t["owner"], "application/json"),
    ]


@pytest.mark.parametrize("body", WEIRD_JSON, ids=lambda b: repr(b)[:30])
def test_weird_json_bodies_never_500(api: Api, target: dict[str, str], body: Any) -> None:
    for method, path, caller, ctype in _routes(target):
        # Api.call fails on a 500 and checks the format of any error.
        api.call(method, path, caller, body=json.dumps(body), content_type=ctype)
    assert api.show(target["owner"], target["image"])["status"] == "queued"


@pytest.mark.parametrize("body", WEIRD_RAW, ids=lambda b: repr(b)[:30])
def test_unparsable_bodies_are_400(api: Api, target: dict[str, str], body: bytes) -> None:
    for method, path, caller, ctype in _routes(target)[:4]:
        resp = api.call(method, path, caller, body=body, content_type=ctype)
        check_error(resp, 400)
    assert api.show(target["owner"], target["image"])["name"] == "target"


def test_nested_json_is_400(api: Api, target: dict[str, str]) -> None:
    body = b"[" * 100 + b"]" * 100
    for method, path, caller, ctype in _routes(target)[:4]:
        check_error(api.call(method, path, caller, body=body, content_type=ctype), 400)


@pytest.mark.parametrize("route", range(4), ids=["create", "patch", "add-member",
                                                 "member-status"])
def test_deeply_nested_json_is_400(api: Api, target: dict[str, str], route: int) -> None:
    method, path, caller, ctype = _routes(target)[route]
    body = b"[" * 50000 + b"]" * 50000
    resp = api.app.request(path, method=method, body=body, expect_errors=True,
                           headers=dict(api.auth(caller), **{"Content-Type": ctype or ""}))
    check_error(resp, 400)


def test_lone_surrogate_is_400(api: Api) -> None:
    resp = api.app.request("/v2/images", method="POST", body=b'{"name": "\\ud800"}',
                           expect_errors=True, headers=dict(api.auth(project()), **{
                               "Content-Type": "application/json"}))
    check_error(resp, 400)


def test_deeply_nested_object_is_400(api: Api) -> None:
    body = b'{"name": ' + b'{"a": ' * 500 + b"1" + b"}" * 500 + b"}"
    check_error(api.call("POST", "/v2/images", project(), body=body,
                         content_type="application/json"), 400)


def test_empty_property_name_is_400(api: Api) -> None:
    check_error(api.call("POST", "/v2/images", project(), json_body={"": "x"}), 400)


def test_body_over_the_size_limit_is_413(api: Api) -> None:
    body = json.dumps({"name": "x", "big": "y" * 200000})
    check_error(api.call("POST", "/v2/images", project(), body=body,
                         content_type="application/json"), 413)


@pytest.mark.parametrize("name", ["n" * 256, "é" * 256, "n" * 10000])
def test_long_names_are_400(api: Api, name: str) -> None:
    check_error(api.call("POST", "/v2/images", project(), json_body={"name": name}), 400)


def test_unicode_is_kept(api: Api) -> None:
    owner = project()
    # (No 4-byte characters: Glance refuses them, for MySQL's sake.)
    image = api.create(owner, name="名前-ñ", note="ünïcödé")
    shown = api.show(owner, image["id"])
    assert shown["name"] == "名前-ñ" and shown["note"] == "ünïcödé"
    assert api.list_ids(owner, "name=%E5%90%8D%E5%89%8D-%C3%B1") == [image["id"]]


@pytest.mark.parametrize("path", [
    "/v2/images/%00", "/v2/images/" + "a" * 5000, "/v2/images/..%2f..", "/v2//images",
    "/v2/images/%", "/v2/schemas/nope", "/v3/images", "/v2/images/x/y/z/w",
    "/v2/images/%c3%a9", "/v2/images/x/tags/%e2%82%ac",
])
@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
def test_weird_paths_never_500(api: Api, path: str, method: str) -> None:
    resp = api.call(method, path, project())
    assert resp.status_int in (400, 404, 405), resp.status


@pytest.mark.parametrize("path", ["/v2/images/%ff", "/v2/images/x/members/%ff",
                                  "/v2/images/x/tags/%ff", "/v2/images/%ff/file"])
def test_non_utf8_paths_never_500(api: Api, path: str) -> None:
    resp = api.app.request(path, headers=api.auth(project()), expect_errors=True)
    assert resp.status_int in (400, 404), resp.status


@pytest.mark.parametrize("query", ["name=%ff", "%ff=x", "limit=%ff", "marker=%ff",
                                   "sort=%ff"])
def test_non_utf8_queries_never_500(api: Api, query: str) -> None:
    resp = api.app.request("/v2/images?" + query, headers=api.auth(project()),
                           expect_errors=True)
    assert resp.status_int in (200, 400), resp.status


@pytest.mark.parametrize("query", ["size_min=99999999999999999999999",
                                   "size_max=99999999999999999999999"])
def test_huge_size_filter_never_500(api: Api, query: str) -> None:
    resp = api.app.request("/v2/images?" + query, headers=api.auth(project()),
                           expect_errors=True)
    assert resp.status_int in (200, 400), resp.status


@pytest.mark.parametrize("query", [
    "sort=:", "sort=,", "sort_key=", "sort_dir=", "limit=", "limit=1e3",
    "limit=99999999999999999999999", "size_min=9223372036854775807", "id=in:", "name=in:",
    "name=in:,,,",
    "tag=", "created_at=gt:9999-99-99", "created_at=gt:" + "9" * 50, "visibility=",
    "member_status=", "os_hidden=", "protected=", "owner=" + "o" * 1000,
    "&&&&", "=x", "x" * 3000 + "=y", "status=in:active,queued", "disk_format=in:raw,qcow2",
])
def test_weird_queries_never_500(api: Api, query: str) -> None:
    resp = api.call("GET", "/v2/images?" + query, project())
    assert resp.status_int in (200, 400), resp.status


@pytest.mark.parametrize("ctype", ["application/xml", "multipart/form-data",
                                   "application/x-www-form-urlencoded"])
def test_non_json_content_type_on_create(api: Api, ctype: str) -> None:
    # Glance parses the body as JSON whatever the Content-Type; refusing it is fine too.
    resp = api.call("POST", "/v2/images", project(), body=b'{"name": "x"}', content_type=ctype)
    assert resp.status_int in (201, 400, 415)


@pytest.mark.parametrize("ctype", [None, "application/json; charset=UTF-8"])
def test_create_content_type_variants(api: Api, ctype: str | None) -> None:
    resp = api.call("POST", "/v2/images", project(), body=b'{"name": "x"}', content_type=ctype)
    assert resp.status_int == 201


def test_error_format(api: Api) -> None:
    resp = api.call("GET", "/v2/images/nope", project())
    text = check_error(resp, 404)
    assert resp.text.startswith("404 Not Found\n\n")
    assert "nope" in text
