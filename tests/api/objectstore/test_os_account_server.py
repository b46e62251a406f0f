"""API tests of the account server (objectstore.account.server), in process."""
from __future__ import annotations

import json
import os

import pytest
from oslo_config import cfg
from webob import Request

import objectstore.conf
from objectstore.account import server as account_server
from objectstore.common import account_db, db
from objectstore.common.utils import Timestamp, hash_path


@pytest.fixture
def app(tmp_path):
    conf = cfg.ConfigOpts()
    objectstore.conf.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override("devices", str(tmp_path / "node"), "objectstore")
    conf.set_override("account_listing_limit", 50, "constraints")
    conf.set_override("max_meta_value_length", 10, "constraints")
    for dev in ("sda", "sdb"):
        os.makedirs(tmp_path / "node" / dev)
    return account_server.create_app(conf)


def ts(n):
    return Timestamp(n).internal


def call(app, method, path, body=None, **headers):
    req = Request.blank(path, method=method, headers=headers)
    if body is not None:
        req.body = body
    return req.get_response(app)


def put_account(app, stamp=1, path="/sda/1/a", **headers):
    return call(app, "PUT", path, **{"X-Timestamp": ts(stamp), **headers})


def report(app, container, put=2, delete=0, count=0, used=0, path="/sda/1/a"):
    return call(app, "PUT", path + "/" + container, **{
        "X-Put-Timestamp": ts(put), "X-Delete-Timestamp": ts(delete),
        "X-Object-Count": str(count), "X-Bytes-Used": str(used), "X-Timestamp": ts(put)})


def names(resp):
    return [e.get("name", e.get("subdir")) for e in resp.json]


def test_put_head_get(app):
    assert put_account(app, **{"X-Account-Meta-Owner": "me"}).status_int == 201
    assert put_account(app, stamp=2).status_int == 202
    resp = call(app, "HEAD", "/sda/1/a")
    assert resp.status_int == 204
    assert resp.headers["X-Account-Container-Count"] == "0"
    assert resp.headers["X-Account-Object-Count"] == "0"
    assert resp.headers["X-Account-Bytes-Used"] == "0"
    assert resp.headers["X-Account-Meta-Owner"] == "me"
    assert resp.headers["X-PUT-Timestamp"] == Timestamp(2).normal
    resp = call(app, "GET", "/sda/1/a")
    assert resp.status_int == 200 and resp.json == []
    path = db.db_path(app.devices, "sda", "account", 1, hash_path("a"))
    assert os.path.isfile(path)


def test_container_reports_and_listing(app):
    put_account(app)
    assert report(app, "c1", count=2, used=20).status_int == 201
    assert report(app, "c2", count=1, used=5).status_int == 201
    assert report(app, "d-1").status_int == 201
    assert report(app, "d-2").status_int == 201
    resp = call(app, "GET", "/sda/1/a")
    assert names(resp) == ["c1", "c2", "d-1", "d-2"]
    assert resp.json[0] == {"name": "c1", "count": 2, "bytes": 20,
                            "last_modified": Timestamp(2).isoformat}
    assert resp.headers["X-Account-Container-Count"] == "4"
    assert resp.headers["X-Account-Object-Count"] == "3"
    assert resp.headers["X-Account-Bytes-Used"] == "25"
    assert names(call(app, "GET", "/sda/1/a?delimiter=-")) == ["c1", "c2", "d-"]
    assert names(call(app, "GET", "/sda/1/a?prefix=c&reverse=true")) == ["c2", "c1"]
    assert names(call(app, "GET", "/sda/1/a?limit=2&marker=c1")) == ["c2", "d-1"]
    assert names(call(app, "GET", "/sda/1/a?end_marker=c2")) == ["c1"]
    # the container is deleted: a report with a newer delete timestamp
    assert report(app, "c2", put=2, delete=3).status_int == 204
    resp = call(app, "HEAD", "/sda/1/a")
    assert resp.headers["X-Account-Container-Count"] == "3"
    assert resp.headers["X-Account-Bytes-Used"] == "20"


def test_report_errors(app):
    assert report(app, "c").status_int == 404  # no account
    put_account(app)
    resp = call(app, "PUT", "/sda/1/a/c", **{"X-Object-Count": "1"})
    assert resp.status_int == 400  # no X-Put-Timestamp
    resp = call(app, "PUT", "/sda/1/a/c", **{"X-Put-Timestamp": ts(2),
                                             "X-Object-Count": "many"})
    assert resp.status_int == 400


def test_listing_limit_over_max_is_412(app):
    put_account(app)
    assert call(app, "GET", "/sda/1/a?limit=50").status_int == 200
    assert call(app, "GET", "/sda/1/a?limit=51").status_int == 412


def test_post_metadata(app):
    put_account(app)
    hdrs = {"X-Timestamp": ts(3), "X-Account-Meta-Quota-Bytes": "100",
            "X-Account-Sysmeta-Core-Access-Control": "{}", "X-Container-Meta-No": "x"}
    assert call(app, "POST", "/sda/1/a", **hdrs).status_int == 204
    resp = call(app, "HEAD", "/sda/1/a")
    assert resp.headers["X-Account-Meta-Quota-Bytes"] == "100"
    assert resp.headers["X-Account-Sysmeta-Core-Access-Control"] == "{}"
    assert "X-Container-Meta-No" not in resp.headers
    call(app, "POST", "/sda/1/a", **{"X-Timestamp": ts(2), "X-Account-Meta-Quota-Bytes": "1"})
    assert call(app, "HEAD", "/sda/1/a").headers["X-Account-Meta-Quota-Bytes"] == "100"
    call(app, "POST", "/sda/1/a", **{"X-Timestamp": ts(4), "X-Account-Meta-Quota-Bytes": ""})
    assert "X-Account-Meta-Quota-Bytes" not in call(app, "HEAD", "/sda/1/a").headers
    resp = call(app, "POST", "/sda/1/a",
                **{"X-Timestamp": ts(5), "X-Account-Meta-Long": "v" * 11})
    assert resp.status_int == 400
    assert call(app, "POST", "/sda/1/b", **{"X-Timestamp": ts(5)}).status_int == 404


def test_delete_account(app):
    put_account(app, **{"X-Account-Meta-Owner": "me"})
    report(app, "c")
    assert call(app, "DELETE", "/sda/1/a", **{"X-Timestamp": ts(5)}).status_int == 204
    for method in ("HEAD", "GET"):
        resp = call(app, method, "/sda/1/a")
        assert resp.status_int == 404
        assert resp.headers["X-Account-Status"] == "Deleted"
        assert resp.headers["X-Backend-Timestamp"] == ts(5)
    resp = report(app, "c2", put=6)
    assert resp.status_int == 404
    assert resp.headers["X-Account-Status"] == "Deleted"
    assert put_account(app, stamp=7).status_int == 403
    assert call(app, "DELETE", "/sda/1/a", **{"X-Timestamp": ts(8)}).status_int == 404
    # the reaper still sees the containers in the database
    path = db.db_path(app.devices, "sda", "account", 1, hash_path("a"))
    broker = account_db.AccountBroker(path)
    assert [c["name"] for c in broker.list_containers(10)] == ["c"]
    assert broker.metadata["X-Account-Meta-Owner"][0] == ""
    broker.close()


def test_missing_account_device_and_bad_paths(app):
    assert call(app, "HEAD", "/sda/1/nope").status_int == 404
    assert call(app, "HEAD", "/sdz/1/a").status_int == 507
    assert call(app, "HEAD", "/sda/1").status_int == 400
    assert call(app, "COPY", "/sda/1/a").status_int == 405
    assert call(app, "PUT", "/sda/1/a").status_int == 400  # no X-Timestamp
    assert put_account(app, path="/sda/1/" + "a" * 257).status_int == 400


def test_replicate_between_account_dbs(app):
    put_account(app, path="/sda/1/a")
    put_account(app, path="/sdb/1/a")
    for name in ("c1", "c2"):
        report(app, name, count=1, used=3, path="/sda/1/a")
    src = account_db.AccountBroker(db.db_path(app.devices, "sda", "account", 1, hash_path("a")))
    info = src.get_replication_info()
    path = "/sdb/1/" + hash_path("a")
    resp = call(app, "REPLICATE", path, body=json.dumps(["sync", info]).encode())
    assert resp.status_int == 200 and resp.json["point"] == -1
    body = json.dumps(["merge_items", src.get_items_since(-1), info["id"]]).encode()
    assert call(app, "REPLICATE", path, body=body).status_int == 202
    resp = call(app, "REPLICATE", path, body=json.dumps(["sync", info]).encode())
    assert resp.json["point"] == info["max_row"]
    assert resp.json["hash"] == info["hash"]
    head = call(app, "HEAD", "/sdb/1/a")
    assert head.headers["X-Account-Container-Count"] == "2"
    assert head.headers["X-Account-Bytes-Used"] == "6"
    src.close()
