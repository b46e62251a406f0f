"""Dynamic large objects: GET/HEAD concatenation, ETag, ranges, paginated listings,
manifest GET and the X-Object-Manifest check on PUT (against FakeSwift)."""
from __future__ import annotations

import hashlib
from typing import Any, Iterator

import pytest
import webob

from objectstore.common import ranges, registry
from objectstore.middleware import dlo
from tests.unit.objectstore.os_fake_swift import FakeSwift, acl_authorize


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


PARTS = [b"0123", b"45", b"6789a"]
WHOLE = b"".join(PARTS)
ETAG = md5("".join(md5(p) for p in PARTS).encode())


@pytest.fixture
def fake() -> FakeSwift:
    fake = FakeSwift()
    fake.add_container("a", "c")
    fake.add_container("a", "segs")
    for index, part in enumerate(PARTS):
        fake.add_object("a", "segs", "big/%03d" % index, part)
    fake.add_object("a", "segs", "bigger", b"not mine")  # outside the prefix "big/"
    fake.add_object("a", "c", "big", b"", {"X-Object-Manifest": "segs/big/",
                                           "Content-Type": "text/plain"})
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


def call(app: Any, path: str, method: str = "GET", headers: dict[str, str] | None = None,
         **environ: Any) -> webob.Response:
    return webob.Request.blank(path, method=method, headers=headers or {},
                               **environ).get_response(app)


def make(fake: FakeSwift, **conf: Any) -> Any:
    return dlo.filter_factory({}, **conf)(fake)


def test_get_concatenates_segments(fake: FakeSwift) -> None:
    resp = call(make(fake), "/v1/a/c/big")
    assert resp.status_int == 200
    assert resp.body == WHOLE
    assert resp.content_length == len(WHOLE)
    assert resp.headers["ETag"] == '"%s"' % ETAG
    assert resp.headers["X-Object-Manifest"] == "segs/big/"
    assert resp.headers["Content-Type"].startswith("text/plain")
    listing = [c for c in fake.calls if c.path == "/v1/a/segs" and c.method == "GET"]
    assert listing and {c.source for c in listing} == {"DLO"}
    assert "prefix=big/" in listing[0].query.replace("%2F", "/")


def test_head_has_total_and_etag_without_reading_segments(fake: FakeSwift) -> None:
    resp = call(make(fake), "/v1/a/c/big", "HEAD")
    assert resp.status_int == 200
    assert resp.content_length == len(WHOLE)
    assert resp.headers["ETag"] == '"%s"' % ETAG
    assert not [c for c in fake.calls if c.path.startswith("/v1/a/segs/")]


@pytest.mark.parametrize("header,body,content_range,reads", [
    ("bytes=3-6", b"3456", "bytes 3-6/11", 3),
    ("bytes=-2", b"9a", "bytes 9-10/11", 1),
    ("bytes=4-", b"456789a", "bytes 4-10/11", 2),
])
def test_ranges(fake: FakeSwift, header: str, body: bytes, content_range: str,
                reads: int) -> None:
    resp = call(make(fake), "/v1/a/c/big", headers={"Range": header})
    assert resp.status_int == 206
    assert resp.body == body
    assert resp.headers["Content-Range"] == content_range
    # only the segments holding the range were read
    assert len([c for c in fake.calls if c.path.startswith("/v1/a/segs/")]) == reads


def test_multi_range_and_unsatisfiable(fake: FakeSwift) -> None:
    app = make(fake)
    resp = call(app, "/v1/a/c/big", headers={"Range": "bytes=0-0,10-10"})
    assert resp.status_int == 206
    boundary = resp.headers["Content-Type"].split("boundary=")[1]
    assert ranges.split_multipart_byteranges(resp.body, boundary) == [
        (0, 1, 11, b"0"), (10, 11, 11, b"a")]
    resp = call(app, "/v1/a/c/big", headers={"Range": "bytes=20-"})
    assert resp.status_int == 416


def test_listing_is_paginated(fake: FakeSwift) -> None:
    fake.listing_limit = 2
    resp = call(make(fake), "/v1/a/c/big")
    assert resp.body == WHOLE
    listing = [c for c in fake.calls if c.path == "/v1/a/segs"]
    assert len(listing) == 3  # 2 + 1 + an empty page


def test_too_many_segments(fake: FakeSwift) -> None:
    assert call(make(fake, max_segments="2"), "/v1/a/c/big").status_int == 409


def test_manifest_get_returns_the_manifest(fake: FakeSwift) -> None:
    resp = call(make(fake), "/v1/a/c/big?multipart-manifest=get")
    assert resp.status_int == 200
    assert resp.body == b""
    assert resp.headers["X-Object-Manifest"] == "segs/big/"


def test_empty_prefix_and_missing_container(fake: FakeSwift) -> None:
    fake.add_object("a", "c", "none", b"", {"X-Object-Manifest": "segs/nothing-here"})
    resp = call(make(fake), "/v1/a/c/none")
    assert resp.status_int == 200 and resp.body == b""
    assert resp.headers["ETag"] == '"%s"' % md5(b"")
    fake.add_object("a", "c", "gone", b"", {"X-Object-Manifest": "nosuch/x"})
    assert call(make(fake), "/v1/a/c/gone").body == b""


def test_conditional_get(fake: FakeSwift) -> None:
    app = make(fake)
    assert call(app, "/v1/a/c/big", headers={"If-None-Match": ETAG}).status_int == 304
    assert call(app, "/v1/a/c/big", headers={"If-Match": "nope"}).status_int == 412
    resp = call(app, "/v1/a/c/big", headers={"If-Match": '"%s"' % ETAG})
    assert resp.status_int == 200 and resp.body == WHOLE


def test_listing_and_segments_need_the_clients_rights(fake: FakeSwift) -> None:
    app = make(fake)
    fake.add_container("a", "c", x_container_read="reader")
    env = {"swift.authorize": acl_authorize, "REMOTE_USER": "reader"}
    assert call(app, "/v1/a/c/big", environ=env).status_int == 403
    fake.add_container("a", "segs", x_container_read="reader")
    assert call(app, "/v1/a/c/big", environ=env).body == WHOLE


def test_put_checks_the_manifest_header(fake: FakeSwift) -> None:
    app = make(fake)
    for bad in ("nocontainer", "/onlyslash", "segs?x=1"):
        resp = call(app, "/v1/a/c/m", "PUT", {"X-Object-Manifest": bad})
        assert resp.status_int == 400, bad
    resp = call(app, "/v1/a/c/m", "PUT", {"X-Object-Manifest": "segs/big%2F"})
    assert resp.status_int == 201
    assert call(app, "/v1/a/c/m").body == WHOLE


def test_plain_objects_pass_through(fake: FakeSwift) -> None:
    resp = call(make(fake), "/v1/a/segs/big/000", headers={"Range": "bytes=1-1"})
    assert resp.status_int == 206 and resp.body == b"1"
    assert call(make(fake), "/v1/a/c/nope").status_int == 404


@pytest.mark.usefixtures("clean_registry")
def test_info_registration() -> None:
    dlo.filter_factory({})
    assert registry.get_swift_info()["dlo"] == {"max_segments": 10000}
