"""The object server's backend protocol (objectstore/README.md), in process.

Requests go through webtest to the real WSGI app over real device directories;
container updates go to a small real HTTP server on 127.0.0.1, and chunked uploads
through the real cheroot server.
"""
from __future__ import annotations

import email.utils
import hashlib
import http.client
import http.server
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import webtest
from oslo_config import cfg

from common.wsgi.server import Server
from objectstore import conf as objectstore_conf
from objectstore.common import ranges
from objectstore.common.utils import Timestamp, hash_path
from objectstore.obj import diskfile, expiring, server, updates

BODY = b"0123456789abcdefghijklmnopqrstuvwxyz" * 100
ETAG = hashlib.md5(BODY).hexdigest()


def make_conf(tmp_path: Path) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    objectstore_conf.register_opts(conf)
    conf([], project="stratus-test", default_config_files=[])
    conf.set_override("state_path", str(tmp_path))
    conf.set_override("devices", str(tmp_path / "node"), group="objectstore")
    conf.set_override("hash_path_suffix", "test-salt", group="objectstore")
    conf.set_override("node_timeout", 2.0, group="object_server")
    return conf


@pytest.fixture
def conf(tmp_path: Path) -> cfg.ConfigOpts:
    (tmp_path / "node" / "d1").mkdir(parents=True)
    return make_conf(tmp_path)


@pytest.fixture
def dev(conf: cfg.ConfigOpts) -> str:
    return os.path.join(conf.objectstore.devices, "d1")


@pytest.fixture
def app(conf: cfg.ConfigOpts) -> webtest.TestApp:
    return webtest.TestApp(server.create_app(conf))


class ContainerServer:
    """A stand-in container server: records each request, answers ``status``."""

    def __init__(self, status: int = 201) -> None:
        self.status = status
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                outer.requests.append((self.command, self.path, dict(self.headers)))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_PUT = do_DELETE = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def host(self) -> str:
        return "127.0.0.1:%d" % self.httpd.server_address[1]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def containers() -> Iterator[list[ContainerServer]]:
    started = [ContainerServer(), ContainerServer()]
    yield started
    for one in started:
        one.stop()


def ts(value: float) -> str:
    return Timestamp(value).internal


def put(app: webtest.TestApp, path: str = "/d1/7/a/c/o", body: bytes = BODY,
        stamp: float = 1000.0, status: int | str = 201, **headers: str) -> Any:
    all_headers = {"X-Timestamp": ts(stamp), "Content-Type": "text/plain"}
    all_headers.update({k.replace("_", "-"): v for k, v in headers.items()})
    return app.request(path, method="PUT", body=body, headers=all_headers, status=status)


def call(app: webtest.TestApp, method: str, path: str = "/d1/7/a/c/o",
         status: int | str = "*", **headers: str) -> Any:
    return app.request(path, method=method, status=status,
                       headers={k.replace("_", "-"): v for k, v in headers.items()})


# -- PUT, GET, HEAD ------------------------------------------------------------------------

def test_put_get_head(app: webtest.TestApp) -> None:
    resp = put(app, X_Object_Meta_Color="blue", X_Object_Sysmeta_Slo_Etag="x",
               Content_Disposition="inline", X_Static_Large_Object="True",
               X_Unrelated="dropped")
    assert resp.headers["ETag"] == ETAG
    got = call(app, "GET", status=200)
    assert got.body == BODY
    assert got.headers["Content-Length"] == str(len(BODY))
    assert got.headers["ETag"] == ETAG
    assert got.headers["Content-Type"] == "text/plain"
    assert got.headers["X-Timestamp"] == ts(1000)
    assert got.headers["X-Backend-Timestamp"] == ts(1000)
    assert got.headers["Last-Modified"] == email.utils.formatdate(1000, usegmt=True)
    assert got.headers["X-Object-Meta-Color"] == "blue"
    assert got.headers["X-Object-Sysmeta-Slo-Etag"] == "x"
    assert got.headers["Content-Disposition"] == "inline"
    assert got.headers["X-Static-Large-Object"] == "True"
    assert "X-Unrelated" not in got.headers
    head = call(app, "HEAD", status=200)
    assert head.body == b""
    assert head.headers["Content-Length"] == str(len(BODY))
    assert head.headers["X-Object-Meta-Color"] == "blue"


def test_put_defaults_and_odd_names(app: webtest.TestApp) -> None:
    app.request("/d1/7/a/c/o", method="PUT", body=b"x",
                headers={"X-Timestamp": ts(1000)}, status=201)
    assert call(app, "GET").headers["Content-Type"] == "application/octet-stream"
    name = "dir/sub/ünï%20cøde"
    path = "/d1/7/a/c/" + "dir/sub/%C3%BCn%C3%AF%2520c%C3%B8de"
    put(app, path, body=b"named")
    assert call(app, "GET", path).body == b"named"
    df = diskfile.DiskFile(os.path.join(app.app.devices, "d1"), 7, "a", "c", name)
    assert df.open()["name"] == "/a/c/" + name
    df.close()


def test_etag_mismatch_stores_nothing(app: webtest.TestApp, dev: str) -> None:
    put(app, ETag='"%s"' % ETAG)  # quoted ETags are fine
    put(app, body=b"other", stamp=2000, ETag="0" * 32, status=422)
    assert call(app, "GET").body == BODY
    assert os.listdir(os.path.join(dev, "tmp")) == []


def test_older_or_equal_timestamp_conflicts(app: webtest.TestApp) -> None:
    put(app, stamp=2000)
    for stamp in (2000, 1000):
        resp = put(app, body=b"old", stamp=stamp, status=409)
        assert resp.headers["X-Backend-Timestamp"] == ts(2000)
    assert call(app, "GET").body == BODY


def test_bad_requests(app: webtest.TestApp, conf: cfg.ConfigOpts) -> None:
    for path in ("/d1/7/a/c", "/d1/x/a/c/o", "/d1/7/a//o", "/d1", "/../7/a/c/o"):
        put(app, path, status=400)
        call(app, "GET", path, status=400)
    app.request("/d1/7/a/c/o", method="PUT", body=b"x", status=400)  # no X-Timestamp
    put(app, X_Timestamp="yesterday", status=400)
    put(app, status=400, X_Delete_At="1")
    put(app, status=400, X_Delete_At="soon")
    long_name: dict[str, Any] = {"X-Object-Meta-" + "n" * 200: "v"}
    put(app, status=400, **long_name)
    put(app, "/d1/7/a/c/" + "o" * 1100, status=400)
    conf.set_override("max_file_size", 10, group="constraints")
    put(app, status=413)
    call(app, "PATCH", status=405)
    call(app, "GET", "/nodev/7/a/c/o", status=507)
    put(app, "/nodev/7/a/c/o", status=507)


def test_length_required(app: webtest.TestApp) -> None:
    environ = {"REQUEST_METHOD": "PUT", "PATH_INFO": "/d1/7/a/c/o",
               "HTTP_X_TIMESTAMP": ts(1000)}
    resp = webtest.TestRequest.blank("/d1/7/a/c/o", environ).get_response(app.app)
    assert resp.status_int == 411


def test_mount_check(conf: cfg.ConfigOpts) -> None:
    conf.set_override("mount_check", True, group="objectstore")
    app = webtest.TestApp(server.create_app(conf))
    put(app, status=507)  # d1 is a plain directory, not a mount point


# -- ranges and conditionals ----------------------------------------------------------------

def test_single_ranges(app: webtest.TestApp) -> None:
    put(app)
    resp = call(app, "GET", status=206, Range="bytes=10-19")
    assert resp.body == BODY[10:20]
    assert resp.headers["Content-Range"] == "bytes 10-19/%d" % len(BODY)
    assert resp.headers["Content-Length"] == "10"
    assert call(app, "GET", status=206, Range="bytes=-5").body == BODY[-5:]
    assert call(app, "GET", status=206, Range="bytes=3590-").body == BODY[3590:]
    assert call(app, "GET", status=200, Range="bytes=junk").body == BODY
    head = call(app, "HEAD", status=206, Range="bytes=0-0")
    assert head.headers["Content-Length"] == "1"


def test_multi_range(app: webtest.TestApp) -> None:
    put(app)
    resp = call(app, "GET", status=206, Range="bytes=0-4,100-109,-3")
    ctype, _, param = resp.headers["Content-Type"].partition(";")
    assert ctype == "multipart/byteranges"
    boundary = param.strip().split("=", 1)[1]
    assert int(resp.headers["Content-Length"]) == len(resp.body)
    parts = ranges.split_multipart_byteranges(resp.body, boundary)
    total = len(BODY)
    assert [(s, e, n) for s, e, n, _ in parts] == [
        (0, 5, total), (100, 110, total), (total - 3, total, total)]
    assert [d for *_, d in parts] == [BODY[0:5], BODY[100:110], BODY[-3:]]
    assert b"Content-Type: text/plain" in resp.body


def test_unsatisfiable_range(app: webtest.TestApp) -> None:
    put(app)
    resp = call(app, "GET", status=416, Range="bytes=5000-6000")
    assert resp.headers["Content-Range"] == "bytes */%d" % len(BODY)


def test_conditionals(app: webtest.TestApp) -> None:
    put(app)
    call(app, "GET", status=200, If_Match='"%s"' % ETAG)
    call(app, "GET", status=200, If_Match="*")
    call(app, "GET", status=412, If_Match='"nope"')
    call(app, "HEAD", status=412, If_Match='"nope"')
    resp = call(app, "GET", status=304, If_None_Match='"%s", "x"' % ETAG)
    assert resp.headers["ETag"] == ETAG and resp.body == b""
    call(app, "HEAD", status=304, If_None_Match="*")
    call(app, "GET", status=200, If_None_Match='"other"')
    call(app, "GET", status=304, If_Modified_Since=email.utils.formatdate(2000, usegmt=True))
    call(app, "GET", status=200, If_Modified_Since=email.utils.formatdate(500, usegmt=True))
    call(app, "GET", status=412, If_Unmodified_Since=email.utils.formatdate(500, usegmt=True))
    call(app, "GET", status=200, If_Unmodified_Since=email.utils.formatdate(1000, usegmt=True))
    call(app, "GET", status=200, If_Modified_Since="not a date")


def test_backend_etag_is_at_and_ignore_range(app: webtest.TestApp) -> None:
    put(app, X_Object_Sysmeta_Slo_Etag="manifest-etag", X_Static_Large_Object="True")
    call(app, "GET", status=200, If_Match='"manifest-etag"',
         X_Backend_Etag_Is_At="X-Object-Sysmeta-Slo-Etag")
    call(app, "GET", status=412, If_Match='"%s"' % ETAG,
         X_Backend_Etag_Is_At="X-Object-Sysmeta-Slo-Etag")
    call(app, "GET", status=200, If_Match='"%s"' % ETAG, X_Backend_Etag_Is_At="X-Missing")
    resp = call(app, "GET", status=200, Range="bytes=0-1",
                X_Backend_Ignore_Range_If_Metadata_Present="X-Static-Large-Object")
    assert resp.body == BODY


def test_if_none_match_star_on_put(app: webtest.TestApp) -> None:
    put(app, If_None_Match="*")
    put(app, stamp=2000, If_None_Match="*", status=412)


# -- POST -------------------------------------------------------------------------------------

def test_post_replaces_metadata(app: webtest.TestApp) -> None:
    put(app, X_Object_Meta_A="1", X_Object_Meta_B="2", X_Object_Sysmeta_S="keep")
    call(app, "POST", status=202, X_Timestamp=ts(2000), X_Object_Meta_C="3",
         Content_Type="image/png", X_Object_Sysmeta_S="ignored", ETag="ignored")
    resp = call(app, "HEAD", status=200)
    assert resp.headers["X-Object-Meta-C"] == "3"
    assert "X-Object-Meta-A" not in resp.headers and "X-Object-Meta-B" not in resp.headers
    assert resp.headers["X-Object-Sysmeta-S"] == "keep"
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["ETag"] == ETAG
    assert resp.headers["X-Timestamp"] == ts(2000)
    assert resp.headers["X-Backend-Timestamp"] == ts(2000)
    assert resp.headers["X-Backend-Data-Timestamp"] == ts(1000)
    assert resp.headers["Last-Modified"] == email.utils.formatdate(2000, usegmt=True)
    call(app, "POST", status=409, X_Timestamp=ts(1500), X_Object_Meta_D="4")
    call(app, "POST", "/d1/7/a/c/missing", status=404, X_Timestamp=ts(3000))
    call(app, "POST", status=400)


def test_post_and_delete_at(app: webtest.TestApp, dev: str) -> None:
    later = int(time.time()) + 3600
    put(app)
    call(app, "POST", status=202, X_Timestamp=ts(2000), X_Delete_At=str(later))
    assert call(app, "HEAD").headers["X-Delete-At"] == str(later)
    assert [(e.obj, e.delete_at) for e in expiring.all_entries(dev)] == [("o", later)]
    call(app, "POST", status=202, X_Timestamp=ts(3000))
    assert "X-Delete-At" not in call(app, "HEAD").headers
    assert expiring.all_entries(dev) == []


# -- DELETE -----------------------------------------------------------------------------------

def test_delete(app: webtest.TestApp) -> None:
    put(app)
    call(app, "DELETE", status=409, X_Timestamp=ts(1000))
    call(app, "DELETE", status=204, X_Timestamp=ts(2000))
    resp = call(app, "GET", status=404)
    assert resp.headers["X-Backend-Timestamp"] == ts(2000)
    call(app, "DELETE", status=404, X_Timestamp=ts(3000))
    assert call(app, "HEAD", status=404).headers["X-Backend-Timestamp"] == ts(3000)
    put(app, stamp=2500, status=409)
    put(app, stamp=4000)
    assert call(app, "GET", status=200).body == BODY
    call(app, "DELETE", "/d1/7/a/c/never", status=404, X_Timestamp=ts(1000))
    assert "X-Backend-Timestamp" not in call(app, "GET", "/d1/7/a/c/none", status=404).headers
    call(app, "DELETE", status=400)


def test_expired_objects(app: webtest.TestApp, dev: str) -> None:
    past = int(time.time()) - 10
    later = int(time.time()) + 3600
    # only replication may store an expiry in the past (a late replica)
    put(app, X_Delete_At=str(past), X_Backend_Replication="true")
    assert [(e.obj, e.delete_at) for e in expiring.due(dev, time.time())] == [("o", past)]
    assert call(app, "GET", status=404).headers["X-Backend-Timestamp"] == ts(1000)
    call(app, "HEAD", status=404)
    call(app, "POST", status=404, X_Timestamp=ts(2000))
    assert call(app, "GET", status=200, X_Backend_Replication="true").body == BODY
    call(app, "DELETE", status=412, X_Timestamp=ts(past), X_If_Delete_At=str(later))
    call(app, "DELETE", status=400, X_Timestamp=ts(past), X_If_Delete_At="x")
    call(app, "DELETE", status=204, X_Timestamp=ts(past), X_If_Delete_At=str(past))
    assert expiring.all_entries(dev) == []
    call(app, "DELETE", "/d1/7/a/c/gone", status=412, X_Timestamp=ts(past),
         X_If_Delete_At=str(past))


def test_overwrite_without_delete_at_leaves_the_index(app: webtest.TestApp, dev: str) -> None:
    later = int(time.time()) + 3600
    put(app, X_Delete_At=str(later))
    assert len(expiring.all_entries(dev)) == 1
    put(app, stamp=2000)
    assert expiring.all_entries(dev) == []
    put(app, stamp=3000, X_Delete_At=str(later))
    call(app, "DELETE", status=204, X_Timestamp=ts(4000))
    assert expiring.all_entries(dev) == []


def test_puts_without_delete_at_leave_the_index_closed(app: webtest.TestApp, dev: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    later = int(time.time()) + 3600
    put(app, "/d1/7/a/c/expiring", X_Delete_At=str(later))  # the device has an index now
    opened: list[str] = []
    real = expiring.set_entry
    monkeypatch.setattr(expiring, "set_entry", lambda *a, **k: (opened.append(a[3]),
                                                                 real(*a, **k)))
    put(app, "/d1/7/a/c/plain")
    put(app, "/d1/7/a/c/plain", stamp=2000)
    assert opened == []  # no X-Delete-At before or now: nothing to change there
    put(app, "/d1/7/a/c/expiring", stamp=2000)  # had one: its row goes
    assert opened == ["expiring"]
    assert expiring.all_entries(dev) == []


# -- container updates -----------------------------------------------------------------------

def test_container_updates(app: webtest.TestApp, dev: str,
                           containers: list[ContainerServer]) -> None:
    where: dict[str, Any] = {"X-Container-Host": ",".join(c.host for c in containers),
             "X-Container-Device": "cd1,cd2", "X-Container-Partition": "42"}
    put(app, "/d1/7/a/c/dir/%C3%B6", **where)
    for one, device in zip(containers, ("cd1", "cd2"), strict=True):
        (method, path, headers), = one.requests
        assert (method, path) == ("PUT", "/%s/42/a/c/dir/%%C3%%B6" % device)
        assert headers["X-Timestamp"] == ts(1000)
        assert headers["X-Size"] == str(len(BODY))
        assert headers["X-Etag"] == ETAG
        assert headers["X-Content-Type"] == "text/plain"
    call(app, "DELETE", "/d1/7/a/c/dir/%C3%B6", status=204, X_Timestamp=ts(2000), **{
        k.replace("-", "_"): v for k, v in where.items()})
    assert [(r[0], r[2]["X-Timestamp"]) for r in containers[0].requests] == [
        ("PUT", ts(1000)), ("DELETE", ts(2000))]
    assert not os.path.exists(os.path.join(dev, "async_pending"))


def test_container_update_overrides(app: webtest.TestApp,
                                    containers: list[ContainerServer]) -> None:
    put(app, X_Container_Host=containers[0].host, X_Container_Device="cd1",
        X_Container_Partition="3", X_Object_Sysmeta_Container_Update_Override_Etag="slo-etag",
        X_Backend_Container_Update_Override_Size="999")
    (_m, _p, headers), = containers[0].requests
    assert headers["X-Etag"] == "slo-etag" and headers["X-Size"] == "999"


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_failed_update_goes_to_async_pending(app: webtest.TestApp, dev: str,
                                             containers: list[ContainerServer]) -> None:
    down = "127.0.0.1:%d" % _closed_port()
    put(app, X_Container_Host="%s,%s" % (containers[0].host, down),
        X_Container_Device="cd1,cd2", X_Container_Partition="42")
    assert len(containers[0].requests) == 1
    path = updates.async_pending_path(dev, "a", "c", "o", ts(1000))
    obj_hash = hash_path("a", "c", "o")
    assert path == os.path.join(dev, "async_pending", obj_hash[-3:],
                                "%s-%s" % (obj_hash, ts(1000)))
    with open(path) as f:
        pending = json.load(f)
    assert pending == {"op": "PUT", "account": "a", "container": "c", "obj": "o",
                       "headers": {"X-Timestamp": ts(1000), "X-Size": str(len(BODY)),
                                   "X-Content-Type": "text/plain", "X-Etag": ETAG}}
    # an error answer counts as a failure too
    containers[1].status = 500
    call(app, "DELETE", status=204, X_Timestamp=ts(2000), X_Container_Host=containers[1].host,
         X_Container_Device="cd1", X_Container_Partition="42")
    with open(updates.async_pending_path(dev, "a", "c", "o", ts(2000))) as f:
        assert json.load(f)["op"] == "DELETE"
    # headers that disagree cannot be sent, but are not lost
    put(app, stamp=3000, X_Container_Host=containers[0].host, X_Container_Device="a,b",
        X_Container_Partition="1")
    assert os.path.exists(updates.async_pending_path(dev, "a", "c", "o", ts(3000)))


# -- replication ------------------------------------------------------------------------------

def test_replication_writes_send_no_updates(app: webtest.TestApp,
                                            containers: list[ContainerServer], dev: str) -> None:
    where: dict[str, Any] = {
        "X_Container_Host": containers[0].host, "X_Container_Device": "cd1",
        "X_Container_Partition": "1", "X_Backend_Replication": "True"}
    put(app, stamp=1000, Content_Type="app/x", X_Object_Sysmeta_K="v", ETag=ETAG, **where)
    resp = call(app, "HEAD")
    assert resp.headers["X-Object-Sysmeta-K"] == "v"
    assert resp.headers["X-Timestamp"] == ts(1000)
    assert resp.headers["Content-Type"] == "app/x"
    call(app, "POST", status=202, X_Timestamp=ts(1500), X_Object_Meta_M="1", **where)
    call(app, "DELETE", status=204, X_Timestamp=ts(2000), **where)
    assert containers[0].requests == []
    assert not os.path.exists(os.path.join(dev, "async_pending"))


def test_replicate_hashes_and_inventory(app: webtest.TestApp, dev: str) -> None:
    put(app, "/d1/7/a/c/o1")
    put(app, "/d1/7/a/c/o2")
    call(app, "POST", "/d1/7/a/c/o2", status=202, X_Timestamp=ts(1500))
    recent = time.time()  # older tombstones would be reclaimed while hashing
    call(app, "DELETE", "/d1/7/a/c/o3", status=404, X_Timestamp=ts(recent))
    resp = call(app, "REPLICATE", "/d1/7", status=200)
    hashes = resp.json
    assert hashes == diskfile.get_hashes(dev, 7)
    h1, h2, h3 = (hash_path("a", "c", o) for o in ("o1", "o2", "o3"))
    assert set(hashes) == {h1[-3:], h2[-3:], h3[-3:]}
    assert call(app, "REPLICATE", "/d1/99", status=200).json == {}
    # a change behind the cache shows after asking for that suffix
    data = os.path.join(diskfile.object_dir(dev, 7, h1), ts(1000) + ".data")
    os.rename(data, data.replace(ts(1000), ts(1001)))
    assert call(app, "REPLICATE", "/d1/7").json == hashes
    again = call(app, "REPLICATE", "/d1/7/%s-fff" % h1[-3:]).json
    assert again[h1[-3:]] != hashes[h1[-3:]]
    resp = app.request("/d1/7", method="REPLICATE", status=200,
                       body=json.dumps({"list": [h2[-3:], h3[-3:]]}).encode())
    inventory = resp.json
    assert inventory[h2] == {"data": ts(1000), "meta": ts(1500), "ts": None,
                             "name": "/a/c/o2"}
    assert inventory[h3] == {"data": None, "meta": None, "ts": ts(recent), "name": "/a/c/o3"}
    app.request("/d1/7", method="REPLICATE", body=b"[1]", status=400)
    call(app, "REPLICATE", "/nodev/7", status=507)


# -- startup and the real server ---------------------------------------------------------------

def test_create_app_refuses_devices_without_xattrs(conf: cfg.ConfigOpts,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> None:
        raise OSError(95, "Operation not supported")

    monkeypatch.setattr(os, "setxattr", refuse)
    with pytest.raises(RuntimeError) as info:
        server.create_app(conf)
    message = str(info.value)
    assert os.path.join(conf.objectstore.devices, "d1") in message
    assert "ext4" in message and "xfs" in message


def test_chunked_put_through_cheroot(conf: cfg.ConfigOpts) -> None:
    srv = Server(server.create_app(conf), "127.0.0.1", 0, threads=2, name="object-test")
    srv.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        pieces = [BODY[i:i + 700] for i in range(0, len(BODY), 700)]
        conn.request("PUT", "/d1/7/a/c/chunked", body=iter(pieces), encode_chunked=True,
                     headers={"X-Timestamp": ts(1000), "Transfer-Encoding": "chunked",
                              "Content-Type": "text/plain"})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 201 and resp.getheader("ETag") == ETAG
        conn.request("GET", "/d1/7/a/c/chunked", headers={"Range": "bytes=1-3"})
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (206, BODY[1:4])
        conn.close()
    finally:
        srv.stop()
