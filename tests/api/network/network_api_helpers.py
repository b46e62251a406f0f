"""Helpers of the network API tests: a client that speaks as a project and checks
what Neutron guarantees on every response: an ``X-OpenStack-Request-ID``, never
a 500, and on an error the body ``{"NeutronError": {"type", "message", "detail"}}``."""
from __future__ import annotations

import json
import re
import uuid
from typing import Any

import webtest

REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_NO_BODY = object()
SINGULAR = {"networks": "network", "subnets": "subnet", "ports": "port",
            "subnetpools": "subnetpool", "security-groups": "security_group",
            "security-group-rules": "security_group_rule", "routers": "router",
            "floatingips": "floatingip", "agents": "agent"}


def project() -> str:
    """A fresh project id (keystone style: 32 hex digits)."""
    return uuid.uuid4().hex


def error_type(resp: webtest.TestResponse) -> str:
    return str(resp.json["NeutronError"]["type"])


class Api:
    ADMIN = "admin-project"
    ADMIN_ROLES = "admin,member,reader"

    def __init__(self, app: webtest.TestApp) -> None:
        self.app = app

    def call(self, method: str, path: str, project_id: str | None, *,
             roles: str | None = None, json_body: Any = _NO_BODY,
             body: bytes | None = None, headers: dict[str, str] | None = None,
             status: int | None = None) -> webtest.TestResponse:
        all_headers: dict[str, str] = {}
        if project_id is not None:
            all_headers["X-Test-Project"] = project_id
        if roles is not None:
            all_headers["X-Test-Roles"] = roles
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
            err = resp.json["NeutronError"]
            assert set(err) == {"type", "message", "detail"}, err
            assert err["type"] and err["message"], err
        if status is not None:
            assert resp.status_int == status, "%s %s -> %s (wanted %s): %s" % (
                method, path, resp.status, status, resp.text[:500])
        return resp

    def create(self, collection: str, project_id: str, fields: dict[str, Any],
               roles: str | None = None, status: int = 201) -> dict[str, Any]:
        key = SINGULAR[collection]
        resp = self.call("POST", "/v2.0/" + collection, project_id, roles=roles,
                         json_body={key: fields}, status=status)
        return dict(resp.json[key]) if status == 201 else dict(resp.json)

    def show(self, collection: str, project_id: str, resource_id: str,
             roles: str | None = None, status: int = 200, query: str = "") -> dict[str, Any]:
        resp = self.call("GET", "/v2.0/%s/%s%s" % (collection, resource_id,
                                                   "?" + query if query else ""),
                         project_id, roles=roles, status=status)
        return dict(resp.json[SINGULAR[collection]]) if status == 200 else dict(resp.json)

    def update(self, collection: str, project_id: str, resource_id: str,
               fields: dict[str, Any], roles: str | None = None, status: int = 200,
               headers: dict[str, str] | None = None) -> dict[str, Any]:
        key = SINGULAR[collection]
        resp = self.call("PUT", "/v2.0/%s/%s" % (collection, resource_id), project_id,
                         roles=roles, json_body={key: fields}, status=status, headers=headers)
        return dict(resp.json[key]) if status == 200 else dict(resp.json)

    def delete(self, collection: str, project_id: str, resource_id: str,
               roles: str | None = None, status: int = 204) -> webtest.TestResponse:
        return self.call("DELETE", "/v2.0/%s/%s" % (collection, resource_id), project_id,
                         roles=roles, status=status)

    def list(self, collection: str, project_id: str, query: str = "",
             roles: str | None = None, status: int = 200) -> dict[str, Any]:
        path = "/v2.0/" + collection + ("?" + query if query else "")
        return dict(self.call("GET", path, project_id, roles=roles, status=status).json)

    def ids(self, collection: str, project_id: str, query: str = "",
            roles: str | None = None) -> list[str]:
        key = collection.replace("-", "_")
        return [i["id"] for i in self.list(collection, project_id, query, roles)[key]]

    # -- shortcuts
    def network_with_subnet(self, project_id: str, cidr: str = "10.0.0.0/24",
                            **subnet: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        net = self.create("networks", project_id, {"name": "net"})
        fields = {"network_id": net["id"], "ip_version": 4, "cidr": cidr}
        fields.update(subnet)
        sub = self.create("subnets", project_id, fields)
        return net, sub
