"""formpost and staticweb on a real in-process cluster behind tempauth: browser form
uploads (streamed, over HTTP too), their limits and expiry, and public containers
served as web sites (index, listings with sub-directories, error pages)."""
from __future__ import annotations

import http.client
import time
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from objectstore.middleware import formpost, staticweb, tempauth, tempurl
from tests.fixtures.objectstore import Cluster

KEY = "form-key"


@pytest.fixture
def cluster(tmp_path: Any) -> Iterator[Cluster]:
    instance = Cluster(tmp_path, filters=[
        tempurl.filter_factory({}), formpost.filter_factory({}),
        tempauth.filter_factory({}, user_test_tester="testing .admin"),
        staticweb.filter_factory({})])
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def auth(cluster: Cluster) -> dict[str, str]:
    resp = cluster.client.get("/auth/v1.0", headers={"X-Auth-User": "test:tester",
                                                     "X-Auth-Key": "testing"})
    return {"X-Auth-Token": resp.headers["X-Auth-Token"]}


def _form(path: str, files: list[tuple[str, bytes]], size: int = 1 << 20, count: int = 5,
          redirect: str = "", expires: int | None = None, extra: dict[str, str] | None = None,
          boundary: str = "--boundary--") -> bytes:
    expires = int(time.time() + 60) if expires is None else expires
    fields = {"redirect": redirect, "max_file_size": str(size), "max_file_count": str(count),
              "expires": str(expires),
              "signature": formpost.sign_form(KEY, path, redirect, size, count, expires,
                                              "sha1")}
    fields.update(extra or {})
    out = []
    for name, value in fields.items():
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                    % (boundary, name, value)).encode())
    for filename, data in files:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"file\"; "
                    "filename=\"%s\"\r\nContent-Type: text/plain\r\n\r\n"
                    % (boundary, filename)).encode() + data + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return b"".join(out)


def _post(cluster: Cluster, path: str, body: bytes, status: int | str = "*") -> Any:
    # TestApp.request sends the body as it is (TestApp.post would re-encode a form).
    return cluster.client.request(path, method="POST", body=body, status=status,
                                  content_type="multipart/form-data; boundary=--boundary--")


@pytest.fixture
def upload_container(cluster: Cluster, auth: dict[str, str]) -> str:
    cluster.client.post("/v1/AUTH_test", headers=dict(auth, **{
        "X-Account-Meta-Temp-URL-Key": KEY}), status=204)
    cluster.client.put("/v1/AUTH_test/up", headers=auth, status=201)
    return "/v1/AUTH_test/up/"


def test_form_upload_and_its_limits(cluster: Cluster, auth: dict[str, str],
                                    upload_container: str) -> None:
    path = upload_container + "pre_"
    resp = _post(cluster, path, _form(path, [("one.txt", b"first"), ("two.txt", b"second")],
                                      extra={"x_delete_after": "3600"}))
    assert resp.status_int == 201
    got = cluster.client.get(path + "one.txt", headers=auth)
    assert got.body == b"first" and got.content_type == "text/plain"
    assert int(got.headers["X-Delete-At"]) > time.time() + 3000
    assert cluster.client.get(path + "two.txt", headers=auth).body == b"second"
    # too large: 400 through the redirect, and nothing half-written is stored
    resp = _post(cluster, path, _form(path, [("big.txt", b"x" * 2000)], size=1000,
                                      redirect="https://example.com/after"))
    assert resp.status_int == 303
    location = urlsplit(resp.headers["Location"])
    assert parse_qs(location.query) == {"status": ["400"],
                                        "message": ["max_file_size exceeded"]}
    cluster.client.head(path + "big.txt", headers=auth, status=404)
    # expired and forged forms
    resp = _post(cluster, path, _form(path, [("late.txt", b"x")],
                                      expires=int(time.time()) - 5), status=401)
    assert "FormPost: Form Expired" in resp.text
    # a form signed for one prefix does not upload under another
    resp = _post(cluster, upload_container + "other_", _form(path, [("f.txt", b"x")]),
                 status=401)
    assert "FormPost: Invalid Signature" in resp.text
    listing = cluster.client.get("/v1/AUTH_test/up", headers=auth).text.split()
    assert listing == ["pre_one.txt", "pre_two.txt"]


def test_form_upload_over_http_streams_large_files(cluster: Cluster, auth: dict[str, str],
                                                  upload_container: str) -> None:
    url = urlsplit(cluster.serve_proxy())
    data = bytes(range(256)) * 4096  # 1 MiB, many reads, boundary-like bytes inside
    body = _form(upload_container, [("blob.bin", data)], size=len(data))
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request("POST", upload_container, body, {
            "Content-Type": "multipart/form-data; boundary=--boundary--"})
        resp = conn.getresponse()
        assert resp.status == 201, resp.read()
        resp.read()
    finally:
        conn.close()
    got = cluster.client.get(upload_container + "blob.bin", headers=auth)
    assert got.body == data


@pytest.fixture
def site(cluster: Cluster, auth: dict[str, str]) -> str:
    client = cluster.client
    client.put("/v1/AUTH_test/web", headers=dict(auth, **{
        "X-Container-Read": ".r:*,.rlistings",
        "X-Container-Meta-Web-Index": "index.html",
        "X-Container-Meta-Web-Listings": "true",
        "X-Container-Meta-Web-Listings-CSS": "listing.css",
        "X-Container-Meta-Web-Error": "error.html"}), status=201)
    for name, body in [("index.html", b"<p>home</p>"), ("404error.html", b"<p>lost</p>"),
                       ("files/a.txt", b"aaa"), ("files/deep/b.txt", b"bb"),
                       ("docs/index.html", b"<p>docs</p>")]:
        client.put("/v1/AUTH_test/web/" + name, body, headers=dict(
            auth, **{"Content-Type": "text/html"}), status=201)
    return "/v1/AUTH_test/web"


def test_site_index_and_redirects(cluster: Cluster, site: str) -> None:
    resp = cluster.client.get(site, status=301)
    assert resp.headers["Location"] == "http://localhost%s/" % site
    resp = cluster.client.get(site + "/")
    assert resp.body == b"<p>home</p>"
    for header in ("ETag", "Last-Modified", "X-Timestamp", "Content-Length"):
        assert header in resp.headers
    assert cluster.client.get(site + "/docs/").body == b"<p>docs</p>"
    assert cluster.client.get(site + "/docs", status=301).headers["Location"].endswith(
        "/web/docs/")
    assert cluster.client.get(site + "/files", status=301).headers["Location"].endswith(
        "/web/files/")


def test_site_listing_and_error_page(cluster: Cluster, site: str) -> None:
    text = cluster.client.get(site + "/files/").text
    assert '<link rel="stylesheet" type="text/css" href="../listing.css" />' in text
    assert "Listing of /v1/AUTH_test/web/files/" in text
    assert '<a href="deep/">deep/</a>' in text and '<a href="a.txt">a.txt</a>' in text
    assert "b.txt" not in text  # one level only
    resp = cluster.client.get(site + "/no/such/thing", status=404)
    assert resp.body == b"<p>lost</p>"


def test_api_clients_see_plain_swift(cluster: Cluster, auth: dict[str, str],
                                     site: str) -> None:
    listing = cluster.client.get(site, headers=auth)
    assert listing.content_type == "text/plain" and "index.html" in listing.text
    web = cluster.client.get(site + "/files/", headers=dict(auth, **{"X-Web-Mode": "true"}))
    assert web.content_type == "text/html" and "a.txt" in web.text
    # a private container is not a web site for anonymous clients
    cluster.client.post(site, headers=dict(auth, **{"X-Container-Read": ""}), status=204)
    cluster.client.get(site + "/", status=401)
