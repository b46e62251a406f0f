"""Static large objects: manifest PUT and its checks, GET/HEAD/ranges of the whole,
nested manifests, manifest GET, and multipart-manifest=delete (against FakeSwift)."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterator

import pytest
import webob

from objectstore.common import ranges, registry
from objectstore.middleware import dlo, slo
from tests.unit.objectstore.os_fake_swift import FakeSwift, acl_authorize


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@pytest.fixture
def fake() -> FakeSwift:
    fake = FakeSwift()
    fake.add_container("a", "c")
    fake.add_container("a", "segs")
    fake.add_object("a", "segs", "one", b"aaaaa")
    fake.add_object("a", "segs", "two", b"bbb")
    fake.add_object("a", "segs", "three", b"cccc")
    return fake


@pytest.fixture
def clean_registry() -> Iterator[None]:
    """An empty /info registry for the test, the previous one restored after it."""
    saved = registry.get_swift_info()
    registry.reset()
    yield
    registry.reset()
    for name, settings in saved.items():
        registry.register_swift_info(name, **settings)


def call(app: Any, path: str, method: str = "GET", body: Any = None,
         headers: dict[str, str] | None = None, **environ: Any) -> webob.Response:
    req = webob.Request.blank(path, method=method, headers=headers or {}, **environ)
    if body is not None:
        req.body = body if isinstance(body, bytes) else json.dumps(body).encode()
    return req.get_response(app)


def make(fake: FakeSwift, **conf: Any) -> Any:
    return slo.filter_factory({}, **conf)(fake)


def put_manifest(app: Any, name: str, segs: list[dict[str, Any]], **headers: str
                 ) -> webob.Response:
    return call(app, "/v1/a/c/%s?multipart-manifest=put" % name, "PUT", segs, headers)


SEGS = [{"path": "/segs/one", "etag": md5(b"aaaaa"), "size_bytes": 5},
        {"path": "segs/two", "etag": None, "size_bytes": None},
        {"path": "/segs/three"}]
WHOLE = b"aaaaabbbcccc"
SLO_ETAG = md5((md5(b"aaaaa") + md5(b"bbb") + md5(b"cccc")).encode())


def test_put_stores_manifest_with_sysmeta(fake: FakeSwift) -> None:
    app = make(fake)
    resp = put_manifest(app, "big", SEGS, **{"Content-Type": "video/mp4",
                                             "X-Object-Meta-Color": "blue"})
    assert resp.status_int == 201
    assert resp.headers["ETag"] == '"%s"' % SLO_ETAG
    stored = fake.objects[("a", "c", "big")]
    assert stored.headers["x-static-large-object"] == "True"
    assert stored.headers["x-object-sysmeta-slo-etag"] == SLO_ETAG
    assert stored.headers["x-object-sysmeta-slo-size"] == "12"
    assert stored.headers["content-type"] == "video/mp4"
    assert stored.headers["x-object-meta-color"] == "blue"
    entries = json.loads(stored.body)
    assert [(e["name"], e["hash"], e["bytes"]) for e in entries] == [
        ("/segs/one", md5(b"aaaaa"), 5), ("/segs/two", md5(b"bbb"), 3),
        ("/segs/three", md5(b"cccc"), 4)]
    assert all(e["content_type"] == "application/octet-stream" for e in entries)
    # the segments were checked by HEAD, tagged as SLO subrequests
    heads = [c for c in fake.calls_of("HEAD") if c.path.startswith("/v1/a/segs/")]
    assert len(heads) == 3 and {c.source for c in heads} == {"SLO"}


def test_put_reports_every_bad_segment(fake: FakeSwift) -> None:
    app = make(fake, min_segment_size="4")
    resp = put_manifest(app, "big", [
        {"path": "/segs/missing"},
        {"path": "/segs/one", "etag": md5(b"nope")},
        {"path": "/segs/three", "size_bytes": 99},
        {"path": "/segs/two"},           # 3 bytes, not last: too small
        {"path": "/segs/one"}])
    assert resp.status_int == 400
    lines = resp.text.splitlines()
    assert lines[0] == "Errors:"
    assert "/segs/missing, 404 Not Found" in lines
    assert "/segs/one, Etag Mismatch" in lines
    assert "/segs/three, Size Mismatch" in lines
    assert any(line.startswith("/segs/two, Too small") for line in lines)
    assert ("a", "c", "big") not in fake.objects


@pytest.mark.parametrize("body,status", [
    (b"not json", 400),
    ([], 400),
    ([{"path": "nocontainer"}], 400),
    ([{"path": "/segs/one", "bogus": 1}], 400),
    ([{"path": "/segs/one", "range": "x-y"}], 400),
    ([{"path": "/segs/one"}, {"path": "/segs/two"}, {"path": "/segs/three"}], 413),
])
def test_put_rejects_bad_manifests(fake: FakeSwift, body: Any, status: int) -> None:
    app = make(fake, max_manifest_segments="2")
    resp = call(app, "/v1/a/c/big?multipart-manifest=put", "PUT", body)
    assert resp.status_int == status
    assert ("a", "c", "big") not in fake.objects


def test_put_limits_and_reserved_header(fake: FakeSwift) -> None:
    app = make(fake, max_manifest_size="20")
    assert put_manifest(app, "big", SEGS).status_int == 413
    app = make(fake)
    resp = call(app, "/v1/a/c/plain", "PUT", b"x", {"X-Static-Large-Object": "true"})
    assert resp.status_int == 400
    assert put_manifest(app, "big", SEGS, ETag=md5(b"other")).status_int == 422
    assert put_manifest(app, "big", SEGS, ETag=SLO_ETAG).status_int == 201
    resp = put_manifest(app, "self", [{"path": "/c/self"}])
    assert resp.status_int == 400 and "itself" in resp.text


def test_get_and_head_of_manifest(fake: FakeSwift) -> None:
    app = make(fake)
    put_manifest(app, "big", SEGS, **{"Content-Type": "video/mp4"})
    resp = call(app, "/v1/a/c/big")
    assert resp.status_int == 200
    assert resp.body == WHOLE
    assert resp.content_length == 12
    assert resp.headers["ETag"] == '"%s"' % SLO_ETAG
    assert resp.headers["Content-Type"] == "video/mp4"
    assert resp.headers["X-Static-Large-Object"] == "True"
    assert not any(h.lower().startswith("x-object-sysmeta-slo") for h in resp.headers)
    seg_gets = [c for c in fake.calls_of("GET") if c.path.startswith("/v1/a/segs/")]
    assert {c.source for c in seg_gets} == {"SLO"}

    fake.calls.clear()
    resp = call(app, "/v1/a/c/big", "HEAD")
    assert resp.status_int == 200
    assert resp.content_length == 12
    assert resp.headers["ETag"] == '"%s"' % SLO_ETAG
    assert resp.body == b""
    assert [c.path for c in fake.calls] == ["/v1/a/c/big"]  # sysmeta: no segment reads


def test_plain_objects_pass_through(fake: FakeSwift) -> None:
    app = make(fake)
    resp = call(app, "/v1/a/segs/one", headers={"Range": "bytes=1-2"})
    assert resp.status_int == 206 and resp.body == b"aa"
    assert resp.headers["ETag"] == md5(b"aaaaa")


@pytest.mark.parametrize("header,body,content_range", [
    ("bytes=3-6", b"aabb", "bytes 3-6/12"),
    ("bytes=-3", b"ccc", "bytes 9-11/12"),
    ("bytes=7-", b"bcccc", "bytes 7-11/12"),
    ("bytes=0-0", b"a", "bytes 0-0/12"),
])
def test_single_ranges(fake: FakeSwift, header: str, body: bytes, content_range: str) -> None:
    app = make(fake)
    put_manifest(app, "big", SEGS)
    resp = call(app, "/v1/a/c/big", headers={"Range": header})
    assert resp.status_int == 206
    assert resp.body == body
    assert resp.headers["Content-Range"] == content_range
    assert resp.content_length == len(body)


def test_multiple_ranges_and_unsatisfiable(fake: FakeSwift) -> None:
    app = make(fake)
    put_manifest(app, "big", SEGS, **{"Content-Type": "text/plain"})
    resp = call(app, "/v1/a/c/big", headers={"Range": "bytes=0-1,6-9"})
    assert resp.status_int == 206
    ctype = resp.headers["Content-Type"]
    assert ctype.startswith("multipart/byteranges; boundary=")
    assert resp.content_length == len(resp.body)
    parts = ranges.split_multipart_byteranges(resp.body, ctype.split("boundary=")[1])
    assert parts == [(0, 2, 12, b"aa"), (6, 10, 12, b"bbcc")]
    resp = call(app, "/v1/a/c/big", headers={"Range": "bytes=50-60"})
    assert resp.status_int == 416
    assert resp.headers["Content-Range"] == "bytes */12"


def test_segment_ranges(fake: FakeSwift) -> None:
    app = make(fake)
    resp = put_manifest(app, "ranged", [{"path": "/segs/one", "range": "1-2"},
                                        {"path": "/segs/three", "range": "-2"}])
    assert resp.status_int == 201
    entries = json.loads(fake.objects[("a", "c", "ranged")].body)
    assert [e.get("range") for e in entries] == ["1-2", "2-3"]
    resp = call(app, "/v1/a/c/ranged")
    assert resp.body == b"aacc"
    expected = md5(("%s:1-2;%s:2-3;" % (md5(b"aaaaa"), md5(b"cccc"))).encode())
    assert resp.headers["ETag"] == '"%s"' % expected
    resp = call(app, "/v1/a/c/ranged", headers={"Range": "bytes=1-2"})
    assert resp.body == b"ac"
    resp = put_manifest(app, "bad", [{"path": "/segs/one", "range": "10-20"}])
    assert resp.status_int == 400 and "Unsatisfiable Range" in resp.text


def test_conditional_requests_use_the_slo_etag(fake: FakeSwift) -> None:
    app = make(fake)
    put_manifest(app, "big", SEGS)
    resp = call(app, "/v1/a/c/big", headers={"If-None-Match": '"%s"' % SLO_ETAG})
    assert resp.status_int == 304
    resp = call(app, "/v1/a/c/big", headers={"If-Match": SLO_ETAG})
    assert resp.status_int == 200 and resp.body == WHOLE
    resp = call(app, "/v1/a/c/big", headers={"If-Match": md5(b"other")})
    assert resp.status_int == 412


def test_manifest_get_and_raw(fake: FakeSwift) -> None:
    app = make(fake)
    put_manifest(app, "big", SEGS)
    resp = call(app, "/v1/a/c/big?multipart-manifest=get")
    assert resp.status_int == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["X-Static-Large-Object"] == "True"
    assert [e["name"] for e in resp.json] == ["/segs/one", "/segs/two", "/segs/three"]
    assert set(resp.json[0]) >= {"name", "hash", "bytes", "content_type", "last_modified"}
    raw = call(app, "/v1/a/c/big?multipart-manifest=get&format=raw").json
    assert raw == [{"path": "/segs/one", "etag": md5(b"aaaaa"), "size_bytes": 5},
                   {"path": "/segs/two", "etag": md5(b"bbb"), "size_bytes": 3},
                   {"path": "/segs/three", "etag": md5(b"cccc"), "size_bytes": 4}]
    # the raw form can be PUT again as it is
    assert call(app, "/v1/a/c/copy?multipart-manifest=put", "PUT", raw).status_int == 201
    assert call(app, "/v1/a/c/copy").body == WHOLE


def test_nested_manifests(fake: FakeSwift) -> None:
    app = make(fake)
    assert put_manifest(app, "inner", SEGS[:2]).status_int == 201
    resp = put_manifest(app, "outer", [{"path": "/c/inner"}, {"path": "/segs/three"}])
    assert resp.status_int == 201
    entries = json.loads(fake.objects[("a", "c", "outer")].body)
    inner_etag = md5((md5(b"aaaaa") + md5(b"bbb")).encode())
    assert entries[0]["sub_slo"] is True
    assert (entries[0]["bytes"], entries[0]["hash"]) == (8, inner_etag)
    resp = call(app, "/v1/a/c/outer")
    assert resp.body == WHOLE
    assert resp.headers["ETag"] == '"%s"' % md5((inner_etag + md5(b"cccc")).encode())
    resp = call(app, "/v1/a/c/outer", headers={"Range": "bytes=4-9"})
    assert resp.body == b"abbbcc"


def test_nesting_depth_limit(fake: FakeSwift) -> None:
    app = make(fake)
    put_manifest(app, "m0", [{"path": "/segs/one"}])
    for level in range(1, 12):
        assert put_manifest(app, "m%d" % level,
                            [{"path": "/c/m%d" % (level - 1)}]).status_int == 201
    assert call(app, "/v1/a/c/m10").body == b"aaaaa"   # 10 nested manifests below it
    assert call(app, "/v1/a/c/m11").status_int == 409  # one too many


def test_changed_segments_cut_the_download(fake: FakeSwift) -> None:
    app = make(fake)
    put_manifest(app, "big", SEGS)
    fake.add_object("a", "segs", "two", b"BBB")
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        got.update(status=status, headers=dict(headers))

    body = b"".join(app(webob.Request.blank("/v1/a/c/big").environ, start_response))
    assert got["status"] == "200 OK"
    assert got["headers"]["Content-Length"] == "12"
    assert body == b"aaaaa"        # stops at the changed segment: the client sees it short
    fake.add_object("a", "segs", "one", b"AAAAA")
    assert call(app, "/v1/a/c/big").status_int == 409


def test_segments_are_read_as_the_client(fake: FakeSwift) -> None:
    app = make(fake)
    put_manifest(app, "big", SEGS)
    fake.add_container("a", "c", x_container_read="reader")
    env = {"swift.authorize": acl_authorize, "REMOTE_USER": "reader"}
    assert call(app, "/v1/a/c/big", environ=env).status_int == 409
    fake.add_container("a", "segs", x_container_read="reader")
    assert call(app, "/v1/a/c/big", environ=env).body == WHOLE


def test_delete_manifest_and_segments(fake: FakeSwift) -> None:
    app = make(fake)
    put_manifest(app, "inner", SEGS[:2])
    put_manifest(app, "outer", [{"path": "/c/inner"}, {"path": "/segs/three"}])
    fake.add_object("a", "c", "other", b"keep me")
    resp = call(app, "/v1/a/c/outer?multipart-manifest=delete", "DELETE",
                headers={"Accept": "application/json"})
    assert resp.status_int == 200
    assert resp.json["Number Deleted"] == 5
    assert resp.json["Number Not Found"] == 0
    assert resp.json["Response Status"] == "200 OK"
    assert resp.json["Errors"] == []
    assert set(fake.objects) == {("a", "c", "other")}
    deletes = [c.path for c in fake.calls_of("DELETE")]
    assert deletes[-1] == "/v1/a/c/outer"  # the manifest goes last


def test_delete_text_report_and_missing(fake: FakeSwift) -> None:
    app = make(fake)
    put_manifest(app, "big", SEGS)
    del fake.objects[("a", "segs", "two")]
    resp = call(app, "/v1/a/c/big?multipart-manifest=delete", "DELETE")
    assert resp.status_int == 200
    lines = resp.text.splitlines()
    assert "Number Deleted: 3" in lines and "Number Not Found: 1" in lines
    assert "Response Status: 200 OK" in lines and lines[-1] == "Errors:"
    # a plain DELETE of a manifest only deletes the manifest
    fake.add_object("a", "segs", "one", b"aaaaa")
    put_manifest(app, "small", [{"path": "/segs/one"}])
    assert call(app, "/v1/a/c/small", "DELETE").status_int == 204
    assert ("a", "segs", "one") in fake.objects


@pytest.mark.usefixtures("clean_registry")
def test_info_registration() -> None:
    slo.filter_factory({}, max_manifest_segments="50")
    info = registry.get_swift_info()["slo"]
    assert info["max_manifest_segments"] == 50
    assert info["max_manifest_size"] == 8 * 1024 * 1024
    assert info["min_segment_size"] == 1
    assert "yield_frequency" in info


def test_dynamic_large_object_as_a_segment(fake: FakeSwift) -> None:
    """A DLO segment is read through the DLO filter below SLO, as its whole content."""
    app = slo.filter_factory({})(dlo.filter_factory({})(fake))
    fake.add_object("a", "segs", "d/1", b"xy")
    fake.add_object("a", "segs", "d/2", b"z")
    fake.add_object("a", "segs", "dlo", b"", {"X-Object-Manifest": "segs/d/"})
    resp = put_manifest(app, "mixed", [{"path": "/segs/dlo"}, {"path": "/segs/two"}])
    assert resp.status_int == 201
    assert json.loads(fake.objects[("a", "c", "mixed")].body)[0]["bytes"] == 3
    assert call(app, "/v1/a/c/mixed").body == b"xyzbbb"
    assert call(app, "/v1/a/c/mixed", headers={"Range": "bytes=1-3"}).body == b"yzb"
