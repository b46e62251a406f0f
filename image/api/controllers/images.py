"""/v2/images: create, list, show, JSON-patch update, delete, actions, tags."""
from __future__ import annotations

import csv
import datetime
import io
import re
import urllib.parse
from typing import Any

from common import exception as common_exc
from common.wsgi import request as wsgi_request
from image.api import views

PATCH_TYPES = ("application/openstack-images-v2.1-json-patch",
               "application/openstack-images-v2.0-json-patch")
_FILTER_KEYS = ("name", "status", "visibility", "owner", "member_status", "container_format",
                "disk_format", "size_min", "size_max", "protected", "os_hidden", "id")
_IN_KEYS = ("id", "name", "status", "container_format", "disk_format")
_NOT_FILTERS = ("limit", "marker", "sort_key", "sort_dir", "sort", "tag")
_SORT = ("name", "status", "container_format", "disk_format", "size", "id", "created_at",
         "updated_at", "visibility", "owner", "min_disk", "min_ram", "virtual_size")

Request = wsgi_request.Request


class ImagesController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.images = app.images

    def create(self, req: Request) -> Any:
        req.context.can("image:add_image")
        body = req.parsed_json()
        if not isinstance(body, dict):
            raise common_exc.ValidationError(field="request body", detail="must be an object")
        image = self.images.create(req.context, body)
        return wsgi_request.json_response(views.image(image), 201, {
            "Location": "/v2/images/%s" % image["id"],
            "OpenStack-image-import-methods": "glance-direct"})

    def index(self, req: Request) -> Any:
        req.context.can("image:get_images")
        limit = self._limit(req)
        marker = req.GET.get("marker")
        sort = self._sort(req)
        filters = self._filters(req)
        items = self.images.list_images(req.context, filters, marker, limit, sort)
        next_query = None
        if len(items) == limit and items:
            params = [(k, v) for k, v in req.GET.items() if k != "marker"]
            next_query = urllib.parse.urlencode(params + [("marker", items[-1]["id"])])
        first = urllib.parse.urlencode([(k, v) for k, v in req.GET.items() if k != "marker"])
        return wsgi_request.json_response(views.images(items, next_query, first))

    def _limit(self, req: Request) -> int:
        conf = self.app.conf.image
        raw = req.GET.get("limit")
        if raw is None:
            return int(conf.limit_param_default)
        try:
            limit = int(raw)
        except ValueError:
            raise common_exc.ValidationError(field="limit", detail="must be an integer")
        if limit < 0:
            raise common_exc.ValidationError(field="limit", detail="must be >= 0")
        return min(limit, int(conf.api_limit_max))

    @staticmethod
    def _sort(req: Request) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        if "sort" in req.GET:
            if "sort_key" in req.GET or "sort_dir" in req.GET:
                raise common_exc.Invalid("The 'sort' parameter cannot be combined with "
                                         "'sort_key' or 'sort_dir'.")
            for part in req.GET["sort"].split(","):
                key, _sep, direction = part.strip().partition(":")
                pairs.append((key, direction or "desc"))
        else:
            keys = req.GET.getall("sort_key") or ["created_at"]
            dirs = req.GET.getall("sort_dir") or ["desc"]
            if len(dirs) > 1 and len(dirs) != len(keys):
                raise common_exc.Invalid("Number of sort dirs does not match the number of "
                                         "sort keys.")
            pairs = [(k, dirs[i] if len(dirs) > 1 else dirs[0]) for i, k in enumerate(keys)]
        for key, direction in pairs:
            if key not in _SORT:
                raise common_exc.Invalid("Invalid sort key: %s." % key)
            if direction not in ("asc", "desc"):
                raise common_exc.Invalid("Invalid sort direction: %s." % direction)
        return pairs

    def _filters(self, req: Request) -> dict[str, Any]:
        filters: dict[str, Any] = {}
        props: dict[str, str] = {}
        for key, value in req.GET.items():
            if key in _NOT_FILTERS:
                continue
            if key in ("created_at", "updated_at"):
                filters[key] = self._time_filter(key, value)
            elif key in ("protected", "os_hidden"):
                flag = req.param_bool(key)
                filters[key] = flag
            elif key == "changes-since":
                raise common_exc.Invalid("The 'changes-since' filter is not available in v2; "
                                         "use updated_at=gte:<time>.")
            elif key in ("size_min", "size_max", "size"):
                if not value.isdigit() or int(value) >= 2 ** 63:
                    raise common_exc.ValidationError(field=key, detail="must be an integer "
                                                     "between 0 and 2^63-1")
                filters[key] = int(value)
            elif key in _FILTER_KEYS:
                if value.startswith("in:") and key in _IN_KEYS:
                    filters[key] = _in_values(value[3:])
                else:
                    filters[key] = value
            else:
                props[key] = value
        filters.setdefault("os_hidden", False)
        if req.GET.getall("tag"):
            filters["tags"] = req.GET.getall("tag")
        if props:
            filters["properties"] = props
        if filters.get("member_status", "accepted") not in ("pending", "accepted",
                                                            "rejected", "all"):
            raise common_exc.ValidationError(field="member_status", detail="unknown value")
        if filters.get("visibility", "all") not in ("public", "private", "shared",
                                                    "community", "all"):
            raise common_exc.ValidationError(field="visibility", detail="unknown value")
        return filters

    @staticmethod
    def _time_filter(key: str, value: str) -> list[str]:
        op, _sep, moment = value.partition(":")
        if op not in ("eq", "neq", "gt", "gte", "lt", "lte") or not moment:
            raise common_exc.ValidationError(field=key, detail="use <op>:<ISO 8601 time>")
        try:
            parsed = datetime.datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            raise common_exc.ValidationError(field=key, detail="not an ISO 8601 time")
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return [op, parsed.isoformat()]

    def show(self, req: Request, image_id: str) -> Any:
        req.context.can("image:get_image")
        return wsgi_request.json_response(views.image(self.images.get(req.context, image_id)))

    def update(self, req: Request, image_id: str) -> Any:
        req.context.can("image:modify_image")
        ctype = (req.content_type or "").lower()
        if ctype not in PATCH_TYPES:
            err = common_exc.UnsupportedMediaType(content_type=ctype or "(none)")
            err.headers = {"Accept-Patch": ", ".join(PATCH_TYPES)}
            raise err
        ops = _parse_patch(req)
        image = self.images.patch(req.context, image_id, ops)
        return wsgi_request.json_response(views.image(image))

    def delete(self, req: Request, image_id: str) -> Any:
        req.context.can("image:delete_image")
        self.images.delete(req.context, image_id)
        self.app.data.delete_staged(image_id)
        return wsgi_request.empty_response()

    def deactivate(self, req: Request, image_id: str) -> Any:
        self.images.set_active_state(req.context, image_id, activate=False)
        return wsgi_request.empty_response()

    def reactivate(self, req: Request, image_id: str) -> Any:
        self.images.set_active_state(req.context, image_id, activate=True)
        return wsgi_request.empty_response()

    def tag(self, req: Request, image_id: str, tag: str) -> Any:
        req.context.can("image:modify_image")
        tag = urllib.parse.unquote(tag)
        if req.method == "PUT":
            self.images.add_tag(req.context, image_id, tag)
        else:
            self.images.delete_tag(req.context, image_id, tag)
        return wsgi_request.empty_response()

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            ("/v2/images", {"GET": self.index, "POST": self.create}),
            ("/v2/images/{image_id}", {"GET": self.show, "PATCH": self.update,
                                       "DELETE": self.delete}),
            ("/v2/images/{image_id}/actions/deactivate", {"POST": self.deactivate}),
            ("/v2/images/{image_id}/actions/reactivate", {"POST": self.reactivate}),
            ("/v2/images/{image_id}/tags/{tag}", {"PUT": self.tag, "DELETE": self.tag}),
        ]


def _in_values(raw: str) -> list[str]:
    """``a,"b,c",d`` -> ['a', 'b,c', 'd'] (quotes protect commas, as Glance reads it)."""
    reader = csv.reader(io.StringIO(raw), skipinitialspace=True)
    try:
        values = next(reader)
    except (StopIteration, csv.Error):
        raise common_exc.Invalid("Malformed 'in:' filter value: %s" % raw)
    return [v for v in values if v]


def _parse_patch(req: Request) -> list[dict[str, Any]]:
    """Validate a JSON-patch body; paths become attribute names.

    v2.1 operations look like ``{"op": "replace", "path": "/name", "value": v}``;
    the older v2.0 media type writes ``{"replace": "/name", "value": v}``.
    """
    ops = wsgi_request.loads(req.body or b"null")
    if not isinstance(ops, list):
        raise common_exc.Invalid("The JSON-patch body must be a list of operations.")
    old_style = (req.content_type or "").lower() == PATCH_TYPES[1]
    return [_parse_op(op, old_style) for op in ops]


def _parse_op(op: Any, old_style: bool) -> dict[str, Any]:
    if not isinstance(op, dict):
        raise common_exc.Invalid("Each patch operation must be an object.")
    if old_style:
        kinds = [k for k in ("add", "replace", "remove") if k in op]
        if len(kinds) != 1:
            raise common_exc.Invalid("Each operation needs exactly one of add, replace, "
                                     "remove.")
        op = {"op": kinds[0], "path": op[kinds[0]], **{k: v for k, v in op.items()
                                                       if k == "value"}}
    if op.get("op") not in ("add", "replace", "remove"):
        raise common_exc.Invalid("Each patch operation needs an 'op' of add, replace or "
                                 "remove.")
    path = op.get("path")
    if not isinstance(path, str) or not path.startswith("/") or len(path) < 2:
        raise common_exc.Invalid("Each patch operation needs a 'path' like '/name'.")
    parts = path[1:].split("/")
    if len(parts) != 1:
        raise common_exc.Invalid("Nested paths are not supported: %s" % path)
    if re.search(r"~(?![01])", parts[0]):
        raise common_exc.Invalid("Invalid JSON pointer escape in %s" % path)
    name = parts[0].replace("~1", "/").replace("~0", "~")
    if op["op"] != "remove" and "value" not in op:
        raise common_exc.Invalid("Operation %s on %s needs a 'value'." % (op["op"], path))
    return {"op": op["op"], "path": name, "value": op.get("value")}
