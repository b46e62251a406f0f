"""``GET /v2.1/servers/{id}/diagnostics`` (admin): what the hypervisor says of
the guest, as the driver's free-form dict (Nova's shape before microversion
2.48; this cloud's newest microversion is older)."""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from compute import server_actions
from compute import servers as servers_service
from compute.api.controllers import servers as servers_controller

Request = wsgi_request.Request


class ServerDiagnosticsController:
    def __init__(self, app: Any) -> None:
        self.servers: servers_service.ServerService = app.servers
        self.actions: server_actions.ServerActions = app.server_actions

    def show(self, req: Request, server_id: str) -> Any:
        instance = self.servers.get(req.context, server_id)
        req.context.can("os_compute_api:os-server-diagnostics",
                        servers_controller.target(instance))
        return wsgi_request.json_response(self.actions.diagnostics(req.context, instance))

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/servers/{server_id}/diagnostics", {"GET": self.show})]
