"""``/v2.1/os-migrations``: every migration (admin only), filtered by ``status``,
``host``, ``instance_uuid``, ``source_compute`` and ``migration_type``.

Microversions: 2.23 (``migration_type``; ``links`` to an in-progress live
migration), 2.59 (``uuid``; ``limit``/``marker`` paging and ``changes-since``),
2.66 (``changes-before``), 2.80 (``user_id``/``project_id`` fields and filters).
"""
from __future__ import annotations

import datetime
from typing import Any

from common import exception as common_exception
from common.wsgi import pagination
from common.wsgi import request as wsgi_request
from compute import migration_list
from compute.api import microversion
from compute.api import views

Request = wsgi_request.Request
_FIELDS = ("id", "status", "instance_uuid", "source_node", "source_compute", "dest_node",
           "dest_compute", "dest_host", "old_instance_type_id", "new_instance_type_id",
           "created_at", "updated_at")


def _time(req: Request, name: str) -> datetime.datetime | None:
    raw = req.GET.get(name)
    if raw is None:
        return None
    try:
        value = datetime.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise common_exception.ValidationError(field=name, detail="must be an ISO 8601 time")
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


class MigrationsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.migrations = migration_list.MigrationList(app.db)

    def _view(self, req: Request, links: views.Links,
              migration: dict[str, Any]) -> dict[str, Any]:
        version = microversion.of(req)
        body = {name: migration[name] for name in _FIELDS}
        if version >= (2, 23):
            body["migration_type"] = migration["migration_type"]
            if migration["migration_type"] == "live-migration" and \
                    migration["status"] in migration_list.LIVE_IN_PROGRESS:
                body["links"] = links.item(
                    "servers/%s/migrations" % migration["instance_uuid"],
                    str(migration["id"]))
        if version >= (2, 59):
            body["uuid"] = migration["uuid"]
        if version >= (2, 80):
            body.update(user_id=migration["user_id"], project_id=migration["project_id"])
        return body

    def index(self, req: Request) -> Any:
        req.context.can("os_compute_api:os-migrations:index")
        version = microversion.of(req)
        names = [n for n in migration_list.FILTERS
                 if version >= (2, 80) or n not in ("user_id", "project_id")]
        filters = {n: req.GET[n] for n in names if req.GET.get(n)}
        since = before = None
        limit = marker = None
        if version >= (2, 59):
            since = _time(req, "changes-since")
            limit, marker = pagination.limit_and_marker(req.GET,
                                                        self.app.conf.compute_api.max_limit)
        if version >= (2, 66):
            before = _time(req, "changes-before")
            if since is not None and before is not None and before < since:
                raise common_exception.Invalid(
                    "The value of changes-since must be less than or equal to "
                    "changes-before.")
        items = self.migrations.get_all(filters, host=req.GET.get("host") or None,
                                        changes_since=since, changes_before=before,
                                        limit=limit, marker=marker)
        links = views.Links(req, self.app.conf.api.public_endpoint)
        body: dict[str, Any] = {"migrations": [self._view(req, links, m) for m in items]}
        if limit is not None and items and len(items) == limit:
            body["migrations_links"] = [{"rel": "next", "href": pagination.next_link(
                links.versioned + "/os-migrations", req.GET, items[-1]["uuid"])}]
        return wsgi_request.json_response(body)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/os-migrations", {"GET": self.index})]
