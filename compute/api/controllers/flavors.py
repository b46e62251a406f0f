"""``/v2.1/flavors``: list, detail, show, create and delete (os-flavor-manage)."""
from __future__ import annotations

from typing import Any

from common import exception as common_exception
from common.wsgi import pagination
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import exception
from compute import flavors as flavors_service
from compute.api import views
from compute.api.schemas import flavors as schema

Request = wsgi_request.Request
_NOVA_TRUE = ("true", "1", "on", "yes", "y", "t")
_NOVA_FALSE = ("false", "0", "off", "no", "n", "f")


def _int(field: str, value: Any, minimum: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise common_exception.ValidationError(field=field, detail="must be an integer")
    if not minimum <= number <= schema.MAX_INT:
        raise common_exception.ValidationError(
            field=field, detail="must be >= %d and <= %d" % (minimum, schema.MAX_INT))
    return number


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in _NOVA_TRUE)


def _query_int(req: Request, name: str) -> int | None:
    raw = req.GET.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise exception.InvalidFilter(name=name, value=raw)


class FlavorsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.flavors: flavors_service.FlavorService = app.flavors

    def _links(self, req: Request) -> views.Links:
        return views.Links(req, self.app.conf.api.public_endpoint)

    def _is_public(self, req: Request) -> bool | None:
        raw = req.GET.get("is_public")
        if raw is None:
            return True
        if raw.lower() == "none":
            return None
        if raw.lower() in _NOVA_TRUE:
            return True
        if raw.lower() in _NOVA_FALSE:
            return False
        raise exception.InvalidFilter(name="is_public", value=raw)

    def _list(self, req: Request, detail: bool) -> Any:
        req.context.can("os_compute_api:flavors:index")
        sort_key = req.GET.get("sort_key") or "flavorid"
        sort_dir = req.GET.get("sort_dir") or "asc"
        if sort_key not in flavors_service.SORT_KEYS:
            raise common_exception.ValidationError(
                field="sort_key", detail="must be one of %s" % ", ".join(
                    flavors_service.SORT_KEYS))
        if sort_dir not in ("asc", "desc"):
            raise common_exception.ValidationError(field="sort_dir",
                                                   detail="must be asc or desc")
        limit, marker = pagination.limit_and_marker(req.GET,
                                                    self.app.conf.compute_api.max_limit)
        items = self.flavors.get_all(req.context, is_public=self._is_public(req),
                                  min_ram=_query_int(req, "minRam"),
                                  min_disk=_query_int(req, "minDisk"), sort_key=sort_key,
                                  sort_dir=sort_dir, limit=limit, marker=marker)
        links = self._links(req)
        view = views.flavor_detail if detail else views.flavor_basic
        body: dict[str, Any] = {"flavors": [view(links, f) for f in items]}
        if items and len(items) == limit:
            path = links.versioned + ("/flavors/detail" if detail else "/flavors")
            body["flavors_links"] = [{"rel": "next", "href": pagination.next_link(
                path, req.GET, items[-1]["flavorid"])}]
        return wsgi_request.json_response(body)

    def index(self, req: Request) -> Any:
        return self._list(req, detail=False)

    def detail(self, req: Request) -> Any:
        return self._list(req, detail=True)

    def show(self, req: Request, flavor_id: str) -> Any:
        req.context.can("os_compute_api:flavors:show")
        flavor = self.flavors.get(req.context, flavor_id)
        return wsgi_request.json_response(
            {"flavor": views.flavor_detail(self._links(req), flavor)})

    def create(self, req: Request) -> Any:
        req.context.can("os_compute_api:os-flavor-manage:create")
        body = validation.validate(req.parsed_json(), schema.CREATE)["flavor"]
        rxtx = float(body.get("rxtx_factor", 1.0))
        if not 0 < rxtx <= 3.40282e+38:
            raise common_exception.ValidationError(
                field="rxtx_factor", detail="must be a float between 0 and 3.40282e+38")
        flavor_id = body.get("id")
        flavor = self.flavors.create(
            req.context, name=body["name"], memory_mb=_int("ram", body["ram"], 1),
            vcpus=_int("vcpus", body["vcpus"], 1), root_gb=_int("disk", body["disk"], 0),
            ephemeral_gb=_int("OS-FLV-EXT-DATA:ephemeral",
                              body.get("OS-FLV-EXT-DATA:ephemeral", 0), 0),
            swap=_int("swap", body.get("swap", 0), 0), rxtx_factor=rxtx,
            is_public=_bool(body.get("os-flavor-access:is_public", True)),
            flavorid=None if flavor_id is None else str(flavor_id))
        # 200, as Nova answers a flavor create at every microversion.
        return wsgi_request.json_response(
            {"flavor": views.flavor_detail(self._links(req), flavor)})

    def delete(self, req: Request, flavor_id: str) -> Any:
        req.context.can("os_compute_api:os-flavor-manage:delete")
        self.flavors.delete(req.context, flavor_id)
        return wsgi_request.empty_response(202)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/flavors", {"GET": self.index, "POST": self.create}),
                ("/v2.1/flavors/detail", {"GET": self.detail}),
                ("/v2.1/flavors/{flavor_id}", {"GET": self.show, "DELETE": self.delete})]
