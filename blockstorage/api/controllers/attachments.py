"""``/v3/{project_id}/attachments`` (3.27+; 404 below): list, detail, show,
create (reserve, and connect with a connector), update (connect), delete and
``POST /attachments/{id}/action`` ``os-complete`` (3.44). ``mode`` needs 3.54.
"""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from common.wsgi import validation
from blockstorage import attachments as attachments_service
from blockstorage import exception
from blockstorage import states
from blockstorage.api import microversion
from blockstorage.api import views
from blockstorage.api.controllers import snapshots as common
from blockstorage.db import attachments as attachments_db

Request = wsgi_request.Request
MIN_MINOR, COMPLETE_MINOR, MODE_MINOR = 27, 44, 54
_UUID = {"type": "string", "minLength": 1, "maxLength": 36}
CREATE = {"type": "object", "required": ["attachment"], "properties": {"attachment": {
    "type": "object", "required": ["volume_uuid"], "properties": {
        "volume_uuid": _UUID, "instance_uuid": {"type": ["string", "null"], "maxLength": 36},
        "connector": {"type": ["object", "null"]},
        "mode": {"type": "string", "enum": [states.ACCESS_RW, states.ACCESS_RO]}}}}}
UPDATE = {"type": "object", "required": ["attachment"], "properties": {"attachment": {
    "type": "object", "required": ["connector"],
    "properties": {"connector": {"type": "object"}}}}}


def attachment_view(att: dict[str, Any], detail: bool = True) -> dict[str, Any]:
    """An attachment as Cinder shows it (summary: id, status, instance, volume_id)."""
    body: dict[str, Any] = {"id": att["id"], "status": att["attach_status"],
                            "instance": att["instance_uuid"], "volume_id": att["volume_id"]}
    if detail:
        body.update({"attached_at": views.time(att["attach_time"]),
                     "detached_at": views.time(att["detach_time"]),
                     "attach_mode": att["attach_mode"],
                     "connection_info": att["connection_info"]})
    return body


class AttachmentsController:
    def __init__(self, service: attachments_service.AttachmentService) -> None:
        self.service = service

    def _attachment(self, req: Request, attachment_id: str, rule: str) -> dict[str, Any]:
        microversion.require(req, MIN_MINOR)
        att = self.service.get(req.context, attachment_id)
        req.context.can(rule, {"project_id": att["project_id"]})
        return att

    def _list(self, req: Request, detail: bool) -> Any:
        microversion.require(req, MIN_MINOR)
        req.context.can("volume:attachment_get", {"project_id": req.context.project_id})
        page = common.listing(req, attachments_db.SORT_KEYS, attachments_db.DEFAULT_SORT)
        status = req.GET.get("status")
        query = attachments_db.Query(volume_id=req.GET.get("volume_id"),
                                     instance_uuid=req.GET.get("instance_id"),
                                     statuses=[status] if status else None, listing=page)
        all_tenants = common.as_bool(req.GET.get("all_tenants", "false") or "true",
                                     "all_tenants")
        items = self.service.get_all(req.context, query, all_tenants)
        return wsgi_request.json_response(
            {"attachments": [attachment_view(a, detail) for a in items]})

    def index(self, req: Request) -> Any:
        return self._list(req, detail=False)

    def detail(self, req: Request) -> Any:
        return self._list(req, detail=True)

    def show(self, req: Request, attachment_id: str) -> Any:
        att = self._attachment(req, attachment_id, "volume:attachment_get")
        return wsgi_request.json_response({"attachment": attachment_view(att)})

    def create(self, req: Request) -> Any:
        microversion.require(req, MIN_MINOR)
        req.context.can("volume:attachment_create", {"project_id": req.context.project_id})
        body = validation.validate(req.parsed_json(), CREATE)["attachment"]
        if "mode" in body and not microversion.at_least(req, MODE_MINOR):
            raise exception.InvalidInput(
                reason="mode is accepted from microversion 3.%d on" % MODE_MINOR)
        att = self.service.create(req.context, body["volume_uuid"],
                                  body.get("instance_uuid"), body.get("connector"),
                                  body.get("mode", states.ACCESS_RW))
        return wsgi_request.json_response({"attachment": attachment_view(att)})

    def update(self, req: Request, attachment_id: str) -> Any:
        body = validation.validate(req.parsed_json(), UPDATE)["attachment"]
        att = self._attachment(req, attachment_id, "volume:attachment_update")
        att = self.service.update(req.context, att, body["connector"])
        return wsgi_request.json_response({"attachment": attachment_view(att)})

    def delete(self, req: Request, attachment_id: str) -> Any:
        att = self._attachment(req, attachment_id, "volume:attachment_delete")
        remaining = self.service.delete(req.context, att)
        return wsgi_request.json_response(
            {"attachments": [attachment_view(a, False) for a in remaining]})

    def action(self, req: Request, attachment_id: str) -> Any:
        microversion.require(req, COMPLETE_MINOR)
        common.action_name(req.parsed_json(), ("os-complete",))
        att = self._attachment(req, attachment_id, "volume:attachment_complete")
        self.service.complete(req.context, att)
        return wsgi_request.empty_response(204)


def routes(app: Any) -> list[tuple[str, dict[str, Any]]]:
    ctl = AttachmentsController(
        attachments_service.AttachmentService(app.conf, app.db, app.volumes))
    base = "/v3/attachments/{attachment_id}"
    return [("/v3/attachments", {"GET": ctl.index, "POST": ctl.create}),
            ("/v3/attachments/detail", {"GET": ctl.detail}),
            (base, {"GET": ctl.show, "PUT": ctl.update, "DELETE": ctl.delete}),
            (base + "/action", {"POST": ctl.action})]
