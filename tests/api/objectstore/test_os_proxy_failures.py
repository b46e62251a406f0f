"""The proxy when storage nodes fail (real cluster, one device's servers stopped):
quorum writes, reads that fall over, and error limiting."""
from __future__ import annotations

from typing import Any

from tests.fixtures.objectstore import Cluster, cluster  # noqa: F401

C = "/v1/AUTH_f/c"


def req(cluster: Cluster, method: str, path: str, **kwargs: Any) -> Any:  # noqa: F811
    return cluster.client.request(path, method=method, expect_errors=True, **kwargs)


def test_one_device_down_writes_and_reads_still_work(cluster: Cluster) -> None:  # noqa: F811
    assert req(cluster, "PUT", C).status_int == 201
    assert req(cluster, "PUT", C + "/before", body=b"old").status_int == 201
    cluster.stop_device("d1")
    assert req(cluster, "PUT", C + "/after", body=b"new").status_int == 201
    for name, body in (("before", b"old"), ("after", b"new")):
        resp = req(cluster, "GET", C + "/" + name)
        assert resp.status_int == 200 and resp.body == body
    assert req(cluster, "PUT", "/v1/AUTH_f/c2").status_int == 201
    assert req(cluster, "HEAD", "/v1/AUTH_f/c2").status_int == 204
    assert req(cluster, "POST", C + "/after", headers={"X-Object-Meta-A": "1"}).status_int \
        == 202
    assert req(cluster, "DELETE", C + "/before").status_int == 204
    assert req(cluster, "GET", C + "/before").status_int == 404


def test_two_devices_down_is_503(cluster: Cluster) -> None:  # noqa: F811
    assert req(cluster, "PUT", C).status_int == 201
    assert req(cluster, "PUT", C + "/o", body=b"x").status_int == 201
    cluster.stop_device("d1")
    cluster.stop_device("d2")
    assert req(cluster, "PUT", C + "/new", body=b"x").status_int == 503
    assert req(cluster, "PUT", "/v1/AUTH_f/other").status_int == 503
    # One copy is enough to read.
    assert req(cluster, "GET", C + "/o").body == b"x"
    cluster.stop_device("d3")
    resp = req(cluster, "GET", C + "/o")
    assert resp.status_int == 503
    assert resp.body.startswith(b"<html><h1>Service Unavailable</h1>")


def test_failing_node_is_error_limited(tmp_path: Any) -> None:
    instance = Cluster(tmp_path, conf={"proxy": {"error_suppression_limit": 2,
                                                 "error_suppression_interval": 60}})
    try:
        assert req(instance, "PUT", C).status_int == 201
        ring = instance.proxy.object_ring
        part, nodes = ring.get_nodes("AUTH_f", "c", "o")
        down = next(n for n in nodes if n["device"] == "d2")
        instance.stop_device("d2")
        limiter = instance.proxy.limiter
        for _ in range(3):
            assert req(instance, "PUT", C + "/o", body=b"x").status_int == 201
        assert limiter.is_limited(down)
        others = [n for n in nodes if n["device"] != "d2"]
        assert not any(limiter.is_limited(n) for n in others)
        controller_nodes = list(_nodes_tried(instance, part))
        assert "d2" not in controller_nodes
    finally:
        instance.stop()


def _nodes_tried(instance: Cluster, part: int) -> list[str]:
    import webob

    from objectstore.proxy.controllers.base import Controller

    controller = Controller(instance.proxy, webob.Request.blank("/v1/AUTH_f/c/o"), "AUTH_f")
    return [n["device"] for n in controller.iter_nodes(instance.proxy.object_ring, part)]
