"""The data filters (copy, SLO, DLO, versioned writes) in front of the real proxy and
storage servers, and the image service's object store store against them."""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Iterator

import pytest
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import session as ks_session

from image import exception as image_exception
from image.store import swift as swift_store
from objectstore.middleware import copy, dlo, slo, versioned_writes
from tests.fixtures.objectstore import Cluster

ACCOUNT = "/v1/AUTH_data"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    filters = [copy.filter_factory({}), slo.filter_factory({}, min_segment_size="1"),
               dlo.filter_factory({}), versioned_writes.filter_factory({})]
    instance = Cluster(tmp_path_factory.mktemp("data"), filters=filters)
    try:
        yield instance
    finally:
        instance.stop()


def _segments(cluster: Cluster, container: str, parts: list[bytes]) -> list[dict[str, Any]]:
    cluster.client.put(ACCOUNT + "/" + container, status=(201, 202))
    manifest = []
    for n, part in enumerate(parts):
        path = "/%s/seg%02d" % (container, n)
        cluster.client.put(ACCOUNT + path, part, status=201)
        manifest.append({"path": path, "etag": hashlib.md5(part).hexdigest(),
                         "size_bytes": len(part)})
    return manifest


def test_slo_lists_its_whole_size_but_counts_the_manifest_once(cluster: Cluster) -> None:
    parts = [os.urandom(1000), os.urandom(1000), os.urandom(500)]
    manifest = _segments(cluster, "slo_segs", parts)
    cluster.client.put(ACCOUNT + "/slo", status=(201, 202))
    cluster.client.put(ACCOUNT + "/slo/big.txt?multipart-manifest=put",
                       json.dumps(manifest), headers={"Content-Type": "text/plain"},
                       status=201)

    got = cluster.client.get(ACCOUNT + "/slo/big.txt", status=200)
    assert got.body == b"".join(parts)
    assert got.headers["X-Static-Large-Object"] == "True"
    ranged = cluster.client.get(ACCOUNT + "/slo/big.txt", headers={"Range": "bytes=990-1010"},
                                status=206)
    assert ranged.body == b"".join(parts)[990:1011]

    listing = cluster.client.get(ACCOUNT + "/slo?format=json", status=200).json
    assert [(e["name"], e["bytes"], e["content_type"]) for e in listing] == [
        ("big.txt", 2500, "text/plain")]
    head = cluster.client.head(ACCOUNT + "/slo", status=204)
    stored = cluster.client.get(ACCOUNT + "/slo/big.txt?multipart-manifest=get").body
    assert int(head.headers["X-Container-Bytes-Used"]) == len(stored)

    cluster.client.delete(ACCOUNT + "/slo/big.txt?multipart-manifest=delete",
                          headers={"Accept": "application/json"}, status=200)
    assert cluster.client.get(ACCOUNT + "/slo_segs?format=json").json == []


def test_dlo_and_copy(cluster: Cluster) -> None:
    parts = [b"a" * 10, b"b" * 10]
    _segments(cluster, "dlo_segs", parts)
    cluster.client.put(ACCOUNT + "/dlo", status=(201, 202))
    cluster.client.put(ACCOUNT + "/dlo/man", b"",
                       headers={"X-Object-Manifest": "dlo_segs/seg"}, status=201)
    assert cluster.client.get(ACCOUNT + "/dlo/man").body == b"".join(parts)

    cluster.client.request(ACCOUNT + "/dlo_segs/seg00", method="COPY",
                           headers={"Destination": "dlo/copied"}, status=201)
    assert cluster.client.get(ACCOUNT + "/dlo/copied").body == parts[0]
    cluster.client.put(ACCOUNT + "/dlo/copied2", b"", headers={"X-Copy-From": "dlo_segs/seg01"},
                       status=201)
    assert cluster.client.get(ACCOUNT + "/dlo/copied2").body == parts[1]


def test_versioned_writes_keep_and_restore_the_previous_version(cluster: Cluster) -> None:
    cluster.client.put(ACCOUNT + "/archive", status=(201, 202))
    cluster.client.put(ACCOUNT + "/docs", headers={"X-Versions-Location": "archive"},
                       status=(201, 202))
    cluster.client.put(ACCOUNT + "/docs/a", b"v1", status=201)
    cluster.client.put(ACCOUNT + "/docs/a", b"v2", status=201)
    assert len(cluster.client.get(ACCOUNT + "/archive?format=json").json) == 1
    cluster.client.delete(ACCOUNT + "/docs/a", status=204)
    assert cluster.client.get(ACCOUNT + "/docs/a").body == b"v1"


@pytest.fixture
def image_store(cluster: Cluster) -> swift_store.SwiftStore:
    url = cluster.serve_proxy() + ACCOUNT

    def make() -> ks_adapter.Adapter:
        return ks_adapter.Adapter(ks_session.Session(), endpoint_override=url)
    return swift_store.SwiftStore(make, "images", segment_size=4096)


def test_image_store_round_trip_in_segments(image_store: swift_store.SwiftStore,
                                            cluster: Cluster) -> None:
    data = os.urandom(10000)
    staged = image_store.add("img1", iter([data[:3000], data[3000:9000], data[9000:]]))
    assert staged.size == 10000 and len(staged.segments) == 3
    with pytest.raises(image_exception.DataNotFound):
        image_store.get(staged.location)  # nothing visible before the commit
    staged.commit()
    assert staged.location == "swift://images/img1"
    assert b"".join(image_store.get(staged.location)) == data
    assert b"".join(image_store.get(staged.location, 4000, 200)) == data[4000:4200]
    names = [e["name"] for e in cluster.client.get(ACCOUNT + "/images?format=json").json]
    assert names == ["img1", "img1-00001", "img1-00002", "img1-00003"]

    image_store.delete(staged.location)
    assert cluster.client.get(ACCOUNT + "/images?format=json").json == []
    image_store.delete(staged.location)  # missing data is not an error


def test_image_store_abort_and_empty_image(image_store: swift_store.SwiftStore,
                                           cluster: Cluster) -> None:
    staged = image_store.add("img2", iter([b"x" * 5000]))
    staged.abort()
    assert cluster.client.get(ACCOUNT + "/images?format=json").json == []

    empty = image_store.add("img3", iter([]))
    empty.commit()
    assert b"".join(image_store.get(empty.location)) == b""
    image_store.delete(empty.location)

    def failing() -> Iterator[bytes]:
        yield b"y" * 5000
        raise OSError("client went away")
    with pytest.raises(OSError):
        image_store.add("img4", failing())
    assert cluster.client.get(ACCOUNT + "/images?format=json").json == []


def test_image_store_renews_a_revoked_token_before_streaming_a_segment() -> None:
    """keystoneauth re-sends a request after a 401 with a new token; a streamed
    segment's body is consumed by then. So each segment PUT follows a body-less
    HEAD (where a revoked token is renewed) and is itself never re-sent."""
    from unittest import mock

    calls: list[tuple[str, dict[str, Any]]] = []

    class Resp:
        def __init__(self, status: int, etag: str = "") -> None:
            self.status_code = status
            self.headers = {"Etag": etag}
            self.text = ""

    def request(path: str, method: str, **kwargs: Any) -> Resp:
        calls.append((method, kwargs))
        if method == "PUT" and "data" in kwargs and not isinstance(kwargs["data"], bytes):
            body = b"".join(kwargs["data"])
            return Resp(201, hashlib.md5(body).hexdigest())
        return Resp(201 if method == "PUT" else 204)

    adapter = mock.Mock(request=request)
    store = swift_store.SwiftStore(lambda: adapter, "images", segment_size=4096)
    staged = store.add("img9", iter([b"a" * 5000, b"b" * 5000]))
    assert len(staged.segments) == 3
    methods = [m for m, _ in calls]
    assert methods == ["PUT", "HEAD", "PUT", "HEAD", "PUT", "HEAD", "PUT"]
    segment_puts = [kw for m, kw in calls[1:] if m == "PUT"]
    assert all(kw["allow_reauth"] is False for kw in segment_puts)
