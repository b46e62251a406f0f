"""A server's security groups: ``GET /v2.1/servers/{id}/os-security-groups`` and
the ``addSecurityGroup`` / ``removeSecurityGroup`` actions (202, no body)."""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import server_security_groups
from compute import servers as servers_service
from compute.api.controllers import servers as servers_controller
from compute.api.schemas import server_security_groups as schema

Request = wsgi_request.Request


def _can(req: Request, rule: str, instance: dict[str, Any]) -> None:
    req.context.can("os_compute_api:os-security-groups:" + rule,
                    servers_controller.target(instance))


class ServerSecurityGroupsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.servers: servers_service.ServerService = app.servers
        self.groups = server_security_groups.ServerSecurityGroups(app.servers)

    def index(self, req: Request, server_id: str) -> Any:
        instance = self.servers.get(req.context, server_id)
        _can(req, "list", instance)
        return wsgi_request.json_response(
            {"security_groups": self.groups.list(req.context, instance)})

    def add(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        name = validation.validate(body, schema.ADD)["addSecurityGroup"]["name"]
        _can(req, "add", instance)
        self.groups.add(req.context, instance, name)
        return wsgi_request.empty_response(202)

    def remove(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        name = validation.validate(body, schema.REMOVE)["removeSecurityGroup"]["name"]
        _can(req, "remove", instance)
        self.groups.remove(req.context, instance, name)
        return wsgi_request.empty_response(202)

    def register_actions(self, actions: Any) -> None:
        actions.register("addSecurityGroup", self.add)
        actions.register("removeSecurityGroup", self.remove)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/servers/{server_id}/os-security-groups", {"GET": self.index})]
