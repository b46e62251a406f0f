"""Helpers of the compute API tests: a client that speaks as a project (and a
user) and checks what Nova guarantees on every response: an
``X-OpenStack-Request-ID``, never a 500, on an error the body
``{"<name>": {"code": <status>, "message": ...}}``, and under /v2.1 the
negotiated microversion echoed with ``Vary``."""
from __future__ import annotations

import uuid
from typing import Any

import webtest

from compute.api import microversion
from tests.fixtures.api_client import ApiClient

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


class Api(ApiClient):
    def check(self, method: str, path: str, resp: webtest.TestResponse) -> None:
        if resp.status_int >= 400 and method != "HEAD":
            name = NOVA_ERRORS[resp.status_int]
            assert set(resp.json) == {name}, resp.json
            assert resp.json[name]["code"] == resp.status_int, resp.json
            assert resp.json[name]["message"], resp.json
        if path.startswith("/v2.1") and resp.status_int not in (400, 401, 406, 413, 415):
            wanted = microversion.to_string(microversion.negotiate(resp.request.headers))
            assert resp.headers["OpenStack-API-Version"] == "compute " + wanted, \
                dict(resp.headers)
            assert resp.headers["X-OpenStack-Nova-API-Version"] == wanted
            assert "OpenStack-API-Version" in resp.headers["Vary"]

    def admin(self, method: str, path: str, **kwargs: Any) -> webtest.TestResponse:
        return self.call(method, path, ADMIN, roles=ADMIN_ROLES, **kwargs)

    def create_flavor(self, name: str | None = None, status: int = 200,
                      **fields: Any) -> dict[str, Any]:
        body = {"name": name or "f-" + uuid.uuid4().hex[:8], "ram": 512, "vcpus": 1,
                "disk": 1}
        body.update(fields)
        resp = self.admin("POST", "/v2.1/flavors", json_body={"flavor": body}, status=status)
        return dict(resp.json["flavor"]) if status == 200 else dict(resp.json)
