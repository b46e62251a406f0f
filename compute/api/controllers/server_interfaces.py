"""``/v2.1/servers/{id}/os-interface`` and ``/os-interface/{port_id}``: a
server's port interfaces (list, show, attach, detach)."""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import server_interfaces
from compute import servers as servers_service
from compute.api.controllers import servers as servers_controller
from compute.api.schemas import server_interfaces as schema

Request = wsgi_request.Request


class ServerInterfacesController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.servers: servers_service.ServerService = app.servers
        self.interfaces = server_interfaces.ServerInterfaces(app.servers)

    def _server(self, req: Request, server_id: str, rule: str) -> dict[str, Any]:
        instance = self.servers.get(req.context, server_id)
        req.context.can("os_compute_api:os-attach-interfaces:" + rule,
                        servers_controller.target(instance))
        return instance

    def index(self, req: Request, server_id: str) -> Any:
        instance = self._server(req, server_id, "list")
        return wsgi_request.json_response(
            {"interfaceAttachments": self.interfaces.list(req.context, instance)})

    def show(self, req: Request, server_id: str, port_id: str) -> Any:
        instance = self._server(req, server_id, "show")
        return wsgi_request.json_response(
            {"interfaceAttachment": self.interfaces.show(req.context, instance, port_id)})

    def create(self, req: Request, server_id: str) -> Any:
        instance = self._server(req, server_id, "create")
        body = validation.validate(req.parsed_json(), schema.CREATE)
        attached = self.interfaces.attach(req.context, instance,
                                          body.get("interfaceAttachment") or {})
        return wsgi_request.json_response({"interfaceAttachment": attached})

    def delete(self, req: Request, server_id: str, port_id: str) -> Any:
        instance = self._server(req, server_id, "delete")
        self.interfaces.detach(req.context, instance, port_id)
        return wsgi_request.empty_response(202)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        base = "/v2.1/servers/{server_id}/os-interface"
        return [(base, {"GET": self.index, "POST": self.create}),
                (base + "/{port_id}", {"GET": self.show, "DELETE": self.delete})]
