"""``/v2.1/os-aggregates``: host aggregates (admin only): list, create, show,
update, delete and the ``add_host``, ``remove_host`` and ``set_metadata``
actions. 2.41 adds each aggregate's ``uuid``."""
from __future__ import annotations

from typing import Any

from common import exception as common_exception
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import aggregates as aggregates_api
from compute import exception
from compute.api import microversion
from compute.api.controllers.services import int_id
from compute.api.schemas import aggregates as schema

Request = wsgi_request.Request
_VIEW = ("availability_zone", "created_at", "deleted", "deleted_at", "hosts", "id",
         "metadata", "name", "updated_at")


def _view(req: Request, aggregate: dict[str, Any], created: bool = False) -> dict[str, Any]:
    body = {name: aggregate[name] for name in _VIEW}
    if created:
        # Nova's create response has neither hosts nor metadata.
        del body["hosts"], body["metadata"]
    if microversion.of(req) >= (2, 41):
        body["uuid"] = aggregate["uuid"]
    return body


def _id(aggregate_id: str) -> int:
    if not (aggregate_id.isascii() and aggregate_id.isdigit()):
        raise common_exception.Invalid("Invalid aggregate id %s: must be an integer"
                                       % aggregate_id)
    found = int_id(aggregate_id)
    if found is None:
        raise exception.AggregateNotFound(aggregate_id=aggregate_id)
    return found


class AggregatesController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.aggregates = aggregates_api.AggregateService(app.conf, app.db)

    @staticmethod
    def _reply(req: Request, aggregate: dict[str, Any], created: bool = False) -> Any:
        return wsgi_request.json_response({"aggregate": _view(req, aggregate, created)})

    def index(self, req: Request) -> Any:
        req.context.can("os_compute_api:os-aggregates:index")
        return wsgi_request.json_response(
            {"aggregates": [_view(req, a) for a in self.aggregates.get_all()]})

    def create(self, req: Request) -> Any:
        req.context.can("os_compute_api:os-aggregates:create")
        body = validation.validate(req.parsed_json(), schema.CREATE)["aggregate"]
        aggregate = self.aggregates.create(body["name"], body.get("availability_zone"))
        return self._reply(req, aggregate, created=True)

    def show(self, req: Request, aggregate_id: str) -> Any:
        req.context.can("os_compute_api:os-aggregates:show")
        return self._reply(req, self.aggregates.get(_id(aggregate_id)))

    def update(self, req: Request, aggregate_id: str) -> Any:
        req.context.can("os_compute_api:os-aggregates:update")
        key = _id(aggregate_id)
        body = validation.validate(req.parsed_json(), schema.UPDATE)["aggregate"]
        return self._reply(req, self.aggregates.update(key, body))

    def delete(self, req: Request, aggregate_id: str) -> Any:
        req.context.can("os_compute_api:os-aggregates:delete")
        self.aggregates.delete(_id(aggregate_id))
        # 200 with no body, as Nova answers.
        return wsgi_request.empty_response(200)

    def action(self, req: Request, aggregate_id: str) -> Any:
        key = _id(aggregate_id)
        body = validation.validate(req.parsed_json(), schema.ACTION)
        ((name, params),) = body.items()
        req.context.can("os_compute_api:os-aggregates:%s" % name)
        if name == "add_host":
            aggregate = self.aggregates.add_host(key, params["host"])
        elif name == "remove_host":
            aggregate = self.aggregates.remove_host(key, params["host"])
        else:
            aggregate = self.aggregates.set_metadata(key, params["metadata"])
        return self._reply(req, aggregate)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/os-aggregates", {"GET": self.index, "POST": self.create}),
                ("/v2.1/os-aggregates/{aggregate_id}", {"GET": self.show, "PUT": self.update,
                                                        "DELETE": self.delete}),
                ("/v2.1/os-aggregates/{aggregate_id}/action", {"POST": self.action})]
