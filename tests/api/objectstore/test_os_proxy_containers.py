"""Containers through the proxy (real cluster): create, metadata, delete, and the
listings in plain text, JSON and XML with Swift's query parameters."""
from __future__ import annotations

from typing import Any

from tests.fixtures.objectstore import Cluster, cluster  # noqa: F401

A = "/v1/AUTH_c"


def req(cluster: Cluster, method: str, path: str, **kwargs: Any) -> Any:  # noqa: F811
    return cluster.client.request(path, method=method, expect_errors=True, **kwargs)


def fill(cluster: Cluster, names: list[str]) -> None:  # noqa: F811
    assert req(cluster, "PUT", A + "/c").status_int == 201
    for name in names:
        assert req(cluster, "PUT", A + "/c/" + name, body=b"x" * len(name)).status_int == 201


def test_create_head_post_delete(cluster: Cluster) -> None:  # noqa: F811
    resp = req(cluster, "PUT", A + "/c", headers={"X-Container-Meta-Color": "red"})
    assert resp.status_int == 201 and resp.body == b""
    assert req(cluster, "PUT", A + "/c").status_int == 202
    resp = req(cluster, "HEAD", A + "/c")
    assert resp.status_int == 204
    assert resp.headers["X-Container-Object-Count"] == "0"
    assert resp.headers["X-Container-Bytes-Used"] == "0"
    assert resp.headers["X-Container-Meta-Color"] == "red"
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert float(resp.headers["X-Timestamp"]) > 0
    resp = req(cluster, "POST", A + "/c", headers={"X-Container-Meta-Color": "blue",
                                                   "X-Container-Meta-Size": "L"})
    assert resp.status_int == 204
    resp = req(cluster, "HEAD", A + "/c")
    assert resp.headers["X-Container-Meta-Color"] == "blue"
    req(cluster, "POST", A + "/c", headers={"X-Remove-Container-Meta-Size": "x"})
    assert "X-Container-Meta-Size" not in req(cluster, "HEAD", A + "/c").headers
    assert req(cluster, "DELETE", A + "/c").status_int == 204
    assert req(cluster, "HEAD", A + "/c").status_int == 404
    assert req(cluster, "DELETE", A + "/c").status_int == 404
    assert req(cluster, "POST", A + "/c").status_int == 404


def test_container_put_autocreates_the_account_and_is_listed(cluster: Cluster) -> None:  # noqa: F811,E501
    assert req(cluster, "PUT", "/v1/AUTH_fresh/box").status_int == 201
    resp = req(cluster, "GET", "/v1/AUTH_fresh")
    assert resp.status_int == 200
    assert resp.body == b"box\n"
    assert resp.headers["X-Account-Container-Count"] == "1"
    entries = req(cluster, "GET", "/v1/AUTH_fresh?format=json").json
    assert [e["name"] for e in entries] == ["box"]


def test_delete_of_non_empty_container_is_409(cluster: Cluster) -> None:  # noqa: F811
    fill(cluster, ["o"])
    assert req(cluster, "DELETE", A + "/c").status_int == 409
    assert req(cluster, "DELETE", A + "/c/o").status_int == 204
    assert req(cluster, "DELETE", A + "/c").status_int == 204


def test_empty_listing_formats(cluster: Cluster) -> None:  # noqa: F811
    req(cluster, "PUT", A + "/c")
    resp = req(cluster, "GET", A + "/c")
    assert resp.status_int == 204 and resp.body == b""
    resp = req(cluster, "GET", A + "/c?format=json")
    assert resp.status_int == 200 and resp.json == []
    resp = req(cluster, "GET", A + "/c?format=xml")
    assert resp.status_int == 200
    assert resp.body == (b'<?xml version="1.0" encoding="UTF-8"?>\n'
                         b'<container name="c"></container>')


def test_listing_formats_and_accept(cluster: Cluster) -> None:  # noqa: F811
    fill(cluster, ["a", "b&<c>", "d"])
    resp = req(cluster, "GET", A + "/c")
    assert resp.status_int == 200
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.body == b"a\nb&<c>\nd\n"
    resp = req(cluster, "GET", A + "/c", headers={"Accept": "application/json"})
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    entry = resp.json[0]
    assert entry["name"] == "a" and entry["bytes"] == 1
    assert entry["hash"] == "9dd4e461268c8034f5c8564e155c67a6"  # md5(b"x")
    assert set(entry) == {"name", "hash", "bytes", "content_type", "last_modified"}
    resp = req(cluster, "GET", A + "/c", headers={"Accept": "text/xml"})
    assert resp.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert b"<object><name>b&amp;&lt;c&gt;</name>" in resp.body
    assert req(cluster, "GET", A + "/c", headers={"Accept": "image/png"}).status_int == 406
    resp = req(cluster, "GET", A + "/c?format=json", headers={"Accept": "text/plain"})
    assert resp.json[0]["name"] == "a"


def test_listing_query_parameters(cluster: Cluster) -> None:  # noqa: F811
    fill(cluster, ["a/1", "a/2", "b", "c/1", "d"])

    def names(query: str) -> list[str]:
        resp = req(cluster, "GET", A + "/c?" + query)
        assert resp.status_int in (200, 204), resp.status
        return resp.text.splitlines()

    assert names("limit=2") == ["a/1", "a/2"]
    assert names("marker=b") == ["c/1", "d"]
    assert names("end_marker=b") == ["a/1", "a/2"]
    assert names("prefix=a/") == ["a/1", "a/2"]
    assert names("delimiter=/") == ["a/", "b", "c/", "d"]
    assert names("reverse=true&limit=2") == ["d", "c/1"]
    assert names("path=a") == ["a/1", "a/2"]
    subdirs = req(cluster, "GET", A + "/c?delimiter=/&format=json").json
    assert {"subdir": "a/"} in subdirs
    xml = req(cluster, "GET", A + "/c?delimiter=/&format=xml").body
    assert b'<subdir name="a/"><name>a/</name></subdir>' in xml
    resp = req(cluster, "GET", A + "/c?limit=10001")
    assert resp.status_int == 412 and b"Maximum limit is 10000" in resp.body
    assert req(cluster, "GET", A + "/c?limit=abc").status_int == 412


def test_account_listing_json_and_xml(cluster: Cluster) -> None:  # noqa: F811
    for name in ("x", "y"):
        assert req(cluster, "PUT", A + "/" + name).status_int == 201
    entries = req(cluster, "GET", A + "?format=json").json
    assert [e["name"] for e in entries] == ["x", "y"]
    assert set(entries[0]) == {"name", "count", "bytes", "last_modified"}
    xml = req(cluster, "GET", A + "?format=xml").body
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<account name="AUTH_c">')
    assert b"<container><name>x</name><count>0</count><bytes>0</bytes>" in xml
    assert req(cluster, "GET", A + "?marker=x").body == b"y\n"
    assert req(cluster, "HEAD", A).headers["X-Account-Storage-Policy-Policy-0-Container-Count"] \
        == "2"


def test_metadata_limits_and_policies(cluster: Cluster) -> None:  # noqa: F811
    resp = req(cluster, "PUT", A + "/c", headers={"X-Container-Meta-" + "k" * 129: "v"})
    assert resp.status_int == 400
    headers = {"X-Container-Meta-K%d" % i: "v" for i in range(91)}
    assert req(cluster, "PUT", A + "/c", headers=headers).status_int == 400
    resp = req(cluster, "PUT", A + "/c", headers={"X-Storage-Policy": "gold"})
    assert resp.status_int == 400
    resp = req(cluster, "PUT", A + "/c", headers={"X-Storage-Policy": "Policy-0"})
    assert resp.status_int == 201
    assert req(cluster, "HEAD", A + "/c").headers["X-Storage-Policy"] == "Policy-0"


def test_acls_are_stored_and_shown_to_the_owner(cluster: Cluster) -> None:  # noqa: F811
    resp = req(cluster, "PUT", A + "/c", headers={"X-Container-Read": ".r:*,.rlistings",
                                                  "X-Container-Write": "AUTH_other"})
    assert resp.status_int == 201
    resp = req(cluster, "HEAD", A + "/c")
    assert resp.headers["X-Container-Read"] == ".r:*,.rlistings"
    assert resp.headers["X-Container-Write"] == "AUTH_other"
    req(cluster, "POST", A + "/c", headers={"X-Remove-Container-Write": "x"})
    assert "X-Container-Write" not in req(cluster, "HEAD", A + "/c").headers
