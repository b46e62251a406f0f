"""``/v2.1/servers/{id}/os-server-password``: the encrypted password the guest
posted to the metadata service (GET), and clearing it (DELETE, 204)."""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from compute import server_actions
from compute import servers as servers_service
from compute.api.controllers import servers as servers_controller

Request = wsgi_request.Request


class ServerPasswordController:
    def __init__(self, app: Any) -> None:
        self.servers: servers_service.ServerService = app.servers
        self.actions: server_actions.ServerActions = app.server_actions

    def _instance(self, req: Request, server_id: str, rule: str) -> dict[str, Any]:
        instance = self.servers.get(req.context, server_id)
        req.context.can("os_compute_api:os-server-password:" + rule,
                        servers_controller.target(instance))
        return instance

    def show(self, req: Request, server_id: str) -> Any:
        instance = self._instance(req, server_id, "show")
        return wsgi_request.json_response({"password": self.actions.password(instance)})

    def clear(self, req: Request, server_id: str) -> Any:
        instance = self._instance(req, server_id, "clear")
        self.actions.clear_password(req.context, instance)
        return wsgi_request.empty_response(204)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/servers/{server_id}/os-server-password",
                 {"GET": self.show, "DELETE": self.clear})]
