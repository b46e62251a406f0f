"""Remote consoles: ``POST /v2.1/servers/{id}/remote-consoles`` (2.6+) and the
older ``os-getVNCConsole`` action (before 2.6), both answered with a noVNC URL."""
from __future__ import annotations

from typing import Any

from common import exception as common_exception
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import consoles
from compute.api import microversion
from compute.api.controllers import servers as servers_controller

Request = wsgi_request.Request

REMOTE_CONSOLE = {
    "type": "object",
    "properties": {"remote_console": {
        "type": "object",
        "properties": {"protocol": {"type": "string", "enum": ["vnc", "spice", "rdp",
                                                                "serial", "mks"]},
                       "type": {"type": "string", "enum": ["novnc", "xvpvnc", "rdp-html5",
                                                            "spice-html5", "serial",
                                                            "webmks"]}},
        "required": ["protocol", "type"], "additionalProperties": False}},
    "required": ["remote_console"], "additionalProperties": False}
VNC_ACTION = {
    "type": "object",
    "properties": {"os-getVNCConsole": {
        "type": "object",
        "properties": {"type": {"type": "string", "enum": ["novnc", "xvpvnc"]}},
        "required": ["type"], "additionalProperties": False}},
    "required": ["os-getVNCConsole"], "additionalProperties": False}


class ConsolesController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.consoles = consoles.ConsoleService(app.conf, app.db)

    def create(self, req: Request, server_id: str) -> Any:
        if microversion.of(req) < (2, 6):
            raise common_exception.NotFound()
        body = validation.validate(req.parsed_json(), REMOTE_CONSOLE)["remote_console"]
        instance = self.app.servers.get(req.context, server_id)
        req.context.can("os_compute_api:os-remote-consoles",
                        servers_controller.target(instance))
        console = self.consoles.get_console(req.context, instance, body["protocol"],
                                            body["type"])
        return wsgi_request.json_response({"remote_console": console})

    def vnc_action(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        """The ``os-getVNCConsole`` server action (removed at 2.6)."""
        if microversion.of(req) >= (2, 6):
            raise common_exception.Invalid("There is no such action: os-getVNCConsole")
        body = validation.validate(body, VNC_ACTION)["os-getVNCConsole"]
        req.context.can("os_compute_api:os-remote-consoles",
                        servers_controller.target(instance))
        console = self.consoles.get_console(req.context, instance, "vnc", body["type"])
        return wsgi_request.json_response({"console": {"type": console["type"],
                                                       "url": console["url"]}})

    def register_actions(self, actions: Any) -> None:
        actions.register("os-getVNCConsole", self.vnc_action)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/servers/{server_id}/remote-consoles", {"POST": self.create})]
