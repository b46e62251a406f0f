"""``/v3/{project_id}/backups``: list, detail, show, create, update (3.9),
delete, ``/backups/{id}/restore`` and the actions ``os-reset_status`` and
``os-force_delete`` (admins).

Fields by microversion, as Tempest's backup schemas allow them:
``os-backup-project-attr:project_id`` from 3.18 (admins), ``metadata`` from
3.43, ``user_id`` from 3.56; ``count`` in lists with ``with_count`` (3.45).
"""
from __future__ import annotations

from typing import Any

from common import exception as common_exception
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from blockstorage import backups as backups_service
from blockstorage import exception
from blockstorage.api import microversion
from blockstorage.api import views
from blockstorage.api.controllers import snapshots as common
from blockstorage.db import backups as backups_db

Request = wsgi_request.Request
_TEXT = {"type": ["string", "null"], "maxLength": 255}
_ID = {"type": ["string", "null"], "maxLength": 36}
_BOOL = {"type": ["boolean", "string", "null"]}
CREATE = {"type": "object", "required": ["backup"], "properties": {"backup": {
    "type": "object", "required": ["volume_id"], "properties": {
        "volume_id": {"type": "string", "minLength": 1, "maxLength": 36},
        "container": _TEXT, "name": _TEXT, "description": _TEXT, "incremental": _BOOL,
        "force": _BOOL, "snapshot_id": _ID, "metadata": common.METADATA,
        "availability_zone": _TEXT}}}}
UPDATE = {"type": "object", "required": ["backup"], "properties": {"backup": {
    "type": "object", "properties": {"name": _TEXT, "description": _TEXT,
                                     "metadata": common.METADATA}}}}
RESTORE = {"type": "object", "required": ["restore"], "properties": {"restore": {
    "type": ["object", "null"], "properties": {"volume_id": _ID, "name": _TEXT}}}}


class BackupsController:
    def __init__(self, app: Any, service: backups_service.BackupService) -> None:
        self.app = app
        self.service = service

    # -- views
    def summary(self, req: Request, backup: dict[str, Any]) -> dict[str, Any]:
        body = {"id": backup["id"], "name": backup["name"],
                "links": views.links_of(self.app, req).item("backups", backup["id"])}
        return body

    def detail_view(self, req: Request, backup: dict[str, Any]) -> dict[str, Any]:
        body = self.summary(req, backup)
        body.update({key: backup[key] for key in (
            "status", "object_count", "container", "description", "availability_zone",
            "volume_id", "fail_reason", "size", "is_incremental", "snapshot_id",
            "has_dependent_backups")})
        body["is_incremental"] = bool(backup["is_incremental"])
        for key in ("created_at", "updated_at", "data_timestamp"):
            body[key] = views.time(backup[key])
        if microversion.at_least(req, 18) and req.context.can(
                "backup:backup_project_attribute", fatal=False):
            body["os-backup-project-attr:project_id"] = backup["project_id"]
        if microversion.at_least(req, 43):
            body["metadata"] = backup["metadata"]
        if microversion.at_least(req, 56):
            body["user_id"] = backup["user_id"]
        return body

    def _backup(self, req: Request, backup_id: str, rule: str) -> dict[str, Any]:
        backup = self.service.get(req.context, backup_id)
        req.context.can(rule, {"project_id": backup["project_id"]})
        return backup

    # -- reads
    def _list(self, req: Request, detail: bool) -> Any:
        req.context.can("backup:get_all", {"project_id": req.context.project_id})
        page = common.listing(req, backups_db.SORT_KEYS, backups_db.DEFAULT_SORT)
        status = req.GET.get("status")
        query = backups_db.Query(volume_id=req.GET.get("volume_id"),
                                 name=req.GET.get("name", req.GET.get("display_name")),
                                 statuses=[status] if status else None, listing=page)
        all_tenants = common.as_bool(req.GET.get("all_tenants", "false") or "true",
                                     "all_tenants")
        if all_tenants and req.GET.get("project_id"):
            query.project_id = req.GET["project_id"]
        items = self.service.get_all(req.context, query, all_tenants)
        view = self.detail_view if detail else self.summary
        body: dict[str, Any] = {"backups": [view(req, b) for b in items]}
        links = common.next_links(req, views.links_of(self.app, req),
                                  "backups/detail" if detail else "backups", items, page)
        if links:
            body["backups_links"] = links
        if microversion.at_least(req, 45) and common.as_bool(
                req.GET.get("with_count", "false"), "with_count"):
            body["count"] = self.service.count(req.context, query, all_tenants)
        return wsgi_request.json_response(body)

    def index(self, req: Request) -> Any:
        return self._list(req, detail=False)

    def detail(self, req: Request) -> Any:
        return self._list(req, detail=True)

    def show(self, req: Request, backup_id: str) -> Any:
        backup = self._backup(req, backup_id, "backup:get")
        return wsgi_request.json_response({"backup": self.detail_view(req, backup)})

    # -- writes
    def _reply(self, req: Request, backup: dict[str, Any], status: int) -> Any:
        body = self.summary(req, backup)
        if microversion.at_least(req, 43):
            body["metadata"] = backup["metadata"]
        return wsgi_request.json_response({"backup": body}, status=status)

    def create(self, req: Request) -> Any:
        req.context.can("backup:create", {"project_id": req.context.project_id})
        body = validation.validate(req.parsed_json(), CREATE)["backup"]
        if body.get("metadata") and not microversion.at_least(req, 43):
            raise exception.InvalidInput(reason="metadata needs microversion 3.43")
        if body.get("availability_zone") and not microversion.at_least(req, 51):
            raise exception.InvalidInput(reason="availability_zone needs microversion 3.51")
        flags = {k: common.as_bool(body[k], k) if body.get(k) is not None else False
                 for k in ("incremental", "force")}
        backup = self.service.create(
            req.context, body["volume_id"], name=body.get("name"),
            description=body.get("description"), container=body.get("container"),
            snapshot_id=body.get("snapshot_id"), metadata=body.get("metadata"),
            availability_zone=body.get("availability_zone"), **flags)
        return self._reply(req, backup, 202)

    def update(self, req: Request, backup_id: str) -> Any:
        microversion.require(req, 9)
        body = validation.validate(req.parsed_json(), UPDATE)["backup"]
        if "metadata" in body and not microversion.at_least(req, 43):
            raise exception.InvalidInput(reason="metadata needs microversion 3.43")
        values = {k: body[k] for k in ("name", "description") if k in body}
        if not values and "metadata" not in body:
            raise exception.InvalidInput(reason="Nothing to update.")
        backup = self._backup(req, backup_id, "backup:update")
        backup = self.service.update(req.context, backup, values, body.get("metadata"))
        return self._reply(req, backup, 200)

    def delete(self, req: Request, backup_id: str) -> Any:
        backup = self._backup(req, backup_id, "backup:delete")
        self.service.delete(req.context, backup)
        return wsgi_request.empty_response(202)

    def restore(self, req: Request, backup_id: str) -> Any:
        body = validation.validate(req.parsed_json(), RESTORE)["restore"] or {}
        backup = self._backup(req, backup_id, "backup:restore")
        found = self.service.restore(req.context, backup, body.get("volume_id"),
                                     body.get("name"))
        return wsgi_request.json_response({"restore": found}, status=202)

    def action(self, req: Request, backup_id: str) -> Any:
        body = req.parsed_json()
        name = common.action_name(body, ("os-reset_status", "os-force_delete"))
        if name == "os-reset_status":
            backup = self._backup(req, backup_id,
                                  "volume_extension:backup_admin_actions:reset_status")
            args = body[name] if isinstance(body[name], dict) else {}
            if not isinstance(args.get("status"), str):
                raise common_exception.ValidationError(field="status", detail="is required")
            self.service.reset_status(req.context, backup, args["status"])
        else:
            backup = self._backup(req, backup_id,
                                  "volume_extension:backup_admin_actions:force_delete")
            self.service.delete(req.context, backup, force=True)
        return wsgi_request.empty_response(202)


def routes(app: Any) -> list[tuple[str, dict[str, Any]]]:
    service = getattr(app, "backups", None)
    if service is None:
        service = backups_service.BackupService(app.conf, app.db, app.volumes)
        app.backups = service
    ctl = BackupsController(app, service)
    base = "/v3/backups/{backup_id}"
    return [("/v3/backups", {"GET": ctl.index, "POST": ctl.create}),
            ("/v3/backups/detail", {"GET": ctl.detail}),
            (base, {"GET": ctl.show, "PUT": ctl.update, "DELETE": ctl.delete}),
            (base + "/restore", {"POST": ctl.restore}),
            (base + "/action", {"POST": ctl.action})]
