"""keystonemiddleware's auth_token, pointed at our identity daemon, protects an app."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
import webob
import webtest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from keystonemiddleware import auth_token

from tests.functional.conftest import ADMIN_PASSWORD, IdentityCloud


def _echo(environ: dict[str, Any], start_response: Any) -> Any:
    req = webob.Request(environ)
    body = "%s %s %s" % (req.headers.get("X-Identity-Status"), req.headers.get("X-User-Id"),
                         req.headers.get("X-Roles"))
    return webob.Response(body)(environ, start_response)


@pytest.fixture(scope="module")
def protected(identity_cloud: IdentityCloud) -> Iterator[webtest.TestApp]:
    conf = {"www_authenticate_uri": identity_cloud.auth_url,
            "auth_url": identity_cloud.auth_url, "auth_type": "password",
            "username": "admin", "password": ADMIN_PASSWORD, "project_name": "admin",
            "user_domain_name": "Default", "project_domain_name": "Default",
            "delay_auth_decision": "false", "token_cache_time": "-1",
            "log_name": "authtoken"}
    yield webtest.TestApp(auth_token.AuthProtocol(_echo, conf))


def _session(cloud: IdentityCloud) -> ks_session.Session:
    auth = v3.Password(auth_url=cloud.auth_url, username="admin", password=ADMIN_PASSWORD,
                       project_name="admin", user_domain_name="Default",
                       project_domain_name="Default")
    return ks_session.Session(auth=auth)


def test_issued_token_is_accepted(identity_cloud: IdentityCloud,
                                  protected: webtest.TestApp) -> None:
    sess = _session(identity_cloud)
    token = sess.get_token()
    resp = protected.get("/", headers={"X-Auth-Token": token})
    status, user_id, roles = resp.text.split(" ")
    assert status == "Confirmed"
    assert user_id == sess.get_user_id()
    assert set(roles.split(",")) >= {"admin", "member", "reader"}


def test_revoked_token_is_rejected(identity_cloud: IdentityCloud,
                                   protected: webtest.TestApp) -> None:
    user_sess = _session(identity_cloud)
    token = user_sess.get_token()
    assert protected.get("/", headers={"X-Auth-Token": token}).status_int == 200
    admin = _session(identity_cloud)
    resp = admin.delete("/auth/tokens", endpoint_filter={"service_type": "identity"},
                        headers={"X-Subject-Token": token})
    assert resp.status_code == 204
    rejected = protected.get("/", headers={"X-Auth-Token": token}, expect_errors=True)
    assert rejected.status_int == 401
    assert "WWW-Authenticate" in rejected.headers


@pytest.mark.parametrize("garbled", ["garbage", "gAAAAAB" + "x" * 180, ""])
def test_garbled_token_is_rejected(protected: webtest.TestApp, garbled: str) -> None:
    headers = {"X-Auth-Token": garbled} if garbled else {}
    assert protected.get("/", headers=headers, expect_errors=True).status_int == 401
