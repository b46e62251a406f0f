"""``/v2.1/servers/{id}/os-instance-actions`` (+ ``/{request_id}``): what was
done to a server and, for admins, the events of each action. From 2.21 the
actions of a deleted server stay readable."""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from compute import servers as servers_service
from compute.api import microversion
from compute.api.controllers import servers as servers_controller

Request = wsgi_request.Request
ACTION_KEYS = ("action", "instance_uuid", "message", "project_id", "request_id",
               "start_time", "user_id")
EVENT_KEYS = ("event", "start_time", "finish_time", "result", "traceback")


def _action(action: dict[str, Any], version: tuple[int, int]) -> dict[str, Any]:
    body = {key: action[key] for key in ACTION_KEYS}
    if version >= (2, 58):
        body["updated_at"] = action["updated_at"]
    return body


class InstanceActionsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.servers: servers_service.ServerService = app.servers

    def _instance(self, req: Request, server_id: str, rule: str) -> dict[str, Any]:
        deleted = microversion.of(req) >= (2, 21)
        instance = self.servers.get(req.context, server_id, read_deleted=deleted)
        req.context.can("os_compute_api:os-instance-actions:" + rule,
                        servers_controller.target(instance))
        return instance

    def index(self, req: Request, server_id: str) -> Any:
        instance = self._instance(req, server_id, "list")
        version = microversion.of(req)
        return wsgi_request.json_response(
            {"instanceActions": [_action(a, version)
                                 for a in self.servers.list_actions(instance)]})

    def show(self, req: Request, server_id: str, request_id: str) -> Any:
        instance = self._instance(req, server_id, "show")
        version = microversion.of(req)
        found = self.servers.get_action(instance, request_id)
        body = _action(found, version)
        if req.context.can("os_compute_api:os-instance-actions:events",
                           servers_controller.target(instance), fatal=False):
            body["events"] = [{key: event[key] for key in EVENT_KEYS}
                              for event in found["events"]]
        return wsgi_request.json_response({"instanceAction": body})

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        base = "/v2.1/servers/{server_id}/os-instance-actions"
        return [(base, {"GET": self.index}), (base + "/{request_id}", {"GET": self.show})]
