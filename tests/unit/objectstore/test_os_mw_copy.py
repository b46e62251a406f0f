"""Server-side copy: COPY/Destination and PUT/X-Copy-From, metadata rules, errors,
authorization of both sides, and copies of large objects (against FakeSwift)."""
from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import webob

from objectstore.middleware import copy, dlo, slo
from tests.unit.objectstore.os_fake_swift import FakeSwift, acl_authorize


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@pytest.fixture
def fake() -> FakeSwift:
    fake = FakeSwift()
    fake.add_container("a", "c")
    fake.add_container("a", "c2")
    fake.add_container("b", "other")
    fake.add_object("a", "c", "src", b"source body", {
        "Content-Type": "text/plain", "X-Object-Meta-Color": "red",
        "X-Object-Meta-Shape": "round", "X-Object-Sysmeta-Owner": "sys",
        "Content-Disposition": "inline"})
    return fake


def call(app: Any, path: str, method: str = "GET", headers: dict[str, str] | None = None,
         body: bytes | None = None, **environ: Any) -> webob.Response:
    req = webob.Request.blank(path, method=method, headers=headers or {}, **environ)
    if body is not None:
        req.body = body
    return req.get_response(app)


def make(fake: FakeSwift) -> Any:
    return copy.filter_factory({})(fake)


def test_put_with_copy_from(fake: FakeSwift) -> None:
    resp = call(make(fake), "/v1/a/c2/dst", "PUT", {"X-Copy-From": "c/src",
                                                     "Content-Length": "0"})
    assert resp.status_int == 201
    assert resp.headers["X-Copied-From"] == "c/src"
    assert resp.headers["X-Copied-From-Account"] == "a"
    assert resp.headers["X-Copied-From-Last-Modified"]
    dst = fake.objects[("a", "c2", "dst")]
    assert dst.body == b"source body"
    assert dst.headers["content-type"] == "text/plain"
    assert dst.headers["x-object-meta-color"] == "red"
    assert dst.headers["x-object-sysmeta-owner"] == "sys"
    assert dst.headers["content-disposition"] == "inline"
    get, put = fake.calls[-2:]
    assert (get.method, get.path, get.source) == ("GET", "/v1/a/c/src", "COPY")
    assert (put.method, put.path, put.source) == ("PUT", "/v1/a/c2/dst", "COPY")
    assert put.headers["Etag"] == md5(b"source body")  # the destination verifies the bytes
    assert "X-Copy-From" not in put.headers


def test_request_headers_win(fake: FakeSwift) -> None:
    resp = call(make(fake), "/v1/a/c/src", "COPY", {
        "Destination": "/c2/dst", "X-Object-Meta-Color": "blue",
        "X-Object-Meta-New": "yes", "Content-Type": "application/x-thing"})
    assert resp.status_int == 201
    dst = fake.objects[("a", "c2", "dst")].headers
    assert dst["x-object-meta-color"] == "blue"
    assert dst["x-object-meta-shape"] == "round"
    assert dst["x-object-meta-new"] == "yes"
    assert dst["content-type"] == "application/x-thing"
    # the answer names the copy's metadata (the source's and the request's)
    assert (resp.headers["X-Object-Meta-Color"], resp.headers["X-Object-Meta-Shape"],
            resp.headers["X-Object-Meta-New"]) == ("blue", "round", "yes")


def test_fresh_metadata_drops_the_sources_metadata(fake: FakeSwift) -> None:
    resp = call(make(fake), "/v1/a/c2/dst", "PUT", {
        "X-Copy-From": "c/src", "X-Fresh-Metadata": "true", "X-Object-Meta-New": "yes"})
    assert resp.status_int == 201
    dst = fake.objects[("a", "c2", "dst")].headers
    assert "x-object-meta-color" not in dst and "x-object-meta-shape" not in dst
    assert "content-disposition" not in dst
    assert dst["x-object-meta-new"] == "yes"
    assert dst["x-object-sysmeta-owner"] == "sys"
    assert dst["content-type"] == "text/plain"


def test_copy_to_and_from_other_accounts(fake: FakeSwift) -> None:
    app = make(fake)
    resp = call(app, "/v1/a/c/src", "COPY", {"Destination": "other/dst",
                                             "Destination-Account": "b"})
    assert resp.status_int == 201
    assert fake.objects[("b", "other", "dst")].body == b"source body"
    resp = call(app, "/v1/a/c/back", "PUT", {"X-Copy-From": "other/dst",
                                             "X-Copy-From-Account": "b"})
    assert resp.status_int == 201
    assert resp.headers["X-Copied-From-Account"] == "b"
    assert fake.objects[("a", "c", "back")].body == b"source body"


def test_quoted_names(fake: FakeSwift) -> None:
    name = "h\u00e9llo?x=1"
    fake.add_object("a", "c", name, b"unicode")
    resp = call(make(fake), "/v1/a/c/h%C3%A9llo%3Fx%3D1", "COPY",
                {"Destination": "c2/w%C3%B6rld%3F"})
    assert resp.status_int == 201
    assert fake.objects[("a", "c2", "w\u00f6rld?")].body == b"unicode"
    assert resp.headers["X-Copied-From"] == "c/h%C3%A9llo%3Fx%3D1"


@pytest.mark.parametrize("method,headers,body,status", [
    ("COPY", {"Destination": "nocontainer"}, None, 412),
    ("COPY", {}, None, 412),
    ("COPY", {"Destination": "c2/x", "Destination-Account": "x/y"}, None, 412),
    ("PUT", {"X-Copy-From": "c"}, None, 412),
    ("PUT", {"X-Copy-From": "c/src"}, b"data", 400),
    ("PUT", {"X-Copy-From": "c/missing"}, None, 404),
])
def test_errors(fake: FakeSwift, method: str, headers: dict[str, str], body: bytes | None,
                status: int) -> None:
    path = "/v1/a/c/src" if method == "COPY" else "/v1/a/c2/dst"
    resp = call(make(fake), path, method, headers, body)
    assert resp.status_int == status
    assert ("a", "c2", "dst") not in fake.objects
    assert ("a", "c2", "x") not in fake.objects


def test_missing_destination_container(fake: FakeSwift) -> None:
    resp = call(make(fake), "/v1/a/c/src", "COPY", {"Destination": "nosuch/dst"})
    assert resp.status_int == 404


def test_both_sides_are_authorized(fake: FakeSwift) -> None:
    app = make(fake)
    env = {"swift.authorize": acl_authorize, "REMOTE_USER": "bob"}
    fake.add_container("a", "c", x_container_read="bob")
    resp = call(app, "/v1/a/c/src", "COPY", {"Destination": "c2/dst"}, environ=env)
    assert resp.status_int == 403                 # no write access on c2
    fake.add_container("a", "c", x_container_read="")
    fake.add_container("a", "c2", x_container_write="bob")
    resp = call(app, "/v1/a/c2/dst", "PUT", {"X-Copy-From": "c/src"}, environ=env)
    assert resp.status_int == 403                 # no read access on the source
    fake.add_container("a", "c", x_container_read="bob")
    fake.add_object("a", "c", "src", b"source body")
    resp = call(app, "/v1/a/c2/dst", "PUT", {"X-Copy-From": "c/src"}, environ=env)
    assert resp.status_int == 201
    assert ("a", "c2", "dst") in fake.objects


def test_other_requests_pass_through(fake: FakeSwift) -> None:
    app = make(fake)
    assert call(app, "/v1/a/c/new", "PUT", body=b"x").status_int == 201
    assert call(app, "/v1/a/c/src").body == b"source body"
    assert [c.source for c in fake.calls] == [None, None]


def _large_object_app(fake: FakeSwift) -> Any:
    """copy -> slo -> dlo -> fake, in the proxy's order."""
    return copy.filter_factory({})(slo.filter_factory({})(dlo.filter_factory({})(fake)))


def test_copy_of_a_static_large_object(fake: FakeSwift) -> None:
    app = _large_object_app(fake)
    fake.add_container("a", "segs")
    fake.add_object("a", "segs", "1", b"abc")
    fake.add_object("a", "segs", "2", b"def")
    resp = call(app, "/v1/a/c/big?multipart-manifest=put", "PUT",
                {"Content-Type": "text/csv", "X-Object-Meta-Kind": "slo"},
                json.dumps([{"path": "segs/1"}, {"path": "segs/2"}]).encode())
    assert resp.status_int == 201
    # whole: the destination is an ordinary object with the content
    resp = call(app, "/v1/a/c/big", "COPY", {"Destination": "c2/flat"})
    assert resp.status_int == 201
    flat = fake.objects[("a", "c2", "flat")]
    assert flat.body == b"abcdef"
    assert "x-static-large-object" not in flat.headers
    assert not any(h.startswith("x-object-sysmeta-slo") for h in flat.headers)
    assert flat.headers["x-object-meta-kind"] == "slo"
    assert flat.headers["content-type"] == "text/csv"
    # manifest: the destination is another manifest of the same segments
    resp = call(app, "/v1/a/c/big?multipart-manifest=get", "COPY",
                {"Destination": "c2/manifest"})
    assert resp.status_int == 201
    copied = fake.objects[("a", "c2", "manifest")]
    assert copied.headers["x-static-large-object"] == "True"
    assert copied.headers["content-type"] == "text/csv"
    assert [e["name"] for e in json.loads(copied.body)] == ["/segs/1", "/segs/2"]
    assert call(app, "/v1/a/c2/manifest").body == b"abcdef"


def test_copy_of_a_dynamic_large_object(fake: FakeSwift) -> None:
    app = _large_object_app(fake)
    fake.add_container("a", "segs")
    fake.add_object("a", "segs", "p/1", b"12")
    fake.add_object("a", "segs", "p/2", b"34")
    fake.add_object("a", "c", "dlo", b"", {"X-Object-Manifest": "segs/p/"})
    assert call(app, "/v1/a/c2/flat", "PUT", {"X-Copy-From": "c/dlo"}).status_int == 201
    flat = fake.objects[("a", "c2", "flat")]
    assert flat.body == b"1234" and "x-object-manifest" not in flat.headers
    resp = call(app, "/v1/a/c2/m?multipart-manifest=get", "PUT", {"X-Copy-From": "c/dlo"})
    assert resp.status_int == 201
    assert fake.objects[("a", "c2", "m")].headers["x-object-manifest"] == "segs/p/"
    assert call(app, "/v1/a/c2/m").body == b"1234"
