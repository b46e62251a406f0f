"""The object store through the real clients (``swift``, ``openstack``) and plain HTTP.

The proxy and the storage servers run as processes (:class:`ObjectStoreCloud`); the
clients authenticate with keystone as the demo user through OS_* variables. Every
test also checks that no daemon logged a traceback.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.parse
from typing import Any, Callable, Iterator

import pytest

from tests.functional.conftest import make_user
from tests.functional.objectstore.conftest import ObjectStoreCloud, md5_file

MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def _no_tracebacks(objectstore_cloud: ObjectStoreCloud) -> Iterator[None]:
    yield
    assert objectstore_cloud.tracebacks() == [], objectstore_cloud.logs()


def stat(output: str) -> dict[str, str]:
    """``swift stat`` output as {key: value}."""
    found = {}
    for line in output.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            found[key.strip()] = value.strip()
    return found


def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """``check()`` until it stops raising AssertionError (account counts are updated
    asynchronously by the container servers)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def write(path: str, data: bytes) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def test_swift_upload_list_stat_post_download_delete(objectstore_cloud: ObjectStoreCloud,
                                                     tmp_path: Any) -> None:
    cloud = objectstore_cloud
    # a project of this test's own, so that the account's counts are this test's
    project, _ = make_user(cloud.identity, "os-stat", "os-stat", "stat-pw")
    env = cloud.env("os-stat", "stat-pw")

    def swift(*args: str, check: bool = True) -> Any:
        return cloud.swift(*args, env=env, cwd=work, check=check)

    work = str(tmp_path)
    single = os.urandom(70000)
    write(os.path.join(work, "single.bin"), single)
    write(os.path.join(work, "tree", "a.txt"), b"alpha\n")
    write(os.path.join(work, "tree", "sub", "b.txt"), b"bravo bravo\n")

    swift("upload", "cli-c1", "single.bin", "tree")  # a file and a directory
    swift("upload", "cli-c2", "single.bin")

    assert lines(swift("list").stdout) == ["cli-c1", "cli-c2"]
    assert lines(swift("list", "--prefix", "cli-c2").stdout) == ["cli-c2"]
    assert lines(swift("list", "cli-c1").stdout) == [
        "single.bin", "tree/a.txt", "tree/sub/b.txt"]
    assert lines(swift("list", "cli-c1", "--prefix", "tree/").stdout) == [
        "tree/a.txt", "tree/sub/b.txt"]
    assert lines(swift("list", "cli-c1", "--prefix", "tree/", "--delimiter", "/").stdout) \
        == ["tree/a.txt", "tree/sub/"]

    total = len(single) + 6 + 12
    container = stat(swift("stat", "cli-c1").stdout)
    assert (container["Objects"], container["Bytes"]) == ("3", str(total))

    def account_counts() -> None:
        account = stat(swift("stat").stdout)
        assert account["Account"] == "AUTH_" + project
        assert account["Containers"] == "2", account
        assert account["Objects"] == "4", account
        assert account["Bytes"] == str(total + len(single)), account
    eventually(account_counts)  # the container servers report to the account lazily

    obj = stat(swift("stat", "cli-c1", "single.bin").stdout)
    assert obj["Content Length"] == str(len(single))
    assert obj["ETag"] == hashlib.md5(single).hexdigest()

    swift("post", "-m", "color:blue", "-m", "size:large", "cli-c1", "single.bin")
    obj = stat(swift("stat", "cli-c1", "single.bin").stdout)
    assert obj["Meta Color"] == "blue" and obj["Meta Size"] == "large"
    assert obj["Content Length"] == str(len(single))
    swift("post", "-m", "owner:demo", "cli-c1")
    assert stat(swift("stat", "cli-c1").stdout)["Meta Owner"] == "demo"

    swift("download", "cli-c1", "single.bin", "-o", "out.bin")
    with open(os.path.join(work, "out.bin"), "rb") as handle:
        assert handle.read() == single
    swift("download", "cli-c1", "--prefix", "tree/", "-D", "dl")
    with open(os.path.join(work, "dl", "tree", "sub", "b.txt"), "rb") as handle:
        assert handle.read() == b"bravo bravo\n"

    swift("delete", "cli-c1", "single.bin")
    assert lines(swift("list", "cli-c1").stdout) == ["tree/a.txt", "tree/sub/b.txt"]
    swift("delete", "cli-c1")  # the container with its objects
    assert lines(swift("list").stdout) == ["cli-c2"]
    result = swift("stat", "cli-c1", check=False)
    assert result.returncode != 0 and "not found" in result.stderr


def test_openstack_container_and_object_commands(objectstore_cloud: ObjectStoreCloud,
                                                 tmp_path: Any) -> None:
    cloud = objectstore_cloud
    data = os.urandom(12345)
    write(os.path.join(str(tmp_path), "osc.bin"), data)
    cloud.openstack("container", "create", "osc-c")
    names = cloud.openstack("container", "list", "-f", "value", "-c", "Name").stdout.split()
    assert "osc-c" in names
    cloud.openstack("object", "create", "osc-c", "osc.bin", cwd=str(tmp_path))
    listed = json.loads(cloud.openstack("object", "list", "osc-c", "-f", "json").stdout)
    assert [o["Name"] for o in listed] == ["osc.bin"]
    shown = json.loads(cloud.openstack("object", "show", "osc-c", "osc.bin", "-f",
                                       "json").stdout)
    assert shown["etag"] == hashlib.md5(data).hexdigest()
    assert int(shown["content-length"]) == len(data)
    saved = os.path.join(str(tmp_path), "saved.bin")
    cloud.openstack("object", "save", "osc-c", "osc.bin", "--file", saved)
    with open(saved, "rb") as handle:
        assert handle.read() == data
    cloud.openstack("object", "delete", "osc-c", "osc.bin")
    assert cloud.openstack("object", "list", "osc-c", "-f", "value").stdout.strip() == ""


def test_static_large_object_round_trip(objectstore_cloud: ObjectStoreCloud,
                                        tmp_path: Any) -> None:
    cloud = objectstore_cloud
    info = json.loads(cloud.request("GET", "/info")[2])
    assert "slo" in info  # so swift upload --segment-size makes an SLO by default
    big = write(os.path.join(str(tmp_path), "big.bin"), os.urandom(30 * MIB))
    cloud.swift("upload", "--segment-size", "5M", "big", "big.bin", cwd=str(tmp_path))
    segments = lines(cloud.swift("list", "big_segments").stdout)
    assert len(segments) == 6 and all(s.startswith("big.bin/") for s in segments)
    assert lines(cloud.swift("list", "big").stdout) == ["big.bin"]

    shown = stat(cloud.swift("stat", "big", "big.bin").stdout)
    assert shown["Content Length"] == str(30 * MIB)
    assert shown.get("X-Static-Large-Object") == "True", shown

    token = cloud.token()
    status, _, body = cloud.request(
        "GET", "/v1/%s/big/big.bin?multipart-manifest=get&format=raw" % cloud.demo_account,
        token)
    assert status == 200
    manifest = json.loads(body)
    assert len(manifest) == 6
    assert sum(seg["size_bytes"] for seg in manifest) == 30 * MIB

    out = os.path.join(str(tmp_path), "big.out")
    cloud.swift("download", "big", "big.bin", "-o", out)
    assert md5_file(out) == md5_file(big)

    status, headers, body = cloud.request(
        "GET", "/v1/%s/big/big.bin" % cloud.demo_account, token,
        {"Range": "bytes=%d-%d" % (5 * MIB - 10, 5 * MIB + 9)})
    assert status == 206 and len(body) == 20
    with open(big, "rb") as handle:
        handle.seek(5 * MIB - 10)
        assert body == handle.read(20)

    cloud.swift("delete", "big", "big.bin")  # an SLO delete takes its segments along
    assert lines(cloud.swift("list", "big_segments").stdout) == []


def test_dynamic_large_object_round_trip(objectstore_cloud: ObjectStoreCloud,
                                         tmp_path: Any) -> None:
    cloud = objectstore_cloud
    data = os.urandom(11 * MIB)
    write(os.path.join(str(tmp_path), "dlo.bin"), data)
    cloud.swift("upload", "--use-dlo", "--segment-size", str(5 * MIB), "dlo", "dlo.bin",
                cwd=str(tmp_path))
    assert len(lines(cloud.swift("list", "dlo_segments").stdout)) == 3
    shown = stat(cloud.swift("stat", "dlo", "dlo.bin").stdout)
    assert shown["Manifest"].startswith("dlo_segments/dlo.bin/"), shown
    assert shown["Content Length"] == str(len(data))
    out = os.path.join(str(tmp_path), "dlo.out")
    cloud.swift("download", "dlo", "dlo.bin", "-o", out)
    assert md5_file(out) == hashlib.md5(data).hexdigest()


def test_acl_of_another_project(objectstore_cloud: ObjectStoreCloud, tmp_path: Any) -> None:
    cloud = objectstore_cloud
    work = str(tmp_path)
    write(os.path.join(work, "doc.txt"), b"shared document\n")
    cloud.swift("upload", "acl-c", "doc.txt", cwd=work)
    storage_url = "%s/v1/%s" % (cloud.url, cloud.demo_account)
    other = cloud.other_env()
    as_other = ("--os-storage-url", storage_url)

    denied = cloud.swift(*as_other, "download", "acl-c", "doc.txt", "-o", "-", env=other,
                         check=False)
    assert denied.returncode != 0 and "403" in denied.stderr
    other_token = cloud.token("os-other", "other-pw")
    path = "/v1/%s/acl-c/doc.txt" % cloud.demo_account
    assert cloud.request("GET", path, other_token)[0] == 403
    assert cloud.request("PUT", path, other_token, body=b"x")[0] == 403

    cloud.swift("post", "-r", "%s:*" % cloud.other_project, "acl-c")
    assert stat(cloud.swift("stat", "acl-c").stdout)["Read ACL"] == "%s:*" % cloud.other_project
    allowed = cloud.swift(*as_other, "download", "acl-c", "doc.txt", "-o", "-", env=other)
    assert allowed.stdout == "shared document\n"
    assert lines(cloud.swift(*as_other, "list", "acl-c", env=other).stdout) == ["doc.txt"]
    # a read ACL grants no write
    assert cloud.request("PUT", path, other_token, body=b"x")[0] == 403
    cloud.swift("post", "-w", "%s:*" % cloud.other_project, "acl-c")
    assert cloud.request("PUT", "/v1/%s/acl-c/from-other" % cloud.demo_account,
                         other_token, body=b"hello")[0] == 201
    assert "from-other" in lines(cloud.swift("list", "acl-c").stdout)


def test_public_container_read(objectstore_cloud: ObjectStoreCloud) -> None:
    cloud = objectstore_cloud
    token = cloud.token()
    base = "/v1/%s/pub" % cloud.demo_account
    assert cloud.request("PUT", base, token)[0] == 201
    assert cloud.request("PUT", base + "/page.html", token, {"Content-Type": "text/html"},
                         b"<p>hello</p>")[0] == 201
    assert cloud.request("GET", base + "/page.html")[0] == 401  # anonymous, no ACL yet

    cloud.swift("post", "-r", ".r:*,.rlistings", "pub")
    status, headers, body = cloud.request("GET", base + "/page.html")
    assert (status, body) == (200, b"<p>hello</p>")
    assert headers["Content-Type"].startswith("text/html")
    status, _, body = cloud.request("GET", base + "?format=json")
    assert status == 200 and [o["name"] for o in json.loads(body)] == ["page.html"]
    assert cloud.request("PUT", base + "/evil", body=b"x")[0] == 401  # read only
    assert cloud.request("GET", "/v1/%s" % cloud.demo_account)[0] == 401

    cloud.swift("post", "-r", ".r:*", "pub")  # objects, but no listing
    assert cloud.request("GET", base + "/page.html")[0] == 200
    assert cloud.request("GET", base)[0] == 401


def test_tempurl_download_without_token(objectstore_cloud: ObjectStoreCloud,
                                        tmp_path: Any) -> None:
    cloud = objectstore_cloud
    data = os.urandom(4096)
    write(os.path.join(str(tmp_path), "t.bin"), data)
    cloud.swift("upload", "tu-c", "t.bin", cwd=str(tmp_path))
    cloud.swift("post", "-m", "Temp-URL-Key:sekrit")
    path = "/v1/%s/tu-c/t.bin" % cloud.demo_account
    signed = cloud.swift("tempurl", "GET", "600", path, "sekrit").stdout.strip()
    assert signed.startswith(path + "?temp_url_sig=")

    status, headers, body = cloud.request("GET", signed)
    assert (status, body) == (200, data)
    assert 'filename="t.bin"' in headers.get("Content-Disposition", "")
    assert cloud.request("HEAD", signed)[0] == 200  # a GET URL also allows HEAD
    assert cloud.request("PUT", signed, body=b"x")[0] == 401
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(signed).query)
    bad = "%s?temp_url_sig=%s&temp_url_expires=%s" % (
        path, "0" * len(query["temp_url_sig"][0]), query["temp_url_expires"][0])
    assert cloud.request("GET", bad)[0] == 401
    expired = cloud.swift("tempurl", "--absolute", "GET", str(int(time.time()) - 10), path,
                          "sekrit").stdout.strip()
    assert cloud.request("GET", expired)[0] == 401

    put_url = cloud.swift("tempurl", "PUT", "600", "/v1/%s/tu-c/uploaded" %
                          cloud.demo_account, "sekrit").stdout.strip()
    assert cloud.request("PUT", put_url, body=b"via tempurl")[0] == 201
    out = cloud.swift("download", "tu-c", "uploaded", "-o", "-").stdout
    assert out == "via tempurl"


def test_bad_input_gives_4xx_never_5xx(objectstore_cloud: ObjectStoreCloud) -> None:
    cloud = objectstore_cloud
    token = cloud.token()
    base = "/v1/%s/bad" % cloud.demo_account
    seen: list[int] = []

    def call(method: str, path: str, headers: dict[str, str] | None = None,
             body: bytes | None = None) -> int:
        status = cloud.request(method, path, token, headers, body)[0]
        seen.append(status)
        return status

    assert call("PUT", base) == 201
    assert call("PUT", base + "/ok", body=b"0123456789") == 201
    assert call("PUT", base + "/" + "x" * 1025, body=b"x") == 400
    assert call("PUT", base + "/" + "x" * 1024, body=b"x") == 201
    assert call("PUT", "/v1/%s/%s" % (cloud.demo_account, "c" * 257)) == 400
    assert call("PUT", base + "/%FF", body=b"x") == 412
    assert call("PUT", base + "/etag", {"ETag": "0" * 32}, b"data") == 422
    assert call("HEAD", base + "/etag") == 404
    assert call("GET", base + "/ok", {"Range": "bytes=100-200"}) == 416
    assert call("GET", base + "/ok", {"Range": "bytes=2-4"}) == 206
    assert call("GET", base + "/missing") == 404
    assert call("DELETE", base) == 409
    assert call("POST", base + "/ok", {"X-Object-Meta-Big": "v" * 257}) == 400
    assert call("POST", base + "/ok", {"X-Object-Meta-" + "n" * 129: "v"}) == 400
    many = {"X-Object-Meta-K%02d" % i: "v" * 250 for i in range(17)}  # > 4096 bytes
    assert call("POST", base + "/ok", many) == 400
    assert call("POST", base, {"X-Container-Meta-Big": "v" * 257}) == 400
    assert call("PUT", base + "/ok2", {"Content-Length": "10", "Transfer-Encoding": "x"},
                b"0123456789") in (400, 501)
    assert call("GET", base + "/ok", {"If-Match": '"nomatch"'}) == 412
    assert call("COPY", base + "/ok", {"Destination": "nocontainer"}) == 412
    assert call("GET", "/v1/AUTH_nobody-else/x", None) == 403
    # 501 (an unknown Transfer-Encoding) is Swift's answer too; nothing else 5xx
    assert [status for status in seen if status >= 500 and status != 501] == [], seen
    with open(cloud.proxy_log) as handle:
        assert "Traceback" not in handle.read()
