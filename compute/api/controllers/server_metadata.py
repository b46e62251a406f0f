"""``/v2.1/servers/{id}/metadata``: list, merge (POST), replace (PUT) and one
item (``/metadata/{key}``: show, set, delete)."""
from __future__ import annotations

from typing import Any

from common import exception as common_exception
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import exception
from compute import servers as servers_service
from compute.api.controllers import servers as servers_controller
from compute.api.schemas import servers as schema

Request = wsgi_request.Request


class ServerMetadataController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.servers: servers_service.ServerService = app.servers

    def _instance(self, req: Request, server_id: str, rule: str) -> dict[str, Any]:
        instance = self.servers.get(req.context, server_id)
        req.context.can("os_compute_api:server-metadata:" + rule,
                        servers_controller.target(instance))
        return instance

    def index(self, req: Request, server_id: str) -> Any:
        instance = self._instance(req, server_id, "index")
        return wsgi_request.json_response({"metadata": instance["metadata"]})

    def create(self, req: Request, server_id: str) -> Any:
        body = validation.validate(req.parsed_json(), schema.METADATA_ALL)
        instance = self._instance(req, server_id, "create")
        found = self.servers.update_metadata(req.context, instance, body["metadata"],
                                             replace=False)
        return wsgi_request.json_response({"metadata": found})

    def update_all(self, req: Request, server_id: str) -> Any:
        body = validation.validate(req.parsed_json(), schema.METADATA_ALL)
        instance = self._instance(req, server_id, "update_all")
        found = self.servers.update_metadata(req.context, instance, body["metadata"],
                                             replace=True)
        return wsgi_request.json_response({"metadata": found})

    def show(self, req: Request, server_id: str, key: str) -> Any:
        instance = self._instance(req, server_id, "show")
        if key not in instance["metadata"]:
            raise exception.InstanceMetadataNotFound()
        return wsgi_request.json_response({"meta": {key: instance["metadata"][key]}})

    def update(self, req: Request, server_id: str, key: str) -> Any:
        body = validation.validate(req.parsed_json(), schema.METADATA_ITEM)
        if key not in body["meta"]:
            raise common_exception.Invalid("Request body and URI mismatch")
        instance = self._instance(req, server_id, "update")
        self.servers.update_metadata(req.context, instance, body["meta"], replace=False)
        return wsgi_request.json_response({"meta": body["meta"]})

    def delete(self, req: Request, server_id: str, key: str) -> Any:
        instance = self._instance(req, server_id, "delete")
        if key not in instance["metadata"]:
            raise exception.InstanceMetadataNotFound()
        self.servers.delete_metadata(req.context, instance, key)
        return wsgi_request.empty_response(204)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        base = "/v2.1/servers/{server_id}/metadata"
        return [(base, {"GET": self.index, "POST": self.create, "PUT": self.update_all}),
                (base + "/{key}", {"GET": self.show, "PUT": self.update,
                                   "DELETE": self.delete})]
