"""``/v3/{project_id}/snapshots``: list, detail, show, create, update, delete and
the actions (``os-reset_status``, ``os-force_delete``, ``os-update_snapshot_status``).

Also the list-request parsing the other B3 controllers share (:func:`listing`):
Cinder's ``sort=key[:dir],...`` (or ``sort_key``/``sort_dir``), ``limit``,
``marker`` and ``offset``, each wrong value a 400.
"""
from __future__ import annotations

from collections.abc import Collection
from typing import Any
from urllib import parse

from common import exception as common_exception
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from blockstorage import exception
from blockstorage import snapshots as snapshots_service
from blockstorage.api import microversion
from blockstorage.api import views
from blockstorage.db import snapshots as snapshots_db

Request = wsgi_request.Request
MAX_LIMIT = 1000
_TRUE = ("true", "1", "yes", "on", "t", "y")
_FALSE = ("false", "0", "no", "off", "f", "n")
# Request names of sort keys that differ from the columns.
_SORT_ALIASES = {"display_name": "name", "display_description": "description"}

METADATA = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 255},
            "propertyNames": {"minLength": 1, "maxLength": 255}}
CREATE = {"type": "object", "required": ["snapshot"], "properties": {"snapshot": {
    "type": "object", "properties": {
        "volume_id": {"type": ["string", "null"]},
        "name": {"type": ["string", "null"], "maxLength": 255},
        "display_name": {"type": ["string", "null"], "maxLength": 255},
        "description": {"type": ["string", "null"], "maxLength": 255},
        "display_description": {"type": ["string", "null"], "maxLength": 255},
        "force": {"type": ["boolean", "string", "null"]},
        # the openstack client sends "metadata": null when no property is given
        "metadata": dict(METADATA, type=["object", "null"])}}}}
UPDATE = {"type": "object", "required": ["snapshot"], "properties": {"snapshot": {
    "type": "object", "minProperties": 1, "properties": {
        "name": {"type": ["string", "null"], "maxLength": 255},
        "display_name": {"type": ["string", "null"], "maxLength": 255},
        "description": {"type": ["string", "null"], "maxLength": 255},
        "display_description": {"type": ["string", "null"], "maxLength": 255}}}}}


# -- shared by the B3 controllers -------------------------------------------------------


def as_bool(value: Any, field: str) -> bool:
    """A boolean of a body or query (true/false, or their string forms).

    :raises: InvalidParameterValue (400).
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE:
        return True
    if isinstance(value, str) and value.strip().lower() in _FALSE:
        return False
    raise exception.InvalidParameterValue(err="%s must be a boolean, got %r" % (field, value))


def _non_negative(req: Request, name: str) -> int | None:
    raw = req.GET.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise exception.InvalidInput(reason="%s param must be a non-negative integer, "
                                            "got %r" % (name, raw))
    return value


def _sort(req: Request, sort_keys: Collection[str],
          default: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    if "sort" in req.GET:
        if "sort_key" in req.GET or "sort_dir" in req.GET:
            raise exception.InvalidInput(
                reason="The 'sort_key' and 'sort_dir' parameters are deprecated and "
                       "cannot be used with the 'sort' parameter.")
        for part in req.GET["sort"].split(","):
            key, _, direction = part.strip().partition(":")
            pairs.append((key.strip(), direction.strip().lower() or "desc"))
    elif "sort_key" in req.GET or "sort_dir" in req.GET:
        pairs.append((req.GET.get("sort_key") or "created_at",
                      (req.GET.get("sort_dir") or "desc").lower()))
    else:
        return default
    found = []
    for key, direction in pairs:
        key = _SORT_ALIASES.get(key, key)
        if key not in sort_keys:
            raise exception.InvalidSortKey(reason="%r is not a sort key" % key)
        if direction not in ("asc", "desc"):
            raise exception.InvalidInput(reason="Unknown sort direction, must be "
                                                "'desc' or 'asc'")
        found.append((key, direction))
    return tuple(found)


def listing(req: Request, sort_keys: Collection[str],
            default: tuple[tuple[str, str], ...]) -> snapshots_db.Listing:
    """The sort, marker, offset and limit of a list request.

    :raises: InvalidInput, InvalidSortKey (400).
    """
    limit = _non_negative(req, "limit")
    return snapshots_db.Listing(sort=_sort(req, sort_keys, default),
                                limit=MAX_LIMIT if limit is None else min(limit, MAX_LIMIT),
                                marker=req.GET.get("marker") or None,
                                offset=_non_negative(req, "offset") or 0)


def next_links(req: Request, links: views.Links, path: str, items: list[dict[str, Any]],
               page: snapshots_db.Listing) -> list[dict[str, str]] | None:
    """A ``next`` link when the page is full (more may follow)."""
    if not items or page.limit is None or len(items) < page.limit:
        return None
    query = [(k, v) for k, v in req.GET.items() if k != "marker"]
    query.append(("marker", items[-1]["id"]))
    return [{"rel": "next", "href": links.collection(path) + "?" + parse.urlencode(query)}]


def action_name(body: Any, known: Collection[str]) -> str:
    """The one action a ``POST .../action`` body names. :raises: InvalidInput."""
    if not isinstance(body, dict) or len(body) != 1 or next(iter(body)) not in known:
        names = ", ".join(sorted(body)) if isinstance(body, dict) and body else "(none)"
        raise exception.InvalidInput(reason="There is no such action: %s" % names)
    return str(next(iter(body)))


# -- views ------------------------------------------------------------------------------


def snapshot_view(req: Request, snap: dict[str, Any], detail: bool) -> dict[str, Any]:
    """A snapshot as Cinder shows it at the request's microversion."""
    body: dict[str, Any] = {
        "id": snap["id"], "created_at": views.time(snap["created_at"]),
        "updated_at": views.time(snap["updated_at"]), "name": snap["name"],
        "description": snap["description"], "volume_id": snap["volume_id"],
        "status": snap["status"], "size": snap["size"], "metadata": snap["metadata"]}
    if microversion.at_least(req, 14):
        body["group_snapshot_id"] = snap.get("group_snapshot_id")
    if microversion.at_least(req, 41):
        body["user_id"] = snap["user_id"]
    if detail and req.context.can("volume_extension:extended_snapshot_attributes",
                                  {"project_id": snap["project_id"]}, fatal=False):
        body["os-extended-snapshot-attributes:progress"] = snap["progress"]
        body["os-extended-snapshot-attributes:project_id"] = snap["project_id"]
    return body


def _name_and_description(body: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field, alias in (("name", "display_name"), ("description", "display_description")):
        if field in body:
            values[field] = body[field]
        elif alias in body:
            values[field] = body[alias]
    return values


class SnapshotsController:
    def __init__(self, app: Any, service: snapshots_service.SnapshotService) -> None:
        self.app = app
        self.service = service

    def _snapshot(self, req: Request, snapshot_id: str, rule: str) -> dict[str, Any]:
        snap = self.service.get(req.context, snapshot_id)
        req.context.can(rule, {"project_id": snap["project_id"]})
        return snap

    def _list(self, req: Request, detail: bool) -> Any:
        req.context.can("volume:get_all_snapshots", {"project_id": req.context.project_id})
        page = listing(req, snapshots_db.SORT_KEYS, snapshots_db.DEFAULT_SORT)
        status = req.GET.get("status")
        query = snapshots_db.Query(
            volume_id=req.GET.get("volume_id"),
            name=req.GET.get("name", req.GET.get("display_name")),
            statuses=[status] if status else None, listing=page)
        all_tenants = as_bool(req.GET.get("all_tenants", "false") or "true", "all_tenants")
        if all_tenants and req.GET.get("project_id"):
            query.project_id = req.GET["project_id"]
        items = self.service.get_all(req.context, query, all_tenants)
        body: dict[str, Any] = {"snapshots": [snapshot_view(req, s, detail) for s in items]}
        links = next_links(req, views.links_of(self.app, req),
                           "snapshots/detail" if detail else "snapshots", items, page)
        if links:
            body["snapshots_links"] = links
        if microversion.at_least(req, 45) and as_bool(req.GET.get("with_count", "false"),
                                                      "with_count"):
            body["count"] = self.service.count(req.context, query, all_tenants)
        return wsgi_request.json_response(body)

    def index(self, req: Request) -> Any:
        return self._list(req, detail=False)

    def detail(self, req: Request) -> Any:
        return self._list(req, detail=True)

    def show(self, req: Request, snapshot_id: str) -> Any:
        snap = self._snapshot(req, snapshot_id, "volume:get_snapshot")
        return wsgi_request.json_response({"snapshot": snapshot_view(req, snap, True)})

    def create(self, req: Request) -> Any:
        req.context.can("volume:create_snapshot", {"project_id": req.context.project_id})
        body = validation.validate(req.parsed_json(), CREATE)["snapshot"]
        force = body.get("force")
        snap = self.service.create(
            req.context, body.get("volume_id"),
            force=False if force is None else as_bool(force, "force"),
            metadata=body.get("metadata"), **_name_and_description(body))
        return wsgi_request.json_response({"snapshot": snapshot_view(req, snap, False)},
                                          status=202)

    def update(self, req: Request, snapshot_id: str) -> Any:
        body = validation.validate(req.parsed_json(), UPDATE)["snapshot"]
        values = _name_and_description(body)
        if not values:
            raise exception.InvalidInput(reason="Nothing to update: give a name or a "
                                                "description.")
        snap = self._snapshot(req, snapshot_id, "volume:update_snapshot")
        snap = self.service.update(req.context, snap, values)
        return wsgi_request.json_response({"snapshot": snapshot_view(req, snap, False)})

    def delete(self, req: Request, snapshot_id: str) -> Any:
        snap = self._snapshot(req, snapshot_id, "volume:delete_snapshot")
        self.service.delete(req.context, snap)
        return wsgi_request.empty_response(202)

    def action(self, req: Request, snapshot_id: str) -> Any:
        body = req.parsed_json()
        name = action_name(body, ("os-reset_status", "os-force_delete",
                                  "os-update_snapshot_status"))
        args = body[name] if isinstance(body[name], dict) else {}
        if name == "os-reset_status":
            snap = self._snapshot(
                req, snapshot_id, "volume_extension:snapshot_admin_actions:reset_status")
            status = args.get("status")
            if not isinstance(status, str):
                raise common_exception.ValidationError(field="status", detail="is required")
            self.service.reset_status(req.context, snap, status)
        elif name == "os-force_delete":
            snap = self._snapshot(
                req, snapshot_id, "volume_extension:snapshot_admin_actions:force_delete")
            self.service.delete(req.context, snap, force=True)
        else:
            snap = self._snapshot(
                req, snapshot_id,
                "snapshot_extension:snapshot_actions:update_snapshot_status")
            status, progress = args.get("status"), args.get("progress")
            if not isinstance(status, str) or not isinstance(progress, (str, type(None))):
                raise common_exception.ValidationError(
                    field="status", detail="status (and progress) must be strings")
            self.service.update_status(req.context, snap, status, progress)
        return wsgi_request.empty_response(202)


def service_of(app: Any) -> snapshots_service.SnapshotService:
    """The app's snapshot service (built once, shared with the metadata routes)."""
    found = getattr(app, "snapshots", None)
    if found is None:
        found = snapshots_service.SnapshotService(app.conf, app.db, app.volumes)
        app.snapshots = found
    return found


def routes(app: Any) -> list[tuple[str, dict[str, Any]]]:
    ctl = SnapshotsController(app, service_of(app))
    return [("/v3/snapshots", {"GET": ctl.index, "POST": ctl.create}),
            ("/v3/snapshots/detail", {"GET": ctl.detail}),
            ("/v3/snapshots/{snapshot_id}", {"GET": ctl.show, "PUT": ctl.update,
                                             "DELETE": ctl.delete}),
            ("/v3/snapshots/{snapshot_id}/action", {"POST": ctl.action})]
