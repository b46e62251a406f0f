"""``/v3/{project_id}/volumes``: list and detail (filters, sort, paging, count),
summary (3.12), show, create, update and delete. The helpers at the top are
shared by the volume sub-resource controllers (actions, metadata)."""
from __future__ import annotations

import ast
import datetime
import json
from typing import Any

from common.wsgi import pagination
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from blockstorage import exception
from blockstorage import volumes as volumes_service
from blockstorage.api import microversion
from blockstorage.api import views
from blockstorage.db import volumes as volumes_db

Request = wsgi_request.Request
_TRUE = ("true", "1", "t", "yes", "y", "on")
# Query parameters that are not filters.
_PAGING = frozenset(("limit", "marker", "offset", "sort", "sort_key", "sort_dir",
                     "with_count"))
# Filters every caller may use (Cinder's default resource_filters for volumes).
_USER_FILTERS = frozenset(("name", "display_name", "status", "metadata", "bootable",
                           "availability_zone", "migration_status", "group_id", "size",
                           "created_at", "updated_at", "glance_metadata", "all_tenants",
                           "project_id", "name~", "display_name~"))
_SIZE = {"type": ["integer", "string", "null"], "pattern": r"^\s*[0-9]+\s*$"}
_TEXT = {"type": ["string", "null"], "maxLength": 255}
_ID = {"type": ["string", "null"], "maxLength": 255}
METADATA = {"type": ["object", "null"],
            "patternProperties": {r"^.{1,255}$": {"type": ["string"], "maxLength": 255}},
            "additionalProperties": False}
CREATE = {
    "type": "object",
    "properties": {
        "volume": {
            "type": "object",
            "properties": {
                "size": _SIZE, "name": _TEXT, "display_name": _TEXT,
                "description": _TEXT, "display_description": _TEXT,
                "volume_type": _ID, "availability_zone": _ID, "metadata": METADATA,
                "snapshot_id": _ID, "source_volid": _ID, "imageRef": _ID,
                "image_id": _ID, "backup_id": _ID, "multiattach": {"type": "boolean"},
                "consistencygroup_id": _ID, "group_id": _ID,
            },
        },
        "OS-SCH-HNT:scheduler_hints": {"type": ["object", "null"]},
    },
    "required": ["volume"],
}
UPDATE = {
    "type": "object",
    "properties": {
        "volume": {
            "type": "object",
            "properties": {"name": _TEXT, "display_name": _TEXT, "description": _TEXT,
                           "display_description": _TEXT, "metadata": METADATA},
        },
    },
    "required": ["volume"],
}


def target(volume: dict[str, Any]) -> dict[str, Any]:
    """The policy target of a volume: its project and user."""
    return {"project_id": volume["project_id"], "user_id": volume["user_id"]}


def own_target(req: Request) -> dict[str, Any]:
    return {"project_id": req.context.project_id, "user_id": req.context.user_id}


def boolean(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


def volume_view(app: Any, req: Request) -> views.VolumeView:
    """The renderer for this request (its microversion and what the caller may see)."""
    ctxt = req.context
    mine = own_target(req)
    return views.VolumeView(
        views.links_of(app, req), microversion.of(req),
        admin=ctxt.can("volume_extension:volume_host_attribute", mine, fatal=False),
        tenant_attr=ctxt.can("volume_extension:volume_tenant_attribute", mine, fatal=False),
        image_meta=ctxt.can("volume_extension:volume_image_metadata:show", mine,
                            fatal=False))


def get_volume(app: Any, req: Request, volume_id: str, rule: str) -> dict[str, Any]:
    """The volume, once ``rule`` allows the caller on it.

    :raises: VolumeNotFound, PolicyNotAuthorized.
    """
    volume = app.volumes.get(req.context, volume_id)
    req.context.can(rule, target(volume))
    return dict(volume)


def size_of(value: Any, field: str = "size") -> int | None:
    """A size as Cinder takes it: an integer or its string, at least 1 GiB.

    :raises: InvalidInput.
    """
    if value is None:
        return None
    try:
        size = int(str(value).strip()) if not isinstance(value, bool) else -1
    except ValueError:
        size = -1
    if size < 1:
        raise exception.InvalidInput(
            reason="Invalid input for field/attribute %s. Value: %s. %s must be an "
                   "integer and greater than 0" % (field, value, field))
    return size


# -- listing ------------------------------------------------------------------------


def _sort(params: Any) -> list[tuple[str, str]]:
    """``sort=key:dir,key2`` or ``sort_key``/``sort_dir`` (not both).

    :raises: InvalidInput.
    """
    keys: list[tuple[str, str]] = []
    if "sort" in params:
        if "sort_key" in params or "sort_dir" in params:
            raise exception.InvalidInput(
                reason="The 'sort_key' and 'sort_dir' parameters are deprecated and "
                       "cannot be used with the 'sort' parameter.")
        for item in params["sort"].split(","):
            key, _, direction = item.strip().partition(":")
            keys.append((key.strip(), (direction or "desc").strip().lower()))
    elif "sort_key" in params or "sort_dir" in params:
        keys.append((params.get("sort_key", "created_at"),
                     params.get("sort_dir", "desc").lower()))
    else:
        return list(volumes_db.DEFAULT_SORT)
    found = []
    for key, direction in keys:
        column = {"display_name": "name", "name": "name"}.get(key, key)
        if column not in volumes_db.SORT_KEYS:
            raise exception.InvalidInput(reason="Invalid sort key: %s" % key)
        if direction not in ("asc", "desc"):
            raise exception.InvalidInput(reason="Invalid sort direction: %s" % direction)
        found.append((column, direction))
    return found


def _dict_param(raw: str, name: str) -> dict[str, str]:
    """A dict filter (``metadata={"k": "v"}``, JSON or a Python literal as Tempest
    sends it). :raises: InvalidInput."""
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(raw)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
    raise exception.InvalidInput(reason="Invalid %s filter: %s" % (name, raw))


def _time_filter(name: str, raw: str) -> tuple[str, str, datetime.datetime]:
    op, sep, value = raw.partition(":")
    if not sep or op not in ("gt", "gte", "lt", "lte", "eq", "neq"):
        op, value = "eq", raw
    try:
        when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise exception.InvalidInput(reason="Invalid %s filter: %s" % (name, raw))
    return name, op, when.replace(tzinfo=None)


def _filters(req: Request, query: volumes_db.Query, admin: bool) -> None:
    params = req.GET
    unknown = sorted(set(params) - _PAGING - _USER_FILTERS)
    if unknown and not admin:
        raise exception.InvalidInput(reason="Invalid filters %s are found in query "
                                            "options." % ",".join(unknown))
    version = microversion.of(req)
    name = params.get("name", params.get("display_name"))
    like = params.get("name~", params.get("display_name~"))
    query.name = name
    if like is not None and version >= (3, 34):
        query.name_like = like
    if "status" in params:
        query.statuses = [params["status"]]
    if "bootable" in params:
        query.bootable = boolean(params["bootable"])
    query.availability_zone = params.get("availability_zone")
    if "metadata" in params:
        query.metadata = _dict_param(params["metadata"], "metadata")
    if "glance_metadata" in params and version >= (3, 4):
        query.glance_metadata = _dict_param(params["glance_metadata"], "glance_metadata")
    if "size" in params:
        query.equal = dict(query.equal, size=size_of(params["size"]))
    if "group_id" in params and version >= (3, 10):
        query.equal = dict(query.equal, group_id=params["group_id"])
    if "migration_status" in params and admin:
        query.equal = dict(query.equal, migration_status=params["migration_status"])
    if version >= (3, 60):
        query.times = [_time_filter(n, params[n]) for n in ("created_at", "updated_at")
                       if n in params]
    if admin:
        for key in unknown:
            if key in volumes_db.FILTER_COLUMNS:
                query.equal = dict(query.equal, **{key: params[key]})


def _query(req: Request, max_limit: int) -> tuple[volumes_db.Query, bool]:
    """The store query of a list request, and whether a limit was asked for."""
    ctxt = req.context
    admin = volumes_service.is_admin(ctxt)
    every = admin and boolean(req.GET.get("all_tenants", "0"))
    project = None if every else ctxt.project_id
    if every and req.GET.get("project_id"):
        project = req.GET["project_id"]
    limit, marker = pagination.limit_and_marker(req.GET, max_limit)
    query = volumes_db.Query(project_id=project, sort=_sort(req.GET), limit=limit,
                             marker=marker)
    offset = req.GET.get("offset")
    if offset is not None:
        try:
            query.offset = int(offset)
        except ValueError:
            query.offset = -1
        if query.offset < 0:
            raise exception.InvalidInput(reason="offset must be a non-negative integer")
    _filters(req, query, admin)
    return query, "limit" in req.GET


def _list(app: Any, req: Request, detail: bool) -> Any:
    req.context.can("volume:get_all", own_target(req))
    query, _ = _query(req, app.conf.osapi_max_limit)
    items = app.volumes.store.get_all(query)
    view = volume_view(app, req)
    body: dict[str, Any] = {
        "volumes": [view.detail(v) if detail else view.summary(v) for v in items]}
    if items and len(items) == query.limit:
        path = view.links.collection("volumes/detail" if detail else "volumes")
        body["volumes_links"] = [{"rel": "next", "href": pagination.next_link(
            path, req.GET, items[-1]["id"])}]
    if microversion.at_least(req, 45) and boolean(req.GET.get("with_count", "false")):
        body["count"] = app.volumes.store.count(query)
    return wsgi_request.json_response(body)


def _summary(app: Any, req: Request) -> Any:
    microversion.require(req, 12)
    req.context.can("volume:get_all", own_target(req))
    query, _ = _query(req, app.conf.osapi_max_limit)
    found = app.volumes.store.summary(query)
    summary = {"total_size": found["total_size"], "total_count": found["total_count"]}
    if microversion.at_least(req, 36):
        summary["metadata"] = found["metadata"]
    return wsgi_request.json_response({"volume-summary": summary})


# -- create, update, delete ---------------------------------------------------------


def _create_request(body: dict[str, Any]) -> volumes_service.CreateRequest:
    volume = body["volume"]
    size = volume.get("size")
    if size is not None or not any(volume.get(k) for k in (
            "snapshot_id", "source_volid", "backup_id")):
        size = size_of(size)
    return volumes_service.CreateRequest(
        size=size, name=volume.get("name", volume.get("display_name")),
        description=volume.get("description", volume.get("display_description")),
        volume_type=volume.get("volume_type"),
        availability_zone=volume.get("availability_zone"),
        metadata=dict(volume.get("metadata") or {}),
        snapshot_id=volume.get("snapshot_id"), source_volid=volume.get("source_volid"),
        image_id=volume.get("imageRef") or volume.get("image_id"),
        backup_id=volume.get("backup_id"), multiattach=bool(volume.get("multiattach")),
        scheduler_hints=dict(body.get("OS-SCH-HNT:scheduler_hints") or {}))


def _create(app: Any, req: Request) -> Any:
    ctxt = req.context
    ctxt.can("volume:create", own_target(req))
    body = validation.validate(req.parsed_json(), CREATE)
    create = _create_request(body)
    if create.backup_id and not microversion.at_least(req, 47):
        raise exception.InvalidInput(reason="backup_id needs microversion 3.47")
    if create.image_id:
        ctxt.can("volume:create_from_image", own_target(req))
    if create.multiattach:
        ctxt.can("volume:multiattach", own_target(req))
    volume = app.volumes.create(ctxt, create)
    view = volume_view(app, req)
    return wsgi_request.json_response({"volume": view.created(volume)}, status=202)


def _update(app: Any, req: Request, volume_id: str) -> Any:
    body = validation.validate(req.parsed_json(), UPDATE)["volume"]
    volume = get_volume(app, req, volume_id, "volume:update")
    values = {}
    for key, column in (("name", "name"), ("display_name", "name"),
                        ("description", "description"),
                        ("display_description", "description")):
        if key in body:
            values[column] = body[key]
    metadata = body.get("metadata")
    updated = app.volumes.update(req.context, volume, values,
                                 dict(metadata) if metadata is not None else None)
    return wsgi_request.json_response({"volume": volume_view(app, req).created(updated)})


def _delete(app: Any, req: Request, volume_id: str) -> Any:
    volume = get_volume(app, req, volume_id, "volume:delete")
    force = boolean(req.GET.get("force", "false"))
    if force:
        req.context.can("volume_extension:volume_admin_actions:force_delete",
                        target(volume))
    app.volumes.delete(req.context, volume, cascade=boolean(req.GET.get("cascade", "false")),
                       force=force)
    return wsgi_request.empty_response(202)


def routes(app: Any) -> list[tuple[str, dict[str, Any]]]:
    def index(req: Request) -> Any:
        return _list(app, req, detail=False)

    def detail(req: Request) -> Any:
        return _list(app, req, detail=True)

    def summary(req: Request) -> Any:
        return _summary(app, req)

    def show(req: Request, volume_id: str) -> Any:
        volume = get_volume(app, req, volume_id, "volume:get")
        return wsgi_request.json_response({"volume": volume_view(app, req).detail(volume)})

    def create(req: Request) -> Any:
        return _create(app, req)

    def update(req: Request, volume_id: str) -> Any:
        return _update(app, req, volume_id)

    def delete(req: Request, volume_id: str) -> Any:
        return _delete(app, req, volume_id)

    return [("/v3/volumes", {"GET": index, "POST": create}),
            ("/v3/volumes/detail", {"GET": detail}),
            ("/v3/volumes/summary", {"GET": summary}),
            ("/v3/volumes/{volume_id}", {"GET": show, "PUT": update, "DELETE": delete})]
