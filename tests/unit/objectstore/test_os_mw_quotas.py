"""Container and account quotas below keystoneauth, above a fake proxy."""
from __future__ import annotations

import pytest
import webob

from objectstore.common import registry
from objectstore.middleware import keystoneauth, quotas
from tests.unit.objectstore.os_mw_fakes import FakeSwift

OWNER = {"X-Identity-Status": "Confirmed", "X-Project-Id": "p1", "X-User-Id": "u1",
         "X-Roles": "member"}
STRANGER = dict(OWNER, **{"X-Project-Id": "p2", "X-User-Id": "u2"})
RESELLER = dict(OWNER, **{"X-Project-Id": "ops", "X-Roles": "ResellerAdmin"})


@pytest.fixture
def swift():
    fake = FakeSwift()
    fake.add_account("AUTH_p1")
    fake.add_container("AUTH_p1", "small", X_Container_Meta_Quota_Bytes="10")
    fake.add_object("AUTH_p1", "small", "six", b"123456")
    fake.add_container("AUTH_p1", "few", X_Container_Meta_Quota_Count="2")
    fake.add_object("AUTH_p1", "few", "one", b"1")
    fake.add_container("AUTH_p1", "free")
    return fake


@pytest.fixture
def app(swift):
    pipeline = quotas.account_quota_factory({})(swift)
    pipeline = quotas.container_quota_factory({})(pipeline)
    return keystoneauth.filter_factory({})(pipeline)


def put(app, path, body=b"", headers=None, method="PUT"):
    req = webob.Request.blank(path, method=method, headers=dict(OWNER, **(headers or {})))
    if method == "PUT" or body:
        req.body = body
    return req.get_response(app)


def test_container_bytes_quota(app, swift):
    assert put(app, "/v1/AUTH_p1/small/four", b"1234").status_int == 201
    resp = put(app, "/v1/AUTH_p1/small/one-more", b"1")
    assert resp.status_int == 413 and resp.body == b"Upload exceeds quota."
    assert ("AUTH_p1", "small", "one-more") not in swift.objects


def test_container_count_quota(app, swift):
    assert put(app, "/v1/AUTH_p1/few/two", b"2").status_int == 201
    assert put(app, "/v1/AUTH_p1/few/three", b"3").status_int == 413
    assert put(app, "/v1/AUTH_p1/free/x", b"1" * 1000).status_int == 201


def test_stranger_learns_nothing_about_quotas(app):
    resp = put(app, "/v1/AUTH_p1/small/big", b"x" * 100, STRANGER)
    assert resp.status_int == 403


def test_write_acl_user_hits_the_quota(app, swift):
    swift.containers[("AUTH_p1", "small")]["X-Container-Write"] = "p2:*"
    assert put(app, "/v1/AUTH_p1/small/big", b"x" * 100, STRANGER).status_int == 413


@pytest.mark.parametrize("header, value, status", [
    ("X-Container-Meta-Quota-Bytes", "abc", 400),
    ("X-Container-Meta-Quota-Count", "-1", 400),
    ("X-Container-Meta-Quota-Bytes", "100", 204),
    ("X-Container-Meta-Quota-Count", "", 204),
])
def test_setting_container_quotas(app, header, value, status):
    assert put(app, "/v1/AUTH_p1/free", headers={header: value}, method="POST"
               ).status_int == status


def test_only_reseller_sets_account_quota(app, swift):
    resp = put(app, "/v1/AUTH_p1", headers={"X-Account-Meta-Quota-Bytes": "5"},
               method="POST")
    assert resp.status_int == 403
    resp = put(app, "/v1/AUTH_p1", headers=dict(RESELLER, **{
        "X-Account-Meta-Quota-Bytes": "x"}), method="POST")
    assert resp.status_int == 400
    resp = put(app, "/v1/AUTH_p1", headers=dict(RESELLER, **{
        "X-Account-Meta-Quota-Bytes": "12"}), method="POST")
    assert resp.status_int == 204
    assert swift.accounts["AUTH_p1"]["X-Account-Meta-Quota-Bytes"] == "12"
    # the account holds 7 bytes: 5 more fit, 6 do not
    assert put(app, "/v1/AUTH_p1/free/a", b"12345").status_int == 201
    resp = put(app, "/v1/AUTH_p1/free/b", b"1")
    assert resp.status_int == 413 and resp.body == b"Upload exceeds quota."
    # removing it is also the reseller's business
    assert put(app, "/v1/AUTH_p1", headers={"X-Remove-Account-Meta-Quota-Bytes": "x"},
               method="POST").status_int == 403
    assert put(app, "/v1/AUTH_p1", headers=dict(RESELLER, **{
        "X-Remove-Account-Meta-Quota-Bytes": "x"}), method="POST").status_int == 204
    assert put(app, "/v1/AUTH_p1/free/b", b"1").status_int == 201


def test_account_quota_headers_become_sysmeta(app, swift):
    """X-Account-Quota-Bytes/-Count (Swift 2.34+) are stored as sysmeta."""
    assert put(app, "/v1/AUTH_p1", headers={"X-Account-Quota-Count": "2"},
               method="POST").status_int == 403
    resp = put(app, "/v1/AUTH_p1", headers=dict(RESELLER, **{
        "X-Account-Quota-Count": "3"}), method="POST")
    assert resp.status_int == 204
    stored = {k.lower(): v for k, v in swift.accounts["AUTH_p1"].items()}
    assert stored["x-account-sysmeta-quota-count"] == "3"
    assert "x-account-quota-count" not in stored
    # the account holds 2 objects: one more fits, a fourth does not
    assert put(app, "/v1/AUTH_p1/free/a", b"1").status_int == 201
    swift.add_object("AUTH_p1", "free", "a", b"1")
    resp = put(app, "/v1/AUTH_p1/free/b", b"1")
    assert resp.status_int == 413 and resp.body == b"Upload exceeds quota."


def test_other_requests_pass(app):
    assert put(app, "/v1/AUTH_p1/small/six", method="GET").status_int == 200
    assert put(app, "/v1/AUTH_p1/small/six", method="DELETE").status_int == 204


def test_registered_in_info():
    registry.reset()
    quotas.container_quota_factory({})
    quotas.account_quota_factory({})
    found = registry.get_swift_info()
    assert "container_quotas" in found and "account_quotas" in found
