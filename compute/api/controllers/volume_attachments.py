"""``/v2.1/servers/{id}/os-volume_attachments`` and ``…/{volume_id}``: the
volumes attached to a server (list with ``limit``/``offset``, show, attach,
swap — refused —, detach). The request bodies are Nova's 2.1 schemas (the
``tag`` of 2.49 and ``delete_on_termination`` of 2.79 are beyond the versions
served)."""
from __future__ import annotations

import copy
from typing import Any

from common import exception as common_exception
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import servers as servers_service
from compute import volume_attachments
from compute.api import microversion
from compute.api.controllers import servers as servers_controller

Request = wsgi_request.Request
_MAX_INT = 0x7FFFFFFF

CREATE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "volumeAttachment": {
            "type": "object",
            "properties": {
                "volumeId": {"type": "string", "format": "uuid"},
                "device": {"type": ["string", "null"],
                           "pattern": volume_attachments.DEVICE_PATTERN},
            },
            "required": ["volumeId"],
            "additionalProperties": False,
        },
    },
    "required": ["volumeAttachment"],
    "additionalProperties": False,
}
UPDATE: dict[str, Any] = copy.deepcopy(CREATE)
del UPDATE["properties"]["volumeAttachment"]["properties"]["device"]


def _non_negative(req: Request, name: str) -> int | None:
    raw = req.GET.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > _MAX_INT:
        raise common_exception.ValidationError(
            field=name, detail="must be an integer from 0 to %d" % _MAX_INT)
    return int(raw)


class VolumeAttachmentsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.servers: servers_service.ServerService = app.servers
        self.attachments = volume_attachments.VolumeAttachments(app.servers)

    def _server(self, req: Request, server_id: str, rule: str) -> dict[str, Any]:
        instance = self.servers.get(req.context, server_id)
        req.context.can("os_compute_api:os-volumes-attachments:" + rule,
                        servers_controller.target(instance))
        return instance

    def index(self, req: Request, server_id: str) -> Any:
        instance = self._server(req, server_id, "index")
        limit = _non_negative(req, "limit")
        max_limit = int(self.app.conf.compute_api.max_limit)
        found = self.attachments.list(instance, min(max_limit, limit or max_limit),
                                      _non_negative(req, "offset") or 0)
        return wsgi_request.json_response({"volumeAttachments": found})

    def show(self, req: Request, server_id: str, volume_id: str) -> Any:
        instance = self._server(req, server_id, "show")
        return wsgi_request.json_response(
            {"volumeAttachment": self.attachments.show(instance, volume_id)})

    def create(self, req: Request, server_id: str) -> Any:
        instance = self._server(req, server_id, "create")
        body = validation.validate(req.parsed_json(), CREATE)
        attached = self.attachments.attach(req.context, instance, body["volumeAttachment"],
                                           microversion.of(req))
        return wsgi_request.json_response({"volumeAttachment": attached})

    def update(self, req: Request, server_id: str, volume_id: str) -> Any:
        instance = self.servers.get(req.context, server_id)
        # Before 2.85 a PUT only swaps: the admins' rule.
        req.context.can("os_compute_api:os-volumes-attachments:swap", {})
        body = validation.validate(req.parsed_json(), UPDATE)
        self.attachments.swap(req.context, instance, volume_id,
                              str(body["volumeAttachment"]["volumeId"]))
        return wsgi_request.empty_response(202)

    def delete(self, req: Request, server_id: str, volume_id: str) -> Any:
        instance = self._server(req, server_id, "delete")
        self.attachments.detach(req.context, instance, volume_id, microversion.of(req))
        return wsgi_request.empty_response(202)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        base = "/v2.1/servers/{server_id}/os-volume_attachments"
        return [(base, {"GET": self.index, "POST": self.create}),
                (base + "/{volume_id}", {"GET": self.show, "PUT": self.update,
                                         "DELETE": self.delete})]
