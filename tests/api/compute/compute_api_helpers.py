"""Helpers of the compute API tests: a client that speaks as a project (and a
user) and checks what Nova guarantees on every response: an
``X-OpenStack-Request-ID``, never a 500, on an error the body
``{"<name>": {"code": <status>, "message": ...}}``, and under /v2.1 the
negotiated microversion echoed with ``Vary``."""
from __future__ import annotations

import json
import re
import uuid
from typing import Any

import webtest

REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_NO_BODY = object()
NOVA_ERRORS = {400: "badRequest", 401: "unauthorized", 403: "forbidden",
               404: "itemNotFound", 405: "badMethod", 406: "notAcceptable",
               409: "conflictingRequest", 413: "overLimit", 415: "badMediaType"}
ADMIN = "admin-project"
ADMIN_ROLES = "admin,member,reader"


def project() -> str:
    """A fresh project id (keystone style: 32 hex digits)."""
    return uuid.uuid4().hex


def message(resp: webtest.TestResponse | dict[str, Any]) -> str:
    (body,) = (resp if isinstance(resp, dict) else resp.json).values()
    return str(body["message"])


class Api:
    def __init__(self, app: webtest.TestApp) -> None:
        self.app = app

    def call(self, method: str, path: str, project_id: str | None = None, *,
             roles: str | None = None, user: str | None = None, json_body: Any = _NO_BODY,
             body: bytes | None = None, headers: dict[str, str] | None = None,
             status: int | None = None) -> webtest.TestResponse:
        all_headers: dict[str, str] = {}
        if project_id is not None:
            all_headers["X-Test-Project"] = project_id
        if roles is not None:
            all_headers["X-Test-Roles"] = roles
        if user is not None:
            all_headers["X-Test-User"] = user
        all_headers.update(headers or {})
        if json_body is not _NO_BODY:
            body = json.dumps(json_body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        kwargs: dict[str, Any] = {"method": method, "headers": all_headers,
                                  "expect_errors": True}
        if body is not None:
            kwargs["body"] = body
        resp = self.app.request(path, **kwargs)
        assert resp.status_int < 500, "%s %s -> %s: %s" % (method, path, resp.status,
                                                            resp.text[:500])
        assert REQUEST_ID.match(resp.headers.get("X-OpenStack-Request-ID", "")), \
            dict(resp.headers)
        if resp.status_int >= 400 and method != "HEAD":
            name = NOVA_ERRORS[resp.status_int]
            assert set(resp.json) == {name}, resp.json
            assert resp.json[name]["code"] == resp.status_int, resp.json
            assert resp.json[name]["message"], resp.json
        if path.startswith("/v2.1") and resp.status_int not in (400, 401, 406, 413, 415):
            assert resp.headers["OpenStack-API-Version"] == "compute 2.1", dict(resp.headers)
            assert resp.headers["X-OpenStack-Nova-API-Version"] == "2.1"
            assert "OpenStack-API-Version" in resp.headers["Vary"]
        if status is not None:
            assert resp.status_int == status, "%s %s -> %s (wanted %s): %s" % (
                method, path, resp.status, status, resp.text[:500])
        return resp

    def admin(self, method: str, path: str, **kwargs: Any) -> webtest.TestResponse:
        return self.call(method, path, ADMIN, roles=ADMIN_ROLES, **kwargs)

    def create_flavor(self, name: str | None = None, status: int = 200,
                      **fields: Any) -> dict[str, Any]:
        body = {"name": name or "f-" + uuid.uuid4().hex[:8], "ram": 512, "vcpus": 1,
                "disk": 1}
        body.update(fields)
        resp = self.admin("POST", "/v2.1/flavors", json_body={"flavor": body}, status=status)
        return dict(resp.json["flavor"]) if status == 200 else dict(resp.json)
