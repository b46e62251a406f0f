"""``/v3/{project_id}/snapshots/{id}/metadata``: list, merge (POST), replace
(PUT) and one item (``/metadata/{key}``: show, set, delete)."""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from common.wsgi import validation
from blockstorage import exception
from blockstorage import snapshots as snapshots_service
from blockstorage.api.controllers import snapshots as snapshots_controller

Request = wsgi_request.Request
ALL = {"type": "object", "required": ["metadata"],
       "properties": {"metadata": snapshots_controller.METADATA}}
ITEM = {"type": "object", "required": ["meta"],
        "properties": {"meta": snapshots_controller.METADATA}}


class SnapshotMetadataController:
    def __init__(self, service: snapshots_service.SnapshotService) -> None:
        self.service = service

    def _snapshot(self, req: Request, snapshot_id: str, rule: str) -> dict[str, Any]:
        snap = self.service.get(req.context, snapshot_id)
        req.context.can(rule, {"project_id": snap["project_id"]})
        return snap

    def index(self, req: Request, snapshot_id: str) -> Any:
        snap = self._snapshot(req, snapshot_id, "volume:get_snapshot_metadata")
        return wsgi_request.json_response({"metadata": snap["metadata"]})

    def _set(self, req: Request, snapshot_id: str, replace: bool) -> Any:
        body = validation.validate(req.parsed_json(), ALL)
        snap = self._snapshot(req, snapshot_id, "volume:update_snapshot_metadata")
        found = self.service.set_metadata(req.context, snap, body["metadata"],
                                          replace=replace)
        return wsgi_request.json_response({"metadata": found})

    def create(self, req: Request, snapshot_id: str) -> Any:
        return self._set(req, snapshot_id, replace=False)

    def update_all(self, req: Request, snapshot_id: str) -> Any:
        return self._set(req, snapshot_id, replace=True)

    def show(self, req: Request, snapshot_id: str, key: str) -> Any:
        snap = self._snapshot(req, snapshot_id, "volume:get_snapshot_metadata")
        if key not in snap["metadata"]:
            raise exception.SnapshotMetadataNotFound(snapshot_id=snapshot_id,
                                                     metadata_key=key)
        return wsgi_request.json_response({"meta": {key: snap["metadata"][key]}})

    def update(self, req: Request, snapshot_id: str, key: str) -> Any:
        body = validation.validate(req.parsed_json(), ITEM)["meta"]
        if len(body) > 1:
            raise exception.InvalidInput(reason="Request body contains too many items")
        if key not in body:
            raise exception.InvalidInput(reason="Request body and URI mismatch")
        snap = self._snapshot(req, snapshot_id, "volume:update_snapshot_metadata")
        self.service.set_metadata(req.context, snap, body)
        return wsgi_request.json_response({"meta": body})

    def delete(self, req: Request, snapshot_id: str, key: str) -> Any:
        snap = self._snapshot(req, snapshot_id, "volume:delete_snapshot_metadata")
        self.service.delete_metadata(req.context, snap, key)
        return wsgi_request.empty_response(200)


def routes(app: Any) -> list[tuple[str, dict[str, Any]]]:
    ctl = SnapshotMetadataController(snapshots_controller.service_of(app))
    base = "/v3/snapshots/{snapshot_id}/metadata"
    return [(base, {"GET": ctl.index, "POST": ctl.create, "PUT": ctl.update_all}),
            (base + "/{key}", {"GET": ctl.show, "PUT": ctl.update, "DELETE": ctl.delete})]
