"""``/v2.1/servers/{id}/tags`` (microversion 2.26): list, replace, delete all,
and one tag (check, add, delete)."""
from __future__ import annotations

from typing import Any
from urllib import parse

from common import exception as common_exception
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import exception
from compute import servers as servers_service
from compute.api import microversion
from compute.api.controllers import servers as servers_controller
from compute.api.schemas import servers as schema

Request = wsgi_request.Request


class ServerTagsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.servers: servers_service.ServerService = app.servers

    def _instance(self, req: Request, server_id: str, rule: str) -> dict[str, Any]:
        if microversion.of(req) < (2, 26):
            raise common_exception.NotFound("The resource could not be found.")
        instance = self.servers.get(req.context, server_id)
        req.context.can("os_compute_api:os-server-tags:" + rule,
                        servers_controller.target(instance))
        return instance

    @staticmethod
    def _tag(raw: str) -> str:
        tag = raw
        validation.validate({"tags": [tag]}, schema.TAGS)
        return tag

    def index(self, req: Request, server_id: str) -> Any:
        instance = self._instance(req, server_id, "index")
        return wsgi_request.json_response({"tags": instance["tags"]})

    def update_all(self, req: Request, server_id: str) -> Any:
        instance = self._instance(req, server_id, "update_all")
        body = validation.validate(req.parsed_json(), schema.TAGS)
        tags = self.servers.set_tags(req.context, instance, body["tags"])
        return wsgi_request.json_response({"tags": tags})

    def delete_all(self, req: Request, server_id: str) -> Any:
        instance = self._instance(req, server_id, "delete_all")
        self.servers.delete_tags(req.context, instance)
        return wsgi_request.empty_response(204)

    def show(self, req: Request, server_id: str, tag: str) -> Any:
        instance = self._instance(req, server_id, "show")
        if tag not in instance["tags"]:
            raise exception.InstanceTagNotFound(instance_id=server_id, tag=tag)
        return wsgi_request.empty_response(204)

    def update(self, req: Request, server_id: str, tag: str) -> Any:
        instance = self._instance(req, server_id, "update")
        name = self._tag(tag)
        if not self.servers.add_tag(req.context, instance, name):
            return wsgi_request.empty_response(204)
        location = "%s/servers/%s/tags/%s" % (servers_controller.links(self.app, req).versioned,
                                              server_id, parse.quote(name, safe=""))
        return wsgi_request.empty_response(201, headers={"Location": location})

    def delete(self, req: Request, server_id: str, tag: str) -> Any:
        instance = self._instance(req, server_id, "delete")
        self.servers.delete_tag(req.context, instance, tag)
        return wsgi_request.empty_response(204)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        base = "/v2.1/servers/{server_id}/tags"
        return [(base, {"GET": self.index, "PUT": self.update_all,
                        "DELETE": self.delete_all}),
                (base + "/{tag}", {"GET": self.show, "PUT": self.update,
                                   "DELETE": self.delete})]
