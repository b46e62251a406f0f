"""``/v2.1/servers/{id}/ips`` and ``/ips/{network_label}``: a server's addresses."""
from __future__ import annotations

from typing import Any

from common import exception as common_exception
from common.wsgi import request as wsgi_request
from compute import servers as servers_service
from compute.api import views_servers
from compute.api.controllers import servers as servers_controller

Request = wsgi_request.Request


class ServerIpsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.servers: servers_service.ServerService = app.servers

    def _addresses(self, req: Request, server_id: str, rule: str) -> dict[str, Any]:
        instance = self.servers.get(req.context, server_id)
        req.context.can("os_compute_api:ips:" + rule, servers_controller.target(instance))
        return views_servers.addresses(instance, extended=False)

    def index(self, req: Request, server_id: str) -> Any:
        return wsgi_request.json_response(
            {"addresses": self._addresses(req, server_id, "index")})

    def show(self, req: Request, server_id: str, network_label: str) -> Any:
        found = self._addresses(req, server_id, "show")
        if network_label not in found:
            raise common_exception.NotFound("Instance is not a member of specified network")
        return wsgi_request.json_response({network_label: found[network_label]})

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        base = "/v2.1/servers/{server_id}/ips"
        return [(base, {"GET": self.index}), (base + "/{network_label}", {"GET": self.show})]
