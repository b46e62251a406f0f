"""tempauth: login, tokens, and the owner / ACL / account ACL decisions."""
from __future__ import annotations

import json
import time

import pytest
import webob

from objectstore.common import registry
from objectstore.middleware import tempauth
from tests.unit.objectstore.os_mw_fakes import FakeSwift

CONF = {
    "user_admin_admin": "adminpw .admin .reseller_admin",
    "user_test_tester": "testing .admin",
    "user_test_tester2": "testing2 readers",
    "user_test2_tester": "other .admin",
    "user_test_custom": "pw .admin http://storage.example.com:8080/v1/AUTH_test",
}


@pytest.fixture
def swift():
    fake = FakeSwift()
    fake.add_account("AUTH_test")
    fake.add_container("AUTH_test", "private")
    fake.add_object("AUTH_test", "private", "o", b"secret")
    fake.add_container("AUTH_test", "group", X_Container_Read="readers",
                       X_Container_Write="test2:tester")
    fake.add_object("AUTH_test", "group", "o")
    fake.add_container("AUTH_test", "public", X_Container_Read=".r:*")
    fake.add_object("AUTH_test", "public", "o")
    fake.add_account("AUTH_test2")
    return fake


@pytest.fixture
def app(swift):
    return tempauth.filter_factory({}, **CONF)(swift)


def call(app, path, method="GET", headers=None, token=None):
    headers = dict(headers or {})
    if token:
        headers["X-Auth-Token"] = token
    return webob.Request.blank(path, method=method, headers=headers).get_response(app)


def login(app, user, key, path="/auth/v1.0"):
    resp = call(app, path, headers={"X-Auth-User": user, "X-Auth-Key": key})
    assert resp.status_int == 200, resp.body
    return resp.headers["X-Auth-Token"]


# --- login -----------------------------------------------------------------------------

def test_login_answers_token_and_storage_url(app):
    resp = call(app, "/auth/v1.0", headers={"X-Auth-User": "test:tester",
                                            "X-Auth-Key": "testing"})
    assert resp.status_int == 200
    token = resp.headers["X-Auth-Token"]
    assert token.startswith("AUTH_tk")
    assert resp.headers["X-Storage-Token"] == token
    assert resp.headers["X-Storage-Url"] == "http://localhost/v1/AUTH_test"
    assert 86000 < int(resp.headers["X-Auth-Token-Expires"]) <= 86400
    assert json.loads(resp.body)["storage"]["local"] == "http://localhost/v1/AUTH_test"
    # a second login while the token is valid gives the same token
    assert login(app, "test:tester", "testing") == token


@pytest.mark.parametrize("path, headers", [
    ("/v1.0", {"X-Storage-User": "test:tester", "X-Storage-Pass": "testing"}),
    ("/auth/v1/test/auth", {"X-Storage-User": "tester", "X-Storage-Pass": "testing"}),
])
def test_other_login_paths(app, path, headers):
    assert call(app, path, headers=headers).status_int == 200


@pytest.mark.parametrize("user, key", [("test:tester", "wrong"), ("test:nobody", "x"),
                                       ("", ""), ("test:tester", "")])
def test_bad_credentials(app, user, key):
    resp = call(app, "/auth/v1.0", headers={"X-Auth-User": user, "X-Auth-Key": key})
    assert resp.status_int == 401


def test_configured_storage_url(app):
    resp = call(app, "/auth/v1.0", headers={"X-Auth-User": "test:custom", "X-Auth-Key": "pw"})
    assert resp.headers["X-Storage-Url"] == "http://storage.example.com:8080/v1/AUTH_test"


def test_user64_and_bad_options():
    users = tempauth.parse_users({"user64_dGVzdF94_dXNlcl95": "k .admin"})
    assert users["test_x:user_y"].key == "k"
    with pytest.raises(ValueError):
        tempauth.parse_users({"user_a_b_c": "k"})


# --- tokens ------------------------------------------------------------------------------

def test_owner_has_full_access(app, swift):
    token = login(app, "test:tester", "testing")
    resp = call(app, "/v1/AUTH_test/group", "HEAD", token=token)
    assert resp.status_int == 204 and resp.headers["X-Container-Read"] == "readers"
    assert swift.authorized[-1].owner is True
    assert call(app, "/v1/AUTH_test/new", "PUT", token=token).status_int == 201
    assert call(app, "/v1/AUTH_test/private/o", "DELETE", token=token).status_int == 204
    # only a reseller admin may PUT or DELETE the account itself
    assert call(app, "/v1/AUTH_test", "DELETE", token=token).status_int == 403


def test_unknown_or_expired_token(app, swift):
    resp = call(app, "/v1/AUTH_test/private/o", token="AUTH_tkdeadbeef")
    assert resp.status_int == 401
    assert resp.headers["Www-Authenticate"] == 'Swift realm="AUTH_test"'
    short = tempauth.filter_factory({}, token_life="0.2", **CONF)(swift)
    token = login(short, "test:tester", "testing")
    assert call(short, "/v1/AUTH_test/private/o", token=token).status_int == 200
    time.sleep(0.3)
    assert call(short, "/v1/AUTH_test/private/o", token=token).status_int == 401
    assert login(short, "test:tester", "testing") != token


def test_non_admin_user_needs_acls(app):
    token = login(app, "test:tester2", "testing2")
    assert call(app, "/v1/AUTH_test/private/o", token=token).status_int == 403
    assert call(app, "/v1/AUTH_test/group/o", token=token).status_int == 200
    assert call(app, "/v1/AUTH_test/group/o", "PUT", token=token).status_int == 403


def test_other_account_user(app, swift):
    token = login(app, "test2:tester", "other")
    assert call(app, "/v1/AUTH_test/private/o", token=token).status_int == 403
    assert call(app, "/v1/AUTH_test/group/x", "PUT", token=token).status_int == 201
    assert call(app, "/v1/AUTH_test2/mine", "PUT", token=token).status_int == 201


def test_reseller_admin(app, swift):
    token = login(app, "admin:admin", "adminpw")
    assert call(app, "/v1/AUTH_test/private/o", token=token).status_int == 200
    assert swift.authorized[-1].environ["reseller_request"] is True
    assert call(app, "/v1/AUTH_new", "PUT", token=token).status_int == 201


def test_anonymous(app):
    assert call(app, "/v1/AUTH_test/public/o").status_int == 200
    assert call(app, "/v1/AUTH_test/public").status_int == 401
    resp = call(app, "/v1/AUTH_test/private/o")
    assert resp.status_int == 401
    assert resp.headers["Www-Authenticate"] == 'Swift realm="AUTH_test"'
    # an account of another auth system: denied unless something else authorizes it
    assert call(app, "/v1/OTHER_x").status_int == 401


# --- account ACLs ---------------------------------------------------------------------------

def test_account_acls(app, swift):
    owner = login(app, "test:tester", "testing")
    reader = login(app, "test:tester2", "testing2")
    other = login(app, "test2:tester", "other")
    value = json.dumps({"read-only": ["test:tester2"], "read-write": ["test2:tester"]})
    resp = call(app, "/v1/AUTH_test", "POST", {"X-Account-Access-Control": value},
                token=owner)
    assert resp.status_int == 204
    stored = swift.accounts["AUTH_test"]["X-Account-Sysmeta-Core-Access-Control"]
    assert json.loads(stored) == json.loads(value)
    # the owner sees the ACL, others do not
    resp = call(app, "/v1/AUTH_test", "HEAD", token=owner)
    assert json.loads(resp.headers["X-Account-Access-Control"]) == json.loads(value)
    assert "X-Account-Sysmeta-Core-Access-Control" not in resp.headers
    resp = call(app, "/v1/AUTH_test", "HEAD", token=reader)
    assert resp.status_int == 204 and "X-Account-Access-Control" not in resp.headers
    # read-only reads everything, writes nothing; read-write writes objects
    assert call(app, "/v1/AUTH_test/private/o", token=reader).status_int == 200
    assert call(app, "/v1/AUTH_test/private/o", "PUT", token=reader).status_int == 403
    assert call(app, "/v1/AUTH_test/private/o2", "PUT", token=other).status_int == 201
    assert call(app, "/v1/AUTH_test", "POST", token=other).status_int == 403


def test_account_acl_admin_and_validation(app, swift):
    owner = login(app, "test:tester", "testing")
    other = login(app, "test2:tester", "other")
    resp = call(app, "/v1/AUTH_test", "POST", {"X-Account-Access-Control": "{bad"},
                token=owner)
    assert resp.status_int == 400
    call(app, "/v1/AUTH_test", "POST",
         {"X-Account-Access-Control": json.dumps({"admin": ["test2:tester"]})}, token=owner)
    resp = call(app, "/v1/AUTH_test/group", "HEAD", token=other)
    assert resp.status_int == 204 and resp.headers["X-Container-Read"] == "readers"


def test_non_owner_cannot_set_account_acl(app, swift):
    token = login(app, "test:tester2", "testing2")
    resp = call(app, "/v1/AUTH_test", "POST",
                {"X-Account-Access-Control": json.dumps({"admin": ["test:tester2"]})},
                token=token)
    assert resp.status_int == 403
    assert "X-Account-Sysmeta-Core-Access-Control" not in swift.accounts["AUTH_test"]


def test_registered_in_info():
    registry.reset()
    tempauth.filter_factory({}, **CONF)
    assert registry.get_swift_info()["tempauth"]["account_acls"] is True
