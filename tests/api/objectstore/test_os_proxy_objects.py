"""Objects through the proxy (real cluster): upload (sized and chunked), download with
ranges and conditions, metadata, expiry headers, deletion, and the upload checks."""
from __future__ import annotations

import hashlib
import http.client
import os
import time
from typing import Any, Iterator
from urllib.parse import urlparse

import pytest

from objectstore.common import backend
from tests.fixtures.objectstore import Cluster, cluster  # noqa: F401

C = "/v1/AUTH_o/c"


def req(cluster: Cluster, method: str, path: str, **kwargs: Any) -> Any:  # noqa: F811
    return cluster.client.request(path, method=method, expect_errors=True, **kwargs)


@pytest.fixture
def box(cluster: Cluster) -> Cluster:  # noqa: F811
    assert req(cluster, "PUT", C).status_int == 201
    return cluster


def copies(cluster: Cluster, name: str) -> int:  # noqa: F811
    """On how many object servers ``name`` is stored (HEAD on every primary)."""
    ring = cluster.proxy.object_ring
    part, nodes = ring.get_nodes("AUTH_o", "c", name)
    found = 0
    for node in nodes:
        resp = backend.node_request(node, part, "HEAD", "/AUTH_o/c/" + name)
        resp.close()
        found += resp.status == 200
    return found


def test_put_get_head_delete(box: Cluster) -> None:
    body = os.urandom(100000)
    resp = req(box, "PUT", C + "/data.bin", body=body,
               headers={"X-Object-Meta-Kind": "test", "Content-Type": "application/x-test"})
    assert resp.status_int == 201
    assert resp.headers["ETag"] == hashlib.md5(body).hexdigest()
    assert resp.headers["Last-Modified"].endswith("GMT")
    assert resp.headers["Content-Length"] == "0"
    assert copies(box, "data.bin") == 3
    resp = req(box, "GET", C + "/data.bin")
    assert resp.status_int == 200 and resp.body == body
    assert resp.headers["Content-Type"] == "application/x-test"
    assert resp.headers["X-Object-Meta-Kind"] == "test"
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert resp.headers["ETag"] == hashlib.md5(body).hexdigest()
    assert not [h for h in resp.headers if h.lower().startswith("x-backend-")]
    resp = req(box, "HEAD", C + "/data.bin")
    assert resp.status_int == 200 and resp.headers["Content-Length"] == "100000"
    assert resp.body == b""
    listing = req(box, "GET", C + "?format=json").json
    assert listing[0]["name"] == "data.bin" and listing[0]["bytes"] == 100000
    assert req(box, "DELETE", C + "/data.bin").status_int == 204
    assert req(box, "GET", C + "/data.bin").status_int == 404
    assert req(box, "DELETE", C + "/data.bin").status_int == 404
    assert copies(box, "data.bin") == 0


def test_content_type_is_guessed(box: Cluster) -> None:
    req(box, "PUT", C + "/page.html", body=b"<p>")
    assert req(box, "HEAD", C + "/page.html").headers["Content-Type"] == "text/html"
    req(box, "PUT", C + "/blob", body=b"x")
    assert req(box, "HEAD", C + "/blob").headers["Content-Type"] == "application/octet-stream"
    req(box, "PUT", C + "/pic.png", body=b"x",
        headers={"Content-Type": "text/plain", "X-Detect-Content-Type": "true"})
    assert req(box, "HEAD", C + "/pic.png").headers["Content-Type"] == "image/png"


def test_ranges_and_conditions_pass_through(box: Cluster) -> None:
    etag = req(box, "PUT", C + "/r", body=b"0123456789").headers["ETag"]
    resp = req(box, "GET", C + "/r", headers={"Range": "bytes=2-4"})
    assert resp.status_int == 206 and resp.body == b"234"
    assert resp.headers["Content-Range"] == "bytes 2-4/10"
    assert req(box, "GET", C + "/r", headers={"Range": "bytes=20-30"}).status_int == 416
    assert req(box, "GET", C + "/r", headers={"If-None-Match": etag}).status_int == 304
    assert req(box, "GET", C + "/r", headers={"If-Match": "nope"}).status_int == 412
    assert req(box, "GET", C + "/r", headers={"If-Match": etag}).status_int == 200


def test_post_replaces_metadata(box: Cluster) -> None:
    req(box, "PUT", C + "/m", body=b"x", headers={"X-Object-Meta-A": "1"})
    resp = req(box, "POST", C + "/m", headers={"X-Object-Meta-B": "2"})
    assert resp.status_int == 202
    assert resp.body == (b"<html><h1>Accepted</h1><p>The request is accepted for "
                         b"processing.</p></html>")
    headers = req(box, "HEAD", C + "/m").headers
    assert headers["X-Object-Meta-B"] == "2" and "X-Object-Meta-A" not in headers
    assert req(box, "POST", C + "/missing").status_int == 404


def test_upload_checks(box: Cluster) -> None:
    resp = req(box, "PUT", C + "/e", body=b"abc", headers={"ETag": "0" * 32})
    assert resp.status_int == 422
    assert req(box, "GET", C + "/e").status_int == 404
    resp = req(box, "PUT", C + "/e", body=b"abc",
               headers={"ETag": hashlib.md5(b"abc").hexdigest()})
    assert resp.status_int == 201
    assert req(box, "PUT", "/v1/AUTH_o/nobox/o", body=b"x").status_int == 404
    resp = req(box, "PUT", C + "/m", body=b"x", headers={"X-Object-Meta-" + "n" * 129: "v"})
    assert resp.status_int == 400
    resp = req(box, "PUT", C + "/d", body=b"x", headers={"X-Delete-At": "1000"})
    assert resp.status_int == 400 and b"X-Delete-At in past" in resp.body
    resp = req(box, "PUT", C + "/d", body=b"x", headers={"X-Delete-After": "soon"})
    assert resp.status_int == 400 and b"Non-integer X-Delete-After" in resp.body
    assert req(box, "PUT", C + "/i", body=b"x", headers={"If-None-Match": "*"}).status_int \
        == 201
    assert req(box, "PUT", C + "/i", body=b"y", headers={"If-None-Match": "*"}).status_int \
        == 412
    assert req(box, "GET", C + "/i").body == b"x"


def test_delete_after_sets_delete_at(box: Cluster) -> None:
    before = int(time.time())
    assert req(box, "PUT", C + "/x", body=b"x",
               headers={"X-Delete-After": "100"}).status_int == 201
    delete_at = int(req(box, "HEAD", C + "/x").headers["X-Delete-At"])
    assert before + 100 <= delete_at <= int(time.time()) + 100
    assert req(box, "POST", C + "/x", headers={"X-Delete-After": "-1"}).status_int == 400


def test_max_file_size_is_413(tmp_path: Any) -> None:
    instance = Cluster(tmp_path, conf={"constraints": {"max_file_size": 10}})
    try:
        assert req(instance, "PUT", C).status_int == 201
        assert req(instance, "PUT", C + "/big", body=b"x" * 11).status_int == 413
        assert req(instance, "PUT", C + "/ok", body=b"x" * 10).status_int == 201
    finally:
        instance.stop()


@pytest.fixture
def http_proxy(box: Cluster) -> Iterator[tuple[str, int]]:
    url = urlparse(box.serve_proxy())
    yield url.hostname or "127.0.0.1", url.port or 80


def _raw(address: tuple[str, int], method: str, path: str, headers: dict[str, str],
         chunks: list[bytes] | None = None) -> tuple[int, bytes, Any]:
    conn = http.client.HTTPConnection(*address, timeout=10)
    try:
        conn.putrequest(method, path)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        for chunk in chunks or []:
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if chunks is not None:
            conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.headers
    finally:
        conn.close()


def test_chunked_upload_over_http(http_proxy: tuple[str, int]) -> None:
    chunks = [os.urandom(70000), b"tail", os.urandom(1000)]
    status, _body, headers = _raw(http_proxy, "PUT", C + "/chunked",
                                  {"Transfer-Encoding": "chunked"}, chunks)
    assert status == 201
    whole = b"".join(chunks)
    assert headers["ETag"] == hashlib.md5(whole).hexdigest()
    status, body, headers = _raw(http_proxy, "GET", C + "/chunked", {})
    assert status == 200 and body == whole
    assert headers["Content-Length"] == str(len(whole))


def test_put_without_length_is_411(http_proxy: tuple[str, int]) -> None:
    status, _body, _headers = _raw(http_proxy, "PUT", C + "/nolen", {})
    assert status == 411


def test_quoted_names_round_trip(http_proxy: tuple[str, int], box: Cluster) -> None:
    """Names are unquoted once: ``%2525`` is the object ``%25``."""
    status, _b, _h = _raw(http_proxy, "PUT", C + "/sp%20ace/%C3%A9%2525",
                          {"Transfer-Encoding": "chunked"}, [b"z"])
    assert status == 201
    names = req(box, "GET", C + "?format=json").json
    assert [n["name"] for n in names] == ["sp ace/\u00e9%25"]
    status, body, _h = _raw(http_proxy, "GET", C + "/sp%20ace/%C3%A9%2525", {})
    assert status == 200 and body == b"z"


def test_os_names_with_question_marks_and_percent(cluster: Cluster) -> None:  # noqa: F811
    """A container named ``q?x %#`` works like any other: its info sub-request
    must not take ``?`` for the start of a query string."""
    path = "/v1/AUTH_o/q%3Fx%20%25%23"
    assert req(cluster, "PUT", path).status_int == 201
    resp = req(cluster, "PUT", path + "/o%3F1", body=b"data")
    assert resp.status_int == 201
    assert req(cluster, "GET", path + "/o%3F1").body == b"data"
    listing = req(cluster, "GET", path, headers={"Accept": "application/json"}).json
    assert [o["name"] for o in listing] == ["o?1"]


def test_os_container_info_of_a_name_with_a_question_mark() -> None:
    """The info sub-request of the quota/versioning filters HEADs the whole name."""
    import webob

    from objectstore.proxy import info

    seen: list[tuple[str, str]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append((environ["PATH_INFO"], environ["QUERY_STRING"]))
        start_response("204 No Content", [("X-Container-Object-Count", "3")])
        return []

    env = webob.Request.blank("/v1/AUTH_o/q%3Fx%20%25/obj").environ
    found = info.get_container_info(env, app)
    assert found["status"] == 204 and found["object_count"] == 3
    assert seen == [(info.to_wsgi_str("/v1/AUTH_o/q?x %"), "")]
