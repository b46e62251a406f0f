"""The filters' container and account lookups (objectstore.proxy.info.INFO_REQUEST)
through a real cluster: answered from the proxy's cache, so an object PUT costs no
HEAD on the container and account servers; a quota still sees exact counts, and the
proxy's own writes of a container or account take effect at once."""
from __future__ import annotations

import collections
import time
from typing import Any, Iterator

import pytest
import webob

from objectstore.common import backend
from objectstore.middleware import quotas
from tests.fixtures.objectstore import Cluster

C = "/v1/AUTH_q/c"


@pytest.fixture
def cluster(tmp_path: Any) -> Iterator[Cluster]:
    instance = Cluster(tmp_path, filters=[quotas.container_quota_factory({}),
                                          quotas.account_quota_factory({})])
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def heads(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    """HEADs the proxy sends to storage nodes, by path."""
    seen: collections.Counter[str] = collections.Counter()
    real = backend.node_request

    def counting(node: Any, part: Any, method: str, path: str, **kwargs: Any) -> Any:
        if method == "HEAD":
            seen[path] += 1
        return real(node, part, method, path, **kwargs)
    monkeypatch.setattr(backend, "node_request", counting)
    return seen


def req(cluster: Cluster, method: str, path: str, **kwargs: Any) -> Any:
    return cluster.client.request(path, method=method, expect_errors=True, **kwargs)


def test_object_puts_cost_no_lookups_on_the_servers(cluster: Cluster,
                                                    heads: collections.Counter[str]) -> None:
    assert req(cluster, "PUT", C).status_int == 201
    assert req(cluster, "PUT", C + "/o0", body=b"x").status_int == 201
    heads.clear()
    for n in range(1, 4):
        assert req(cluster, "PUT", C + "/o%d" % n, body=b"x").status_int == 201
    assert heads == {}
    # A client's own HEAD still asks the servers (and shows the current count).
    assert req(cluster, "HEAD", C).headers["X-Container-Object-Count"] == "4"
    assert heads["/AUTH_q/c"] >= 1


def test_a_container_quota_sees_exact_counts(cluster: Cluster,
                                             heads: collections.Counter[str]) -> None:
    assert req(cluster, "PUT", C, headers={"X-Container-Meta-Quota-Count": "2"}
               ).status_int == 201
    assert req(cluster, "PUT", C + "/a", body=b"x").status_int == 201
    assert req(cluster, "PUT", C + "/b", body=b"x").status_int == 201
    resp = req(cluster, "PUT", C + "/c", body=b"x")
    assert resp.status_int == 413 and resp.body == quotas.EXCEEDED.encode()
    assert heads["/AUTH_q/c"] >= 3  # fresh counts for every PUT


def test_a_quota_set_through_the_proxy_applies_at_once(cluster: Cluster) -> None:
    assert req(cluster, "PUT", C).status_int == 201
    assert req(cluster, "PUT", C + "/a", body=b"x").status_int == 201  # cached: no quota
    assert req(cluster, "POST", C, headers={"X-Container-Meta-Quota-Bytes": "3"}
               ).status_int == 204
    assert req(cluster, "PUT", C + "/b", body=b"xyz").status_int == 413
    assert req(cluster, "PUT", C + "/b", body=b"xy").status_int == 201


def _account_bytes_reach(cluster: Cluster, expected: int, timeout: float = 30.0) -> None:
    """Wait for the container's background report to reach the account (its
    bytes are eventually consistent, as on Swift: ~account_update_interval)."""
    deadline = time.monotonic() + timeout
    while True:
        used = req(cluster, "HEAD", "/v1/AUTH_q").headers.get("X-Account-Bytes-Used")
        if used == str(expected):
            return
        assert time.monotonic() < deadline, "account bytes %s, not %d" % (used, expected)
        time.sleep(0.1)


def test_an_account_quota_set_through_the_proxy_applies_at_once(cluster: Cluster) -> None:
    assert req(cluster, "PUT", C).status_int == 201
    assert req(cluster, "PUT", C + "/a", body=b"x" * 5).status_int == 201
    _account_bytes_reach(cluster, 5)
    reseller = webob.Request.blank("/v1/AUTH_q", method="POST",
                                   headers={"X-Account-Quota-Bytes": "8"},
                                   environ={"reseller_request": True})
    assert reseller.get_response(cluster.app).status_int == 204
    assert req(cluster, "PUT", C + "/b", body=b"x" * 4).status_int == 413
    assert req(cluster, "PUT", C + "/b", body=b"x" * 3).status_int == 201


def test_no_cache_when_disabled(tmp_path: Any, heads: collections.Counter[str]) -> None:
    instance = Cluster(tmp_path, conf={"proxy": {"recheck_container_existence": 0,
                                                 "recheck_account_existence": 0}},
                       filters=[quotas.container_quota_factory({}),
                                quotas.account_quota_factory({})])
    try:
        assert req(instance, "PUT", C).status_int == 201
        heads.clear()
        assert req(instance, "PUT", C + "/a", body=b"x").status_int == 201
        assert req(instance, "PUT", C + "/b", body=b"x").status_int == 201
        assert heads["/AUTH_q/c"] >= 2 and heads["/AUTH_q"] >= 2
    finally:
        instance.stop()
