"""/v3/regions, /v3/services and /v3/endpoints."""
from __future__ import annotations

from typing import Any, Callable

from identity.api import views
from identity.api.controllers import base
from identity.api.schemas import entities as schemas


class CatalogController(base.Controller):
    """CRUD of the three catalog nouns, which differ only in names and filters."""

    def _crud(self, noun: str, plural: str, view: Callable[..., dict[str, Any]],
              create_schema: dict[str, Any], update_schema: dict[str, Any],
              svc: Any, filters: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
        def index(req: base.Request) -> Any:
            self.authorize(req, "identity:list_%s" % plural)
            items = getattr(svc, "list_" + plural)(**self.filters(req, *filters))
            return self.collection(req, plural, [view(self.base(req), i) for i in items])

        def create(req: base.Request) -> Any:
            self.authorize(req, "identity:create_" + noun)
            item = getattr(svc, "create_" + noun)(self.body(req, noun, create_schema))
            return base.json_response({noun: view(self.base(req), item)}, 201)

        def show(req: base.Request, item_id: str) -> Any:
            self.authorize(req, "identity:get_" + noun)
            item = getattr(svc, "get_" + noun)(item_id)
            return base.json_response({noun: view(self.base(req), item)})

        def update(req: base.Request, item_id: str) -> Any:
            self.authorize(req, "identity:update_" + noun)
            item = getattr(svc, "update_" + noun)(item_id, self.body(req, noun, update_schema))
            return base.json_response({noun: view(self.base(req), item)})

        def delete(req: base.Request, item_id: str) -> Any:
            self.authorize(req, "identity:delete_" + noun)
            getattr(svc, "delete_" + noun)(item_id)
            return base.empty_response()

        return [("/v3/" + plural, {"GET": index, "POST": create}),
                ("/v3/%s/{item_id}" % plural, {"GET": show, "PATCH": update,
                                               "DELETE": delete})]

    def put_region(self, req: base.Request, item_id: str) -> Any:
        self.authorize(req, "identity:create_region")
        values = self.body(req, "region", schemas.REGION_UPDATE)
        values["id"] = item_id
        region = self.app.catalogs.create_region(values)
        return base.json_response({"region": views.region(self.base(req), region)}, 201)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        svc = self.app.catalogs
        table = self._crud("region", "regions", views.region, schemas.REGION_CREATE,
                           schemas.REGION_UPDATE, svc, ("parent_region_id",))
        table[1][1]["PUT"] = self.put_region
        table += self._crud("service", "services", views.service, schemas.SERVICE_CREATE,
                            schemas.SERVICE_UPDATE, svc, ("type", "name"))
        table += self._crud("endpoint", "endpoints", views.endpoint, schemas.ENDPOINT_CREATE,
                            schemas.ENDPOINT_UPDATE, svc, ("interface", "service_id",
                                                           "region_id"))
        return table
