"""API tests of the container server (objectstore.container.server), in process, with
a real account server on 127.0.0.1 for the account reports."""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time

import pytest
from oslo_config import cfg
from webob import Request

import objectstore.conf
from common.wsgi.server import Server
from objectstore.account import server as account_server
from objectstore.common import backend, container_db, db
from objectstore.common.utils import Timestamp, hash_path
from objectstore.container import server as container_server


def _conf(tmp_path, **container_opts):
    conf = cfg.ConfigOpts()
    objectstore.conf.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override("devices", str(tmp_path / "node"), "objectstore")
    conf.set_override("container_listing_limit", 100, "constraints")
    conf.set_override("max_meta_count", 3, "constraints")
    for name, value in container_opts.items():
        conf.set_override(name, value, "container_server")
    for dev in ("sda", "sdb"):
        os.makedirs(tmp_path / "node" / dev, exist_ok=True)
    return conf


@pytest.fixture
def app(tmp_path):
    app = container_server.create_app(_conf(tmp_path))
    yield app
    app.close()


def ts(n):
    return Timestamp(n).internal


def call(app, method, path, body=None, **headers):
    req = Request.blank(path, method=method, headers=headers)
    if body is not None:
        req.body = body
    return req.get_response(app)


def put_container(app, path="/sda/1/a/c", stamp=1, **headers):
    return call(app, "PUT", path, **{"X-Timestamp": ts(stamp), **headers})


def put_object(app, name, stamp=2, size=1, path="/sda/1/a/c"):
    return call(app, "PUT", path + "/" + name, **{
        "X-Timestamp": ts(stamp), "X-Size": str(size), "X-Content-Type": "text/plain",
        "X-Etag": "etag-" + name})


def names(resp):
    return [e.get("name", e.get("subdir")) for e in resp.json]


# -- container verbs --------------------------------------------------------------


def test_put_head_get_empty(app):
    assert put_container(app, **{"X-Container-Meta-Color": "blue"}).status_int == 201
    assert put_container(app, stamp=2).status_int == 202
    resp = call(app, "HEAD", "/sda/1/a/c")
    assert resp.status_int == 204
    assert resp.headers["X-Container-Object-Count"] == "0"
    assert resp.headers["X-Container-Bytes-Used"] == "0"
    assert resp.headers["X-PUT-Timestamp"] == Timestamp(2).normal
    assert resp.headers["X-Backend-Timestamp"] == ts(2)
    assert resp.headers["X-Container-Meta-Color"] == "blue"
    assert "X-Timestamp" in resp.headers
    resp = call(app, "GET", "/sda/1/a/c")
    assert resp.status_int == 200
    assert resp.content_type == "application/json"
    assert resp.json == []


def test_object_rows_and_listing(app):
    put_container(app)
    for name, size in (("b", 3), ("a", 4), ("dir/x", 5), ("dir/y", 6)):
        assert put_object(app, name, size=size).status_int == 201
    resp = call(app, "GET", "/sda/1/a/c")
    assert names(resp) == ["a", "b", "dir/x", "dir/y"]
    assert resp.json[0] == {"name": "a", "hash": "etag-a", "bytes": 4,
                            "content_type": "text/plain",
                            "last_modified": Timestamp(2).isoformat}
    assert resp.headers["X-Container-Object-Count"] == "4"
    assert resp.headers["X-Container-Bytes-Used"] == "18"
    assert call(app, "DELETE", "/sda/1/a/c/b", **{"X-Timestamp": ts(3)}).status_int == 204
    assert names(call(app, "GET", "/sda/1/a/c")) == ["a", "dir/x", "dir/y"]
    assert names(call(app, "GET", "/sda/1/a/c?delimiter=/")) == ["a", "dir/"]
    assert names(call(app, "GET", "/sda/1/a/c?path=dir")) == ["dir/x", "dir/y"]
    assert names(call(app, "GET", "/sda/1/a/c?prefix=dir/&reverse=on")) == ["dir/y", "dir/x"]
    assert names(call(app, "GET", "/sda/1/a/c?limit=1&marker=a")) == ["dir/x"]
    assert names(call(app, "GET", "/sda/1/a/c?end_marker=dir/y")) == ["a", "dir/x"]


def test_listing_limit_over_max_is_412(app):
    put_container(app)
    assert call(app, "GET", "/sda/1/a/c?limit=100").status_int == 200
    resp = call(app, "GET", "/sda/1/a/c?limit=101")
    assert resp.status_int == 412
    assert b"Maximum limit is 100" in resp.body
    assert call(app, "GET", "/sda/1/a/c?prefix=%FF").status_int == 400


def test_object_row_into_missing_container_is_404(app):
    assert put_object(app, "o").status_int == 404
    assert call(app, "DELETE", "/sda/1/a/c/o", **{"X-Timestamp": ts(3)}).status_int == 404


def test_delete_non_empty_is_409_then_empty_is_204(app):
    put_container(app)
    put_object(app, "o")
    assert call(app, "DELETE", "/sda/1/a/c", **{"X-Timestamp": ts(5)}).status_int == 409
    call(app, "DELETE", "/sda/1/a/c/o", **{"X-Timestamp": ts(6)})
    assert call(app, "DELETE", "/sda/1/a/c", **{"X-Timestamp": ts(7)}).status_int == 204
    resp = call(app, "HEAD", "/sda/1/a/c")
    assert resp.status_int == 404
    assert resp.headers["X-Backend-Timestamp"] == ts(7)
    assert resp.headers["X-Backend-Delete-Timestamp"] == ts(7)
    assert call(app, "GET", "/sda/1/a/c").status_int == 404
    assert call(app, "DELETE", "/sda/1/a/c", **{"X-Timestamp": ts(8)}).status_int == 404
    assert put_object(app, "late", stamp=9).status_int == 404
    # an older PUT does not bring it back, a newer one does
    assert put_container(app, stamp=6).status_int == 409
    assert put_container(app, stamp=10).status_int == 201
    assert call(app, "HEAD", "/sda/1/a/c").status_int == 204


def test_missing_container_and_device(app):
    assert call(app, "HEAD", "/sda/1/a/nope").status_int == 404
    assert call(app, "GET", "/sdz/1/a/c").status_int == 507
    assert put_container(app, path="/sdz/1/a/c").status_int == 507
    assert call(app, "HEAD", "/sda/1/a").status_int == 400


def test_write_without_timestamp_is_400(app):
    assert call(app, "PUT", "/sda/1/a/c").status_int == 400
    put_container(app)
    assert call(app, "PUT", "/sda/1/a/c/o", **{"X-Size": "1"}).status_int == 400
    assert call(app, "PUT", "/sda/1/a/c/o", **{"X-Timestamp": ts(2)}).status_int == 400
    assert call(app, "POST", "/sda/1/a/c", **{"X-Timestamp": "later"}).status_int == 400


def test_post_metadata_newer_wins_and_removal(app):
    put_container(app, **{"X-Container-Read": ".r:*"})
    hdrs = {"X-Container-Meta-A": "1", "X-Versions-Location": "vers",
            "X-Container-Sysmeta-Tag": "s", "X-Object-Meta-Ignored": "x"}
    assert call(app, "POST", "/sda/1/a/c", **{"X-Timestamp": ts(3), **hdrs}).status_int == 204
    call(app, "POST", "/sda/1/a/c", **{"X-Timestamp": ts(2), "X-Container-Meta-A": "old"})
    resp = call(app, "HEAD", "/sda/1/a/c")
    assert resp.headers["X-Container-Meta-A"] == "1"
    assert resp.headers["X-Container-Read"] == ".r:*"
    assert resp.headers["X-Versions-Location"] == "vers"
    assert resp.headers["X-Container-Sysmeta-Tag"] == "s"
    assert "X-Object-Meta-Ignored" not in resp.headers
    call(app, "POST", "/sda/1/a/c", **{"X-Timestamp": ts(4), "X-Container-Meta-A": "",
                                       "X-Remove-Versions-Location": "x"})
    resp = call(app, "HEAD", "/sda/1/a/c")
    assert "X-Container-Meta-A" not in resp.headers
    assert "X-Versions-Location" not in resp.headers
    assert call(app, "POST", "/sda/1/a/nope", **{"X-Timestamp": ts(4)}).status_int == 404


def test_metadata_limits_are_400(app):
    too_many = {"X-Container-Meta-%d" % i: "v" for i in range(4)}
    assert put_container(app, **too_many).status_int == 400
    put_container(app)
    resp = call(app, "POST", "/sda/1/a/c",
                **{"X-Timestamp": ts(2), "X-Container-Meta-" + "n" * 129: "v"})
    assert resp.status_int == 400
    resp = call(app, "POST", "/sda/1/a/c",
                **{"X-Timestamp": ts(2), "X-Container-Meta-Big": "v" * 257})
    assert resp.status_int == 400


def test_bad_container_name_is_400(app):
    assert put_container(app, path="/sda/1/a/" + "c" * 257).status_int == 400


# -- replication ------------------------------------------------------------------


def _hash_path(app, dev, account="a", container="c"):
    return db.db_path(app.devices, dev, "container", 1, hash_path(account, container))


def replicate(app, dev, body):
    return call(app, "REPLICATE", "/%s/1/%s" % (dev, hash_path("a", "c")),
                body=json.dumps(body).encode())


def test_replicate_sync_and_merge_items(app):
    put_container(app, path="/sda/1/a/c", **{"X-Container-Meta-K": "v"})
    for name in ("x", "y", "z"):
        put_object(app, name, path="/sda/1/a/c")
    call(app, "DELETE", "/sda/1/a/c/y", **{"X-Timestamp": ts(3)})
    put_container(app, path="/sdb/1/a/c")
    src = container_db.ContainerBroker(_hash_path(app, "sda"))
    info = src.get_replication_info()

    resp = replicate(app, "sdb", ["sync", info])
    assert resp.status_int == 200
    assert resp.json["point"] == -1 and resp.json["max_row"] == -1
    resp = replicate(app, "sdb", ["merge_items", src.get_items_since(-1), info["id"]])
    assert resp.status_int == 202
    resp = replicate(app, "sdb", ["sync", info])
    assert resp.json["point"] == info["max_row"]
    assert resp.json["hash"] == info["hash"]
    listing = call(app, "GET", "/sdb/1/a/c")
    assert names(listing) == ["x", "z"]
    assert listing.headers["X-Container-Meta-K"] == "v"  # metadata came with the sync
    assert replicate(app, "sdb", ["merge_syncs", [
        {"remote_id": "other", "sync_point": 7}]]).status_int == 202
    dst = container_db.ContainerBroker(_hash_path(app, "sdb"))
    assert dst.get_sync("other") == 7
    src.close()
    dst.close()


def test_replicate_errors(app):
    assert replicate(app, "sda", ["sync", {"id": "x"}]).status_int == 404
    put_container(app)
    assert replicate(app, "sda", ["bogus"]).status_int == 400
    resp = call(app, "REPLICATE", "/sda/1/" + hash_path("a", "c"), body=b"{not json")
    assert resp.status_int == 400
    assert replicate(app, "sdz", ["sync", {}]).status_int == 507


def test_replication_put_of_whole_db(app, tmp_path):
    put_container(app)
    put_object(app, "o")
    src = container_db.ContainerBroker(_hash_path(app, "sda"))
    snap = str(tmp_path / "snap.db")
    src.snapshot(snap)
    with open(snap, "rb") as fh:
        body = fh.read()
    path = "/sdb/1/" + hash_path("a", "c")
    resp = call(app, "PUT", path, body=body, **{"X-Backend-Replication": "true"})
    assert resp.status_int == 201
    dst = container_db.ContainerBroker(_hash_path(app, "sdb"))
    assert dst.get_info()["id"] != src.get_info()["id"]
    assert dst.get_sync(src.get_info()["id"]) == src.get_max_row()
    assert names(call(app, "GET", "/sdb/1/a/c")) == ["o"]
    assert os.listdir(tmp_path / "node" / "sdb" / "tmp") == []
    again = call(app, "PUT", path, body=body, **{"X-Backend-Replication": "true"})
    assert again.status_int == 409
    bad = call(app, "PUT", "/sdb/1/" + hash_path("a", "other"), body=b"garbage" * 100,
               **{"X-Backend-Replication": "true"})
    assert bad.status_int == 400
    assert not os.path.exists(_hash_path(app, "sdb", container="other"))
    src.close()
    dst.close()


def test_damaged_db_is_quarantined(app):
    put_container(app)
    path = _hash_path(app, "sda")
    with open(path, "r+b") as fh:
        fh.write(b"this is no longer an sqlite file at all" * 10)
    resp = call(app, "HEAD", "/sda/1/a/c")
    assert resp.status_int == 500
    assert not os.path.exists(path)
    quarantined = os.path.join(app.devices, "sda", "quarantined", "containers",
                               hash_path("a", "c"))
    assert os.path.isdir(quarantined)


def test_requests_share_a_kept_connection(app):
    put_container(app)
    assert call(app, "HEAD", "/sda/1/a/c").status_int == 204
    kept = list(app.connections._idle.values())
    assert len(kept) == 1
    conn = kept[0].conn
    for n in range(3):
        assert put_object(app, "o%d" % n).status_int == 201
    assert call(app, "HEAD", "/sda/1/a/c").headers["X-Container-Object-Count"] == "3"
    assert [entry.conn for entry in app.connections._idle.values()] == [conn]


def test_a_failed_request_drops_its_connection(app, monkeypatch):
    put_container(app)
    assert call(app, "HEAD", "/sda/1/a/c").status_int == 204
    assert len(app.connections) == 1

    def broken(self):
        self.conn()  # takes the kept connection
        raise sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(container_db.ContainerBroker, "get_info", broken)
    assert call(app, "HEAD", "/sda/1/a/c").status_int == 500
    assert len(app.connections) == 0


# -- account reports over real HTTP ------------------------------------------------


class CountingApp:
    """Counts the container reports reaching the real account server app."""

    def __init__(self, app):
        self.app = app
        self.reports = 0
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "PUT" and environ["PATH_INFO"].count("/") == 4:
            with self.lock:
                self.reports += 1
        return self.app(environ, start_response)


@pytest.fixture
def account_node(tmp_path):
    conf = _conf(tmp_path / "acct")
    counting = CountingApp(account_server.create_app(conf))
    server = Server(counting, "127.0.0.1", 0, threads=4)
    server.start()
    yield server, counting
    server.stop()


def account_head(server, account="a"):
    resp = backend.request("127.0.0.1", server.port, "sda", 2, "HEAD", "/" + account)
    resp.read()
    resp.close()
    return resp


def account_headers(server):
    return {"X-Account-Host": "127.0.0.1:%d" % server.port, "X-Account-Partition": "2",
            "X-Account-Device": "sda"}


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_container_put_and_delete_report_to_account(tmp_path, account_node):
    server, _counting = account_node
    app = container_server.create_app(_conf(tmp_path, account_update_interval=0.2))
    try:
        hdrs = account_headers(server)
        # no account yet: the account server says 404 and so does the container PUT
        assert put_container(app, **hdrs).status_int == 404
        resp = backend.request("127.0.0.1", server.port, "sda", 2, "PUT", "/a",
                               headers={"X-Timestamp": ts(1)})
        assert resp.status == 201
        resp.close()
        assert put_container(app, stamp=2, **hdrs).status_int == 202
        assert account_head(server).getheader("X-Account-Container-Count") == "1"
        broker = container_db.ContainerBroker(_hash_path(app, "sda"))
        assert not broker.needs_report()
        for n in range(3):
            put_object(app, "o%d" % n, size=10)
        assert wait_for(lambda: account_head(server).getheader(
            "X-Account-Bytes-Used") == "30")
        assert account_head(server).getheader("X-Account-Object-Count") == "3"
        for n in range(3):
            call(app, "DELETE", "/sda/1/a/c/o%d" % n, **{"X-Timestamp": ts(3)})
        assert call(app, "DELETE", "/sda/1/a/c",
                    **{"X-Timestamp": ts(4), **hdrs}).status_int == 204
        assert account_head(server).getheader("X-Account-Container-Count") == "0"
        broker.close()
    finally:
        app.close()


def test_object_reports_are_debounced(tmp_path, account_node):
    server, counting = account_node
    resp = backend.request("127.0.0.1", server.port, "sda", 2, "PUT", "/a",
                           headers={"X-Timestamp": ts(1)})
    resp.close()
    app = container_server.create_app(_conf(tmp_path, account_update_interval=0.5))
    try:
        put_container(app, **account_headers(server))
        counting.reports = 0
        start = time.monotonic()
        for n in range(20):
            put_object(app, "o%02d" % n)
        elapsed = time.monotonic() - start
        assert wait_for(lambda: account_head(server).getheader(
            "X-Account-Object-Count") == "20")
        # one report per interval at most (+1 for the first, +1 for the tail)
        assert 1 <= counting.reports <= int(elapsed / 0.5) + 2
    finally:
        app.close()


def test_real_http_paths_with_unicode_and_percent(tmp_path):
    app = container_server.create_app(_conf(tmp_path))
    server = Server(app, "127.0.0.1", 0, threads=4)
    server.start()
    try:
        def req(method, path, **headers):
            resp = backend.request("127.0.0.1", server.port, "sda", 1, method, path,
                                   headers=headers)
            body = resp.read()
            resp.close()
            return resp.status, body

        assert req("PUT", "/ä/c d", **{"X-Timestamp": ts(1)})[0] == 201
        for name in ("dir/ö %25 x", "a%2Fb", "plain"):
            status, _ = req("PUT", "/ä/c d/" + name, **{
                "X-Timestamp": ts(2), "X-Size": "1", "X-Content-Type": "t", "X-Etag": "e"})
            assert status == 201
        status, body = req("GET", "/ä/c d")
        assert status == 200
        assert [e["name"] for e in json.loads(body)] == ["a%2Fb", "dir/ö %25 x", "plain"]
        path = db.db_path(app.devices, "sda", "container", 1, hash_path("ä", "c d"))
        assert os.path.isfile(path)
    finally:
        server.stop()
        app.close()
