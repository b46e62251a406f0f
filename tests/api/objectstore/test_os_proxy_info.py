"""``objectstore.proxy.info`` (the helpers middleware uses) and the gatekeeper,
against a real in-process cluster."""
from __future__ import annotations

from typing import Any

import webob

from objectstore.proxy import info
from tests.fixtures.objectstore import Cluster, cluster  # noqa: F401


def env(path: str, **extra: Any) -> dict[str, Any]:
    environ = webob.Request.blank(path).environ
    environ.update(extra)
    return environ


def test_make_subrequest_carries_identity_and_infocache() -> None:
    calls = []

    def authorize(req: webob.Request) -> None:
        calls.append(req.path)

    environ = env("/v1/AUTH_a/c/o", HTTP_X_AUTH_TOKEN="tok", HTTP_X_OBJECT_META_A="no",
                  REMOTE_USER="alice", **{"swift.authorize": authorize,
                                          "keystone.token_info": {"t": 1}})
    sub = info.make_subrequest(environ, "PUT", "/v1/AUTH_a/c é/seg?multipart-manifest=get",
                               headers={"X-Foo": "1"}, body=b"abc", swift_source="SLO")
    assert sub.method == "PUT"
    assert sub.environ["PATH_INFO"] == "/v1/AUTH_a/c é/seg".encode().decode("latin-1")
    assert sub.query_string == "multipart-manifest=get"
    assert sub.headers["X-Auth-Token"] == "tok"
    assert "X-Object-Meta-A" not in sub.headers
    assert sub.headers["X-Foo"] == "1"
    assert sub.body == b"abc"
    assert sub.environ["swift.source"] == "SLO"
    assert sub.environ["swift.authorize"] is authorize
    assert sub.environ["keystone.token_info"] == {"t": 1}
    assert sub.environ["REMOTE_USER"] == "alice"
    assert sub.environ["swift.infocache"] is environ["swift.infocache"]
    pre = info.make_subrequest(environ, "HEAD", pre_authed=True)
    assert pre.environ["swift.authorize"](pre) is None
    assert pre.environ["swift.authorize_override"] is True
    assert pre.environ["PATH_INFO"] == "/v1/AUTH_a/c/o"


def test_container_and_account_info(cluster: Cluster) -> None:  # noqa: F811
    client = cluster.client
    client.put("/v1/AUTH_i/c", headers={"X-Container-Read": ".r:*",
                                        "X-Container-Meta-Access-Control-Allow-Origin": "*",
                                        "X-Container-Meta-Color": "red",
                                        "X-Versions-Location": "old"}, status=201)
    client.put("/v1/AUTH_i/c/o", params=b"12345", status=201)
    environ = env("/v1/AUTH_i/c/o")
    cinfo = info.get_container_info(environ, cluster.proxy, swift_source="TEST")
    assert cinfo["status"] == 204
    assert cinfo["read_acl"] == ".r:*"
    assert cinfo["object_count"] == 1 and cinfo["bytes"] == 5
    assert cinfo["meta"]["color"] == "red"
    assert cinfo["cors"]["allow_origin"] == "*"
    assert cinfo["versions"] == "old"
    assert cinfo["storage_policy"] == "0"
    assert "container/AUTH_i/c" in environ["swift.infocache"]
    ainfo = info.get_account_info(environ, cluster.proxy)
    assert ainfo["status"] == 204 and ainfo["container_count"] == 1
    missing = info.get_container_info(env("/v1/AUTH_i/nope/o"), cluster.proxy)
    assert missing["status"] == 404


def test_sysmeta_is_kept_from_clients_but_visible_to_middleware(cluster: Cluster) -> None:  # noqa: F811,E501
    client = cluster.client
    client.put("/v1/AUTH_s/c", headers={"X-Container-Sysmeta-Client": "1"}, status=201)
    # A middleware below the gatekeeper sets sysmeta with a subrequest.
    sub = info.make_subrequest(env("/v1/AUTH_s/c"), "POST", "/v1/AUTH_s/c",
                               headers={"X-Container-Sysmeta-Mw": "yes"})
    assert sub.get_response(cluster.proxy).status_int == 204
    resp = client.head("/v1/AUTH_s/c")
    assert not [h for h in resp.headers if "sysmeta" in h.lower()]
    cinfo = info.get_container_info(env("/v1/AUTH_s/c"), cluster.proxy)
    assert cinfo["sysmeta"] == {"mw": "yes"}
