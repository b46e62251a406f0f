"""Helpers of the identity API tests: request bodies, error checks, an API client."""
from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import webtest

ADMIN_PASSWORD = "secret"
USER_PASSWORD = "pw-s3cret"
DEFAULT_DOMAIN = "default"
TOKENS = "/v3/auth/tokens"


def unique(prefix: str = "x") -> str:
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def password_auth(password: str, user_id: str | None = None, name: str | None = None,
                  domain_id: str | None = None, domain_name: str | None = None,
                  scope: dict[str, Any] | None = None) -> dict[str, Any]:
    """A POST /v3/auth/tokens body for the password method."""
    user: dict[str, Any] = {"password": password}
    if user_id is not None:
        user["id"] = user_id
    if name is not None:
        user["name"] = name
        user["domain"] = {"id": domain_id} if domain_id else {"name": domain_name}
    auth: dict[str, Any] = {"identity": {"methods": ["password"],
                                         "password": {"user": user}}}
    if scope is not None:
        auth["scope"] = scope
    return {"auth": auth}


def project_scope(project_id: str) -> dict[str, Any]:
    return {"project": {"id": project_id}}


def domain_scope(domain_id: str) -> dict[str, Any]:
    return {"domain": {"id": domain_id}}


SYSTEM_SCOPE: dict[str, Any] = {"system": {"all": True}}


def error_of(resp: webtest.TestResponse, code: int) -> dict[str, Any]:
    """Assert ``resp`` is a Keystone error body with ``code`` and return it
    (a HEAD response has no body: only its status is checked)."""
    assert resp.status_int == code, resp.text
    if resp.request.method == "HEAD":
        assert resp.body == b""
        return {"code": code}
    assert resp.content_type == "application/json"
    err = resp.json["error"]
    assert err["code"] == code
    assert isinstance(err["title"], str) and err["title"]
    assert isinstance(err["message"], str) and err["message"]
    return dict(err)


@dataclasses.dataclass
class Persona:
    """A user, the password it authenticates with, and one token of it."""

    name: str
    user_id: str
    password: str
    token: str
    project_id: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Auth-Token": self.token}


class Api:
    """Small helpers over the TestApp; admin calls use the cloud-admin token."""

    def __init__(self, app: webtest.TestApp) -> None:
        self.app = app
        self.admin_token, body = self.issue(password_auth(
            ADMIN_PASSWORD, name="admin", domain_id=DEFAULT_DOMAIN,
            scope={"project": {"name": "admin", "domain": {"id": DEFAULT_DOMAIN}}}))
        self.admin_user_id: str = body["user"]["id"]
        self.admin_project_id: str = body["project"]["id"]
        self.roles: dict[str, str] = {r["name"]: r["id"] for r in self.get(
            "/v3/roles").json["roles"]}

    # -- raw calls (token=None means the admin token; token="" means none)
    def _headers(self, token: str | None, headers: dict[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        token = self.admin_token if token is None else token
        if token:
            out["X-Auth-Token"] = token
        return out

    def get(self, path: str, token: str | None = None, status: Any = 200,
            headers: dict[str, str] | None = None) -> webtest.TestResponse:
        return self.app.get(path, headers=self._headers(token, headers), status=status)

    def head(self, path: str, token: str | None = None, status: Any = 204,
             headers: dict[str, str] | None = None) -> webtest.TestResponse:
        return self.app.head(path, headers=self._headers(token, headers), status=status)

    def post(self, path: str, body: Any, token: str | None = None, status: Any = 201,
             headers: dict[str, str] | None = None) -> webtest.TestResponse:
        return self.app.post_json(path, body, headers=self._headers(token, headers),
                                  status=status)

    def put(self, path: str, body: Any = None, token: str | None = None, status: Any = 204,
            headers: dict[str, str] | None = None) -> webtest.TestResponse:
        if body is None:
            return self.app.put(path, headers=self._headers(token, headers), status=status)
        return self.app.put_json(path, body, headers=self._headers(token, headers),
                                 status=status)

    def patch(self, path: str, body: Any, token: str | None = None, status: Any = 200,
              headers: dict[str, str] | None = None) -> webtest.TestResponse:
        return self.app.patch_json(path, body, headers=self._headers(token, headers),
                                   status=status)

    def delete(self, path: str, token: str | None = None, status: Any = 204,
               headers: dict[str, str] | None = None) -> webtest.TestResponse:
        return self.app.delete(path, headers=self._headers(token, headers), status=status)

    # -- tokens
    def issue(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """POST /v3/auth/tokens (must give 201); returns (X-Subject-Token, token body)."""
        resp = self.app.post_json(TOKENS, body, status=201)
        return resp.headers["X-Subject-Token"], resp.json["token"]

    def auth_fails(self, body: Any, status: int = 401) -> dict[str, Any]:
        """POST /v3/auth/tokens must fail with ``status``; returns the error object."""
        resp = self.app.post_json(TOKENS, body, status="*")
        assert "X-Subject-Token" not in resp.headers
        return error_of(resp, status)

    def token_for(self, user_id: str, password: str,
                  scope: dict[str, Any] | None = None) -> str:
        return self.issue(password_auth(password, user_id=user_id, scope=scope))[0]

    def validate(self, subject: str, token: str | None = None, status: Any = 200,
                 query: str = "") -> webtest.TestResponse:
        return self.get(TOKENS + query, token=token, status=status,
                        headers={"X-Subject-Token": subject})

    # -- entities
    def create_user(self, name: str | None = None, password: str | None = USER_PASSWORD,
                    domain_id: str = DEFAULT_DOMAIN, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name or unique("user"), "domain_id": domain_id}
        if password is not None:
            body["password"] = password
        body.update(extra)
        return dict(self.post("/v3/users", {"user": body}).json["user"])

    def create_project(self, name: str | None = None, domain_id: str = DEFAULT_DOMAIN,
                       **extra: Any) -> dict[str, Any]:
        body = {"name": name or unique("project"), "domain_id": domain_id, **extra}
        return dict(self.post("/v3/projects", {"project": body}).json["project"])

    def create_domain(self, name: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {"name": name or unique("domain"), **extra}
        return dict(self.post("/v3/domains", {"domain": body}).json["domain"])

    def create_role(self, name: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {"name": name or unique("role"), **extra}
        return dict(self.post("/v3/roles", {"role": body}).json["role"])

    def create_group(self, name: str | None = None, domain_id: str = DEFAULT_DOMAIN,
                     **extra: Any) -> dict[str, Any]:
        body = {"name": name or unique("group"), "domain_id": domain_id, **extra}
        return dict(self.post("/v3/groups", {"group": body}).json["group"])

    def grant(self, user_id: str, role: str, project_id: str | None = None,
              domain_id: str | None = None, system: bool = False,
              actor: str = "users") -> None:
        """Grant ``role`` (a name of a bootstrap role, or an id) to a user or group."""
        role_id = self.roles.get(role, role)
        if system:
            target = "/v3/system"
        elif project_id is not None:
            target = "/v3/projects/" + project_id
        else:
            target = "/v3/domains/%s" % domain_id
        self.put("%s/%s/%s/roles/%s" % (target, actor, user_id, role_id))

    def persona(self, role: str | None, project_id: str | None = None,
                system: bool = False, name: str | None = None) -> Persona:
        """A new user with ``role`` on ``project_id`` (or the system) and a token
        scoped there; ``role=None`` gives a user without roles and an unscoped token."""
        name = name or unique("persona")
        password = "pw-" + uuid.uuid4().hex[:8]
        user = self.create_user(name=name, password=password)
        scope = None
        if role is not None and system:
            self.grant(user["id"], role, system=True)
            scope = SYSTEM_SCOPE
        elif role is not None and project_id is not None:
            self.grant(user["id"], role, project_id=project_id)
            scope = project_scope(project_id)
        token = self.token_for(user["id"], password, scope)
        return Persona(name, user["id"], password, token, project_id)
