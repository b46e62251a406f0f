"""python-swiftclient, unchanged, against the proxy served over HTTP (no auth in the
pipeline: a preauth URL and any token)."""
from __future__ import annotations

import io
import os
from typing import Any

import pytest

from tests.fixtures.objectstore import Cluster, cluster  # noqa: F401

swiftclient = pytest.importorskip("swiftclient")


def test_swiftclient_round_trip(cluster: Cluster) -> None:  # noqa: F811
    url = cluster.serve_proxy() + "/v1/AUTH_sc"
    conn: Any = swiftclient.Connection(preauthurl=url, preauthtoken="any", retries=0)
    conn.put_container("photos", headers={"X-Container-Meta-Owner": "me"})
    body = os.urandom(200000)
    etag = conn.put_object("photos", "a/b.jpg", io.BytesIO(body), chunk_size=65536)
    assert etag
    conn.put_object("photos", "c.txt", b"text", content_length=4)
    headers, listing = conn.get_container("photos")
    assert headers["x-container-object-count"] == "2"
    assert headers["x-container-meta-owner"] == "me"
    assert [o["name"] for o in listing] == ["a/b.jpg", "c.txt"]
    _headers, listing = conn.get_container("photos", delimiter="/")
    assert listing[0] == {"subdir": "a/"}
    headers, data = conn.get_object("photos", "a/b.jpg")
    assert data == body and headers["etag"] == etag
    assert headers["content-type"] == "image/jpeg"
    conn.post_object("photos", "c.txt", headers={"X-Object-Meta-Tag": "t"})
    assert conn.head_object("photos", "c.txt")["x-object-meta-tag"] == "t"
    account_headers, containers = conn.get_account()
    assert [c["name"] for c in containers] == ["photos"]
    assert "x-account-container-count" in account_headers
    with pytest.raises(swiftclient.ClientException) as err:
        conn.delete_container("photos")
    assert err.value.http_status == 409
    conn.delete_object("photos", "a/b.jpg")
    conn.delete_object("photos", "c.txt")
    conn.delete_container("photos")
    with pytest.raises(swiftclient.ClientException) as err:
        conn.head_container("photos")
    assert err.value.http_status == 404
    conn.close()
