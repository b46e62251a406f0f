"""``swift.authorize`` and CORS at the proxy (real cluster, a stand-in auth filter
that grants by ``X-Test-User``: ``owner`` owns everything, other users get what the
ACL passed in ``req.acl`` names, no user is anonymous)."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
import webob
import webob.exc

from tests.fixtures.objectstore import Cluster

C = "/v1/AUTH_a/c"
GOOD = "http://good.example"


class FakeAuth:
    """Sets a ``swift.authorize`` that records what the proxy passes it."""

    seen: list[tuple[str, str, str | None]] = []

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        user = environ.get("HTTP_X_TEST_USER")

        def authorize(req: webob.Request) -> Any:
            acl = getattr(req, "acl", None)
            FakeAuth.seen.append((req.method, req.path, acl))
            if user == "owner":
                req.environ["swift_owner"] = True
                return None
            if user and acl and user in acl.split(","):
                return None
            return webob.exc.HTTPForbidden() if user else webob.exc.HTTPUnauthorized()

        if not environ.get("swift.authorize_override"):
            environ["swift.authorize"] = authorize
        return self.app(environ, start_response)


@pytest.fixture
def authed(tmp_path: Any) -> Iterator[Cluster]:
    instance = Cluster(tmp_path, filters=[FakeAuth])
    FakeAuth.seen.clear()
    try:
        yield instance
    finally:
        instance.stop()


def req(cluster: Cluster, method: str, path: str, user: str | None = "owner",
        **kwargs: Any) -> Any:
    headers = dict(kwargs.pop("headers", {}))
    if user:
        headers["X-Test-User"] = user
    return cluster.client.request(path, method=method, expect_errors=True, headers=headers,
                                  **kwargs)


def test_acls_reach_authorize(authed: Cluster) -> None:
    assert req(authed, "PUT", C, headers={"X-Container-Read": "bob",
                                          "X-Container-Write": "carol"}).status_int == 201
    assert req(authed, "PUT", C + "/o", body=b"data").status_int == 201
    FakeAuth.seen.clear()
    assert req(authed, "GET", C + "/o", user="bob").body == b"data"
    assert ("GET", C + "/o", "bob") in FakeAuth.seen
    assert req(authed, "PUT", C + "/o", user="bob", body=b"x").status_int == 403
    assert ("PUT", C + "/o", "carol") in FakeAuth.seen
    assert req(authed, "PUT", C + "/o2", user="carol", body=b"x").status_int == 201
    assert req(authed, "DELETE", C + "/o2", user="carol").status_int == 204
    assert req(authed, "GET", C + "/o", user=None).status_int == 401
    assert req(authed, "GET", C + "/o", user="eve").status_int == 403
    resp = req(authed, "GET", C, user="bob")
    assert resp.status_int == 200 and resp.body == b"o\n"
    assert "X-Container-Read" not in resp.headers
    assert req(authed, "HEAD", C).headers["X-Container-Read"] == "bob"
    assert req(authed, "PUT", "/v1/AUTH_a/new", user="bob").status_int == 403
    assert ("PUT", "/v1/AUTH_a/new", None) in FakeAuth.seen
    assert req(authed, "GET", "/v1/AUTH_a", user="bob").status_int == 403


def test_non_owner_cannot_change_acls(authed: Cluster) -> None:
    assert req(authed, "PUT", C, headers={"X-Container-Write": "bob"}).status_int == 201

    # bob is allowed container POSTs by this stand-in only through the ACL (none for
    # containers), so use the owner-less path: an authorize that allows but is no owner.
    def allow_all(req: webob.Request) -> None:
        return None

    env = {"swift.authorize": allow_all, "swift.authorize_override": True}
    resp = authed.proxy  # directly, below FakeAuth
    request = webob.Request.blank(C, method="POST", environ=env,
                                  headers={"X-Container-Read": ".r:*",
                                           "X-Container-Meta-A": "1"})
    assert request.get_response(resp).status_int == 204
    headers = req(authed, "HEAD", C).headers
    assert headers["X-Container-Meta-A"] == "1"
    assert "X-Container-Read" not in headers


def test_cors_preflight(authed: Cluster) -> None:
    req(authed, "PUT", C, headers={"X-Container-Meta-Access-Control-Allow-Origin": GOOD,
                                   "X-Container-Meta-Access-Control-Max-Age": "600"})
    resp = req(authed, "OPTIONS", C + "/o", user=None,
               headers={"Origin": GOOD, "Access-Control-Request-Method": "GET",
                        "Access-Control-Request-Headers": "x-auth-token"})
    assert resp.status_int == 200
    assert resp.headers["Access-Control-Allow-Origin"] == GOOD
    assert resp.headers["Access-Control-Max-Age"] == "600"
    assert resp.headers["Access-Control-Allow-Headers"] == "x-auth-token"
    assert "GET" in resp.headers["Access-Control-Allow-Methods"]
    resp = req(authed, "OPTIONS", C + "/o", user=None,
               headers={"Origin": "http://evil.example",
                        "Access-Control-Request-Method": "GET"})
    assert resp.status_int == 401
    resp = req(authed, "OPTIONS", C + "/o", user=None)
    assert resp.status_int == 200 and "PUT" in resp.headers["Allow"]


def test_cors_headers_on_answers(authed: Cluster) -> None:
    req(authed, "PUT", C, headers={"X-Container-Meta-Access-Control-Allow-Origin": GOOD,
                                   "X-Container-Meta-Access-Control-Expose-Headers":
                                   "X-Custom"})
    req(authed, "PUT", C + "/o", body=b"x", headers={"X-Object-Meta-Color": "red"})
    resp = req(authed, "GET", C + "/o", headers={"Origin": GOOD})
    assert resp.headers["Access-Control-Allow-Origin"] == GOOD
    expose = resp.headers["Access-Control-Expose-Headers"].split(", ")
    for name in ("etag", "x-timestamp", "x-trans-id", "x-object-meta-color", "x-custom"):
        assert name in expose
    resp = req(authed, "GET", C + "/o", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in resp.headers
    assert "Access-Control-Allow-Origin" not in req(authed, "GET", C + "/o").headers
