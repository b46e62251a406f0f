"""POST/GET/HEAD/DELETE /v3/auth/tokens and the /v3/auth/* helpers."""
from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from identity_api_helpers import (DEFAULT_DOMAIN, SYSTEM_SCOPE, TOKENS, USER_PASSWORD, Api,
                                  Persona, domain_scope, error_of, password_auth,
                                  project_scope, unique)

from identity.tokens import payload as token_payload

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


def _parse(value: str) -> datetime.datetime:
    return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture(scope="module")
def alice(api: Api, project: dict[str, Any]) -> dict[str, Any]:
    """member on ``project``, reader on the default domain and on the system."""
    user = api.create_user(name=unique("alice"))
    api.grant(user["id"], "member", project_id=project["id"])
    api.grant(user["id"], "reader", domain_id=DEFAULT_DOMAIN)
    api.grant(user["id"], "reader", system=True)
    return user


def _token_body_common(token: dict[str, Any], user: dict[str, Any]) -> None:
    assert token["methods"] == ["password"]
    assert token["user"]["id"] == user["id"]
    assert token["user"]["name"] == user["name"]
    assert token["user"]["domain"] == {"id": DEFAULT_DOMAIN, "name": "Default"}
    assert len(token["audit_ids"]) == 1 and isinstance(token["audit_ids"][0], str)
    assert ISO_Z.match(token["expires_at"]), token["expires_at"]
    assert ISO_Z.match(token["issued_at"]), token["issued_at"]
    lifetime = _parse(token["expires_at"]) - _parse(token["issued_at"])
    assert datetime.timedelta(seconds=3590) <= lifetime <= datetime.timedelta(seconds=3600)


# -- password method -------------------------------------------------------------------

def test_password_by_user_id_gives_unscoped_token(api: Api, alice: dict[str, Any]) -> None:
    resp = api.app.post_json(TOKENS, password_auth(USER_PASSWORD, user_id=alice["id"]),
                             status=201)
    assert resp.headers["X-Subject-Token"]
    assert resp.content_type == "application/json"
    token = resp.json["token"]
    _token_body_common(token, alice)
    for scoped_key in ("project", "domain", "system", "roles", "catalog"):
        assert scoped_key not in token


def test_password_by_name_and_domain_name(api: Api, alice: dict[str, Any]) -> None:
    _, token = api.issue(password_auth(USER_PASSWORD, name=alice["name"],
                                       domain_name="Default"))
    assert token["user"]["id"] == alice["id"]


def test_password_by_name_and_domain_id(api: Api, alice: dict[str, Any]) -> None:
    _, token = api.issue(password_auth(USER_PASSWORD, name=alice["name"],
                                       domain_id=DEFAULT_DOMAIN))
    assert token["user"]["id"] == alice["id"]


def test_each_token_is_distinct(api: Api, alice: dict[str, Any]) -> None:
    body = password_auth(USER_PASSWORD, user_id=alice["id"])
    first, t1 = api.issue(body)
    second, t2 = api.issue(body)
    assert first != second
    assert t1["audit_ids"] != t2["audit_ids"]


# -- scopes ------------------------------------------------------------------------------

def test_project_scoped_token_body(api: Api, alice: dict[str, Any],
                                   project: dict[str, Any]) -> None:
    subject, token = api.issue(password_auth(USER_PASSWORD, user_id=alice["id"],
                                             scope=project_scope(project["id"])))
    _token_body_common(token, alice)
    assert token["project"] == {"id": project["id"], "name": project["name"],
                                "domain": {"id": DEFAULT_DOMAIN, "name": "Default"}}
    assert token["is_domain"] is False
    # member implies reader (bootstrap), so both are effective on the project
    assert {r["name"] for r in token["roles"]} == {"member", "reader"}
    assert all(set(r) >= {"id", "name"} for r in token["roles"])
    assert "domain" not in token and "system" not in token
    identity = [s for s in token["catalog"] if s["type"] == "identity"]
    assert len(identity) == 1
    assert identity[0]["name"] == "keystone" and identity[0]["id"]
    endpoints = identity[0]["endpoints"]
    assert {e["interface"] for e in endpoints} == {"public", "internal", "admin"}
    for endpoint in endpoints:
        assert endpoint["region"] == "RegionOne"
        assert endpoint["region_id"] == "RegionOne"
        assert endpoint["url"] == "http://localhost/v3"
        assert endpoint["id"]


def test_project_scope_by_name_and_domain(api: Api, alice: dict[str, Any],
                                          project: dict[str, Any]) -> None:
    scope = {"project": {"name": project["name"], "domain": {"name": "Default"}}}
    _, token = api.issue(password_auth(USER_PASSWORD, user_id=alice["id"], scope=scope))
    assert token["project"]["id"] == project["id"]


def test_domain_scoped_token_body(api: Api, alice: dict[str, Any]) -> None:
    _, token = api.issue(password_auth(USER_PASSWORD, user_id=alice["id"],
                                       scope=domain_scope(DEFAULT_DOMAIN)))
    _token_body_common(token, alice)
    assert token["domain"] == {"id": DEFAULT_DOMAIN, "name": "Default"}
    assert [r["name"] for r in token["roles"]] == ["reader"]
    assert "project" not in token and "system" not in token
    assert isinstance(token["catalog"], list)


def test_system_scoped_token_body(api: Api, alice: dict[str, Any]) -> None:
    _, token = api.issue(password_auth(USER_PASSWORD, user_id=alice["id"],
                                       scope=SYSTEM_SCOPE))
    _token_body_common(token, alice)
    assert token["system"] == {"all": True}
    assert [r["name"] for r in token["roles"]] == ["reader"]
    assert "project" not in token and "domain" not in token
    assert any(s["type"] == "identity" for s in token["catalog"])


def test_nocatalog(api: Api, alice: dict[str, Any], project: dict[str, Any]) -> None:
    resp = api.app.post_json(TOKENS + "?nocatalog",
                             password_auth(USER_PASSWORD, user_id=alice["id"],
                                           scope=project_scope(project["id"])), status=201)
    token = resp.json["token"]
    assert "catalog" not in token
    assert token["roles"]
    subject = resp.headers["X-Subject-Token"]
    assert "catalog" in api.validate(subject).json["token"]
    assert "catalog" not in api.validate(subject, query="?nocatalog=1").json["token"]


def test_scope_without_roles_is_refused(api: Api, other_project: dict[str, Any],
                                        alice: dict[str, Any]) -> None:
    api.auth_fails(password_auth(USER_PASSWORD, user_id=alice["id"],
                                 scope=project_scope(other_project["id"])), 401)


# -- token method (rescope) -------------------------------------------------------------

def test_rescope_unscoped_to_project(api: Api, alice: dict[str, Any],
                                     project: dict[str, Any]) -> None:
    unscoped, parent = api.issue(password_auth(USER_PASSWORD, user_id=alice["id"]))
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": unscoped}},
                     "scope": project_scope(project["id"])}}
    subject, token = api.issue(body)
    assert subject != unscoped
    assert token["project"]["id"] == project["id"]
    assert set(token["methods"]) == {"password", "token"}
    # the expiry is inherited, never extended
    assert token["expires_at"] == parent["expires_at"]
    assert len(token["audit_ids"]) == 2
    assert token["audit_ids"][1] == parent["audit_ids"][0]
    assert token["audit_ids"][0] != parent["audit_ids"][0]
    assert api.validate(subject).json["token"]["project"]["id"] == project["id"]


def test_rescope_with_garbled_token_is_unauthorized(api: Api) -> None:
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": "not-a-token"}}}}
    api.auth_fails(body, 401)


# -- validate, check, revoke --------------------------------------------------------------

def test_validate_and_check(api: Api, alice: dict[str, Any], project: dict[str, Any]) -> None:
    subject, issued = api.issue(password_auth(USER_PASSWORD, user_id=alice["id"],
                                              scope=project_scope(project["id"])))
    resp = api.validate(subject)
    assert resp.headers["X-Subject-Token"] == subject
    token = resp.json["token"]
    for key in ("user", "project", "methods", "audit_ids", "expires_at", "issued_at"):
        assert token[key] == issued[key]
    assert {r["id"] for r in token["roles"]} == {r["id"] for r in issued["roles"]}
    head = api.app.head(TOKENS, headers={"X-Auth-Token": api.admin_token,
                                         "X-Subject-Token": subject}, status=200)
    assert head.headers["X-Subject-Token"] == subject
    assert head.body == b""


def test_validate_garbled_subject_is_404(api: Api) -> None:
    error_of(api.validate("garbled-token-value", status="*"), 404)


def test_validate_needs_a_token(api: Api) -> None:
    subject = api.admin_token
    error_of(api.validate(subject, token="", status="*"), 401)


def test_revoke(api: Api, alice: dict[str, Any]) -> None:
    subject = api.token_for(alice["id"], USER_PASSWORD)
    other = api.token_for(alice["id"], USER_PASSWORD)
    api.delete(TOKENS, headers={"X-Subject-Token": subject}, status=204)
    error_of(api.validate(subject, status="*"), 404)
    error_of(api.get("/v3/auth/projects", token=subject, status="*"), 401)
    # only that token: another token of the same user still works
    api.validate(other)
    api.get("/v3/auth/projects", token=other)


def test_revoke_own_token(api: Api, alice: dict[str, Any]) -> None:
    subject = api.token_for(alice["id"], USER_PASSWORD)
    api.delete(TOKENS, token=subject, headers={"X-Subject-Token": subject}, status=204)
    error_of(api.validate(subject, status="*"), 404)


def test_allow_expired(api: Api, inner: Any, alice: dict[str, Any]) -> None:
    now = token_payload.utcnow()
    payload = token_payload.TokenPayload(
        alice["id"], ["password"], token_payload.UNSCOPED, None,
        now - datetime.timedelta(minutes=5), now - datetime.timedelta(hours=1),
        [token_payload.new_audit_id()])
    expired = token_payload.encode(inner.tokens.keys, payload)
    error_of(api.validate(expired, status="*"), 404)
    resp = api.validate(expired, query="?allow_expired=true")
    assert resp.json["token"]["user"]["id"] == alice["id"]
    assert resp.headers["X-Subject-Token"] == expired
    # an expired token never authenticates its bearer
    error_of(api.get("/v3/auth/projects", token=expired, status="*"), 401)


def test_allow_expired_window_is_bounded(api: Api, inner: Any, alice: dict[str, Any]) -> None:
    now = token_payload.utcnow()
    window = inner.conf.token.allow_expired_window
    payload = token_payload.TokenPayload(
        alice["id"], ["password"], token_payload.UNSCOPED, None,
        now - datetime.timedelta(seconds=window + 60),
        now - datetime.timedelta(seconds=window + 3660), [token_payload.new_audit_id()])
    expired = token_payload.encode(inner.tokens.keys, payload)
    error_of(api.validate(expired, query="?allow_expired=true", status="*"), 404)


def test_member_validates_own_token(api: Api, member: Persona) -> None:
    resp = api.validate(member.token, token=member.token)
    assert resp.json["token"]["user"]["id"] == member.user_id


def test_member_cannot_validate_someone_elses_token(api: Api, member: Persona,
                                                    other_member: Persona) -> None:
    error_of(api.validate(other_member.token, token=member.token, status="*"), 403)
    error_of(api.delete(TOKENS, token=member.token,
                        headers={"X-Subject-Token": other_member.token}, status="*"), 403)
    api.validate(other_member.token)  # still valid


def test_system_reader_validates_any_token(api: Api, system_reader: Persona,
                                           member: Persona) -> None:
    resp = api.validate(member.token, token=system_reader.token)
    assert resp.json["token"]["user"]["id"] == member.user_id


# -- /v3/auth/{catalog,projects,domains,system} -------------------------------------------

def test_auth_catalog(api: Api, member: Persona) -> None:
    body = api.get("/v3/auth/catalog", token=member.token).json
    assert any(s["type"] == "identity" and s["endpoints"] for s in body["catalog"])
    assert body["links"]["self"].endswith("/v3/auth/catalog")


def test_auth_catalog_needs_a_scoped_token(api: Api, no_roles: Persona) -> None:
    error_of(api.get("/v3/auth/catalog", token=no_roles.token, status="*"), 403)


def test_auth_catalog_refuses_domain_scoped_token(api: Api, alice: dict[str, Any]) -> None:
    subject = api.token_for(alice["id"], USER_PASSWORD, domain_scope(DEFAULT_DOMAIN))
    error_of(api.get("/v3/auth/catalog", token=subject, status="*"), 403)


def test_auth_projects(api: Api, member: Persona, project: dict[str, Any],
                       other_project: dict[str, Any]) -> None:
    body = api.get("/v3/auth/projects", token=member.token).json
    ids = [p["id"] for p in body["projects"]]
    assert ids == [project["id"]]
    assert body["projects"][0]["name"] == project["name"]
    assert body["projects"][0]["domain_id"] == DEFAULT_DOMAIN
    assert body["links"]["self"].endswith("/v3/auth/projects")


def test_auth_projects_unscoped_token_without_roles(api: Api, no_roles: Persona) -> None:
    assert api.get("/v3/auth/projects", token=no_roles.token).json["projects"] == []


def test_auth_domains(api: Api, alice: dict[str, Any], member: Persona) -> None:
    subject = api.token_for(alice["id"], USER_PASSWORD)
    domains = api.get("/v3/auth/domains", token=subject).json["domains"]
    assert [d["id"] for d in domains] == [DEFAULT_DOMAIN]
    assert api.get("/v3/auth/domains", token=member.token).json["domains"] == []


def test_auth_system(api: Api, alice: dict[str, Any], member: Persona) -> None:
    subject = api.token_for(alice["id"], USER_PASSWORD)
    assert api.get("/v3/auth/system", token=subject).json["system"] == [{"all": True}]
    assert api.get("/v3/auth/system", token=member.token).json["system"] == []


def test_auth_helpers_need_a_token(api: Api) -> None:
    for path in ("/v3/auth/catalog", "/v3/auth/projects", "/v3/auth/domains",
                 "/v3/auth/system"):
        error_of(api.get(path, token="", status="*"), 401)
