"""``POST /v2.1/os-server-external-events``: the network service tells servers'
nodes about their ports (``network-vif-plugged`` ...). Admins and services only.

The answer lists every event with its ``code``: 200 delivered, 404 no such
server, 422 a server on no host yet; the status is 200 when all were
delivered, 207 when some were not, 404 when none could be.
"""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import servers as servers_service
from compute.api.controllers import servers as servers_controller
from compute.api.schemas import servers as schema

Request = wsgi_request.Request


class ServerEventsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.servers: servers_service.ServerService = app.servers

    def create(self, req: Request) -> Any:
        req.context.can("os_compute_api:os-server-external-events:create",
                        servers_controller.own_target(req))
        body = validation.validate(req.parsed_json(), schema.EXTERNAL_EVENTS)
        events, code = self.servers.external_events(req.context, body["events"])
        return wsgi_request.json_response({"events": events}, status=code)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/os-server-external-events", {"POST": self.create})]
