"""The ``rescue`` and ``unrescue`` server actions (Nova's os-rescue).

``{"rescue": {"adminPass": ..., "rescue_image_ref": <image uuid>}}`` (both
optional, the body may be ``null``) answers 200 with ``{"adminPass": ...}``
(``{}`` when ``[api] enable_instance_password`` is off); ``{"unrescue": null}``
answers 202.
"""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import server_rescue
from compute.api.controllers import servers as servers_controller

Request = wsgi_request.Request

RESCUE: dict[str, Any] = {
    "type": "object",
    "properties": {"rescue": {
        "type": ["object", "null"],
        "properties": {"adminPass": {"type": "string"},
                       "rescue_image_ref": {"type": "string", "format": "uuid"}},
        "additionalProperties": False}},
    "required": ["rescue"], "additionalProperties": False}
UNRESCUE: dict[str, Any] = {
    "type": "object",
    "properties": {"unrescue": {"type": ["null", "object"], "properties": {},
                                "additionalProperties": False}},
    "required": ["unrescue"], "additionalProperties": False}


class ServerRescueController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.rescues = server_rescue.ServerRescue(app.servers, app.server_builder)

    def rescue(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        body = validation.validate(body, RESCUE)["rescue"] or {}
        req.context.can("os_compute_api:os-rescue", servers_controller.target(instance))
        password = self.rescues.rescue(req.context, instance, body.get("adminPass"),
                                       body.get("rescue_image_ref"))
        if not self.app.conf.api.enable_instance_password:
            return wsgi_request.json_response({})
        return wsgi_request.json_response({"adminPass": password})

    def unrescue(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        validation.validate(body, UNRESCUE)
        req.context.can("os_compute_api:os-unrescue", servers_controller.target(instance))
        self.rescues.unrescue(req.context, instance)
        return wsgi_request.empty_response(202)

    def register_actions(self, actions: Any) -> None:
        actions.register("rescue", self.rescue)
        actions.register("unrescue", self.unrescue)
