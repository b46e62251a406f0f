"""keystoneauth's decision table, through a fake proxy that calls swift.authorize."""
from __future__ import annotations

import pytest
import webob

from objectstore.common import registry
from objectstore.middleware import keystoneauth
from tests.unit.objectstore.os_mw_fakes import FakeSwift

P1, P2 = "p1id", "p2id"


def identity(project=P1, user="u1id", roles="member", user_name="user1",
             project_name="proj1", domain="default", service_roles=None):
    headers = {
        "X-Identity-Status": "Confirmed", "X-Project-Id": project, "X-User-Id": user,
        "X-User-Name": user_name, "X-Project-Name": project_name, "X-Roles": roles,
        "X-User-Domain-Id": domain, "X-Project-Domain-Id": domain,
    }
    if service_roles is not None:
        headers.update({"X-Service-Identity-Status": "Confirmed",
                        "X-Service-Roles": service_roles})
    return headers


@pytest.fixture
def swift():
    fake = FakeSwift()
    fake.add_account("AUTH_" + P1, X_Account_Meta_Color="red")
    fake.add_container("AUTH_" + P1, "private")
    fake.add_object("AUTH_" + P1, "private", "o", b"secret")
    fake.add_container("AUTH_" + P1, "shared", X_Container_Read="p2id:u2id",
                       X_Container_Write="p2id:*")
    fake.add_object("AUTH_" + P1, "shared", "o", b"shared")
    fake.add_container("AUTH_" + P1, "public", X_Container_Read=".r:*")
    fake.add_object("AUTH_" + P1, "public", "o", b"public")
    fake.add_container("AUTH_" + P1, "listed", X_Container_Read=".r:*,.rlistings")
    fake.add_container("AUTH_" + P1, "byrole", X_Container_Read="reader")
    fake.add_container("AUTH_" + P1, "byname", X_Container_Read="proj2:user2")
    fake.add_container("AUTH_" + P1, "referred", X_Container_Read=".r:.example.com")
    fake.add_object("AUTH_" + P1, "referred", "o")
    return fake


def make(app, **conf):
    return keystoneauth.filter_factory({}, **conf)(app)


def call(app, path, method="GET", headers=None):
    return webob.Request.blank(path, method=method, headers=headers or {}).get_response(app)


# --- owners and operators -----------------------------------------------------------

@pytest.mark.parametrize("role", ["member", "admin", "Member"])
def test_operator_owns_its_project_account(swift, role):
    app = make(swift)
    resp = call(app, "/v1/AUTH_p1id/shared", "HEAD", identity(roles=role))
    assert resp.status_int == 204
    assert resp.headers["X-Container-Read"] == "p2id:u2id"   # owner sees the ACLs
    assert swift.authorized[-1].owner is True
    assert swift.authorized[-1].remote_user == P1


def test_owner_of_a_public_container_still_sees_its_acls(swift):
    """A matching referrer rule must not decide before the operator check (the
    owner would then not see X-Container-Read)."""
    app = make(swift)
    resp = call(app, "/v1/AUTH_p1id/listed", "HEAD", identity())
    assert resp.headers["X-Container-Read"] == ".r:*,.rlistings"
    assert swift.authorized[-1].owner is True


def test_operator_can_write_and_post_account(swift):
    app = make(swift)
    assert call(app, "/v1/AUTH_p1id/new", "PUT", identity()).status_int == 201
    assert call(app, "/v1/AUTH_p1id/new/x", "PUT", identity()).status_int == 201
    assert call(app, "/v1/AUTH_p1id", "POST", identity()).status_int == 204


def test_user_without_operator_role_is_forbidden(swift):
    app = make(swift)
    assert call(app, "/v1/AUTH_p1id/private/o", headers=identity(roles="reader")
                ).status_int == 403


def test_operator_roles_option(swift):
    app = make(swift, operator_roles="swiftoperator")
    assert call(app, "/v1/AUTH_p1id/private/o", headers=identity()).status_int == 403
    assert call(app, "/v1/AUTH_p1id/private/o",
                headers=identity(roles="SwiftOperator")).status_int == 200


def test_operator_of_other_project_is_forbidden(swift):
    app = make(swift)
    resp = call(app, "/v1/AUTH_p1id/private/o", headers=identity(project=P2, user="u9"))
    assert resp.status_int == 403


def test_nobody_but_reseller_deletes_an_account(swift):
    app = make(swift)
    assert call(app, "/v1/AUTH_p1id", "DELETE", identity(roles="admin")).status_int == 403


# --- reseller admin -----------------------------------------------------------------

def test_reseller_admin_has_every_account(swift):
    app = make(swift)
    headers = identity(project="ops", roles="ResellerAdmin")
    resp = call(app, "/v1/AUTH_p1id/shared", "HEAD", headers)
    assert resp.status_int == 204 and "X-Container-Read" in resp.headers
    assert swift.authorized[-1].environ["reseller_request"] is True
    assert call(app, "/v1/AUTH_p1id/private/o", "DELETE", headers).status_int == 204
    assert call(app, "/v1/AUTH_p1id", "DELETE", headers).status_int == 204


# --- container ACLs for other projects ----------------------------------------------

def test_project_user_grant(swift):
    app = make(swift)
    other = identity(project=P2, user="u2id", roles="reader")
    assert call(app, "/v1/AUTH_p1id/shared/o", headers=other).status_int == 200
    resp = call(app, "/v1/AUTH_p1id/shared", "HEAD", other)
    assert resp.status_int == 204
    assert "X-Container-Read" not in resp.headers        # not the owner
    assert swift.authorized[-1].owner is False
    stranger = identity(project=P2, user="u3id")
    assert call(app, "/v1/AUTH_p1id/shared/o", headers=stranger).status_int == 403


@pytest.mark.parametrize("grant, allowed", [
    ("p2id:*", True), ("*:u2id", True), ("*:*", True), ("p3id:*", False),
    ("p2id:other", False),
])
def test_wildcard_grants(swift, grant, allowed):
    swift.add_container("AUTH_p1id", "w", X_Container_Read=grant)
    swift.add_object("AUTH_p1id", "w", "o")
    app = make(swift)
    status = call(app, "/v1/AUTH_p1id/w/o", headers=identity(project=P2, user="u2id")
                  ).status_int
    assert status == (200 if allowed else 403)


def test_write_acl(swift):
    app = make(swift)
    other = identity(project=P2, user="anyone", roles="reader")
    assert call(app, "/v1/AUTH_p1id/shared/new", "PUT", other).status_int == 201
    assert swift.objects[("AUTH_p1id", "shared", "new")]
    # the read ACL does not let anyone write, and container writes need the owner
    assert call(app, "/v1/AUTH_p1id/public/new", "PUT", other).status_int == 403
    assert call(app, "/v1/AUTH_p1id/shared", "POST", other).status_int == 403


def test_names_in_acls_only_in_default_domain(swift):
    app = make(swift)
    named = identity(project="p2id", user="u2x", user_name="user2", project_name="proj2")
    assert call(app, "/v1/AUTH_p1id/byname", headers=named).status_int == 200
    elsewhere = identity(project="p2id", user="u2x", user_name="user2",
                         project_name="proj2", domain="otherdomain")
    assert call(app, "/v1/AUTH_p1id/byname", headers=elsewhere).status_int == 403
    no_names = make(swift, allow_names_in_acls="false")
    assert call(no_names, "/v1/AUTH_p1id/byname", headers=named).status_int == 403


def test_role_grant_only_inside_the_owning_project(swift):
    app = make(swift)
    assert call(app, "/v1/AUTH_p1id/byrole", headers=identity(roles="reader")
                ).status_int == 200
    assert call(app, "/v1/AUTH_p1id/byrole",
                headers=identity(project=P2, roles="reader")).status_int == 403


# --- anonymous access and referrers --------------------------------------------------

def test_anonymous_without_acl_is_unauthorized(swift):
    app = make(swift)
    resp = call(app, "/v1/AUTH_p1id/private/o")
    assert resp.status_int == 401
    assert "Www-Authenticate" not in resp.headers    # auth_token adds its own
    with_uri = make(swift, www_authenticate_uri="http://keystone:5000/v3")
    resp = call(with_uri, "/v1/AUTH_p1id/private/o")
    assert resp.headers["Www-Authenticate"] == 'Keystone uri="http://keystone:5000/v3"'


def test_invalid_token_is_anonymous(swift):
    app = make(swift)
    headers = dict(identity(), **{"X-Identity-Status": "Invalid"})
    assert call(app, "/v1/AUTH_p1id/private/o", headers=headers).status_int == 401


def test_public_read_objects_but_not_listings(swift):
    app = make(swift)
    resp = call(app, "/v1/AUTH_p1id/public/o")
    assert resp.status_int == 200 and resp.body == b"public"
    assert call(app, "/v1/AUTH_p1id/public").status_int == 401
    assert call(app, "/v1/AUTH_p1id/public/o", "PUT").status_int == 401
    assert call(app, "/v1/AUTH_p1id/public/o", "DELETE").status_int == 401
    # an identified stranger gets 403 for the listing
    assert call(app, "/v1/AUTH_p1id/public", headers=identity(project=P2)).status_int == 403
    assert call(app, "/v1/AUTH_p1id/public/o", headers=identity(project=P2)).status_int == 200


def test_rlistings_allows_listing(swift):
    app = make(swift)
    assert call(app, "/v1/AUTH_p1id/listed").status_int == 200


def test_referrer_rules(swift):
    app = make(swift)
    good = {"Referer": "http://www.example.com/page"}
    assert call(app, "/v1/AUTH_p1id/referred/o", headers=good).status_int == 200
    assert call(app, "/v1/AUTH_p1id/referred/o",
                headers={"Referer": "http://evil.com/"}).status_int == 401
    assert call(app, "/v1/AUTH_p1id/referred/o").status_int == 401


def test_anonymous_account_requests(swift):
    app = make(swift)
    assert call(app, "/v1/AUTH_p1id").status_int == 401
    assert call(app, "/v1/OTHER_x").status_int == 401   # no auth system owns it


# --- other auth systems, overrides, service tokens -------------------------------------

def test_foreign_prefix_left_to_its_auth_system(swift):
    swift.add_container("OTHER_x", "c")
    app = make(swift)
    mine = []

    def other_auth(req):
        mine.append(req.path)
        return None

    resp = call(app, "/v1/OTHER_x/c", headers={"X-Identity-Status": "Invalid"})
    assert resp.status_int == 401
    env_app = webob.Request.blank("/v1/OTHER_x/c", environ={"swift.authorize": other_auth})
    assert env_app.get_response(app).status_int == 200
    assert mine == ["/v1/OTHER_x/c"]


def test_authorize_override(swift):
    app = make(swift)
    req = webob.Request.blank("/v1/AUTH_p1id/private/o", environ={
        "swift.authorize_override": True, "swift.authorize": lambda r: None})
    assert req.get_response(app).status_int == 200
    strict = make(swift, allow_overrides="false")
    req = webob.Request.blank("/v1/AUTH_p1id/private/o", environ={
        "swift.authorize_override": True, "swift.authorize": lambda r: None})
    assert req.get_response(strict).status_int == 401


def test_service_roles(swift):
    app = make(swift, service_roles="service")
    assert call(app, "/v1/AUTH_p1id/private/o", headers=identity()).status_int == 403
    assert call(app, "/v1/AUTH_p1id/private/o",
                headers=identity(service_roles="service")).status_int == 200


def test_several_prefixes_with_own_roles(swift):
    swift.add_container("SERVICE_p1id", "c")
    app = make(swift, reseller_prefix="AUTH, SERVICE",
               SERVICE_service_roles="service")
    assert call(app, "/v1/AUTH_p1id/private/o", headers=identity()).status_int == 200
    assert call(app, "/v1/SERVICE_p1id/c", headers=identity()).status_int == 403
    assert call(app, "/v1/SERVICE_p1id/c",
                headers=identity(service_roles="service")).status_int == 200


def test_options_pass(swift):
    app = make(swift)
    assert call(app, "/v1/AUTH_p1id/private/o", "OPTIONS").status_int != 401


def test_registered_in_info():
    registry.reset()
    keystoneauth.filter_factory({}, reseller_prefix="AUTH_")
    assert "keystoneauth" in registry.get_swift_info()
