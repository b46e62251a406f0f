"""Helpers of the network API tests: a client that speaks as a project and checks
what Neutron guarantees on every response: an ``X-OpenStack-Request-ID``, never
a 500, and on an error the body ``{"NeutronError": {"type", "message", "detail"}}``."""
from __future__ import annotations

import re
import uuid
from typing import Any

import webtest

from tests.fixtures.api_client import ApiClient

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
SINGULAR = {"networks": "network", "subnets": "subnet", "ports": "port",
            "subnetpools": "subnetpool", "security-groups": "security_group",
            "security-group-rules": "security_group_rule", "routers": "router",
            "floatingips": "floatingip", "agents": "agent"}


def project() -> str:
    """A fresh project id (keystone style: 32 hex digits)."""
    return uuid.uuid4().hex


def error_type(resp: webtest.TestResponse) -> str:
    return str(resp.json["NeutronError"]["type"])


class Api(ApiClient):
    ADMIN = "admin-project"
    ADMIN_ROLES = "admin,member,reader"

    def check(self, method: str, path: str, resp: webtest.TestResponse) -> None:
        if resp.status_int >= 400 and method != "HEAD":
            err = resp.json["NeutronError"]
            assert set(err) == {"type", "message", "detail"}, err
            assert err["type"] and err["message"], err

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
