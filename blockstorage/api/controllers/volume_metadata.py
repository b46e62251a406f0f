"""``/v3/{project_id}/volumes/{id}/metadata``: list, merge (POST), replace (PUT)
and one item (``/metadata/{key}``: show, set, delete)."""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from common.wsgi import validation
from blockstorage import exception
from blockstorage import states
from blockstorage.api.controllers import volumes as volumes_controller

Request = wsgi_request.Request
METADATA_ALL = {"type": "object",
                "properties": {"metadata": dict(volumes_controller.METADATA,
                                                type="object")},
                "required": ["metadata"]}
METADATA_ITEM = {"type": "object",
                 "properties": {"meta": dict(volumes_controller.METADATA, type="object",
                                             minProperties=1)},
                 "required": ["meta"]}


def _writable(volume: dict[str, Any]) -> None:
    if volume["status"] == states.MAINTENANCE:
        raise exception.InvalidVolume(reason="Volume is in maintenance.")


def routes(app: Any) -> list[tuple[str, dict[str, Any]]]:
    store = app.volumes.store

    def volume(req: Request, volume_id: str, rule: str) -> dict[str, Any]:
        return volumes_controller.get_volume(app, req, volume_id, rule)

    def index(req: Request, volume_id: str) -> Any:
        found = volume(req, volume_id, "volume:get_volume_metadata")
        return wsgi_request.json_response({"metadata": found["metadata"]})

    def _set(req: Request, volume_id: str, rule: str, replace: bool) -> Any:
        body = validation.validate(req.parsed_json(), METADATA_ALL)
        found = volume(req, volume_id, rule)
        _writable(found)
        result = store.set_metadata(volume_id, body["metadata"], replace=replace)
        return wsgi_request.json_response({"metadata": result})

    def create(req: Request, volume_id: str) -> Any:
        return _set(req, volume_id, "volume:create_volume_metadata", replace=False)

    def update_all(req: Request, volume_id: str) -> Any:
        return _set(req, volume_id, "volume:update_volume_metadata", replace=True)

    def show(req: Request, volume_id: str, key: str) -> Any:
        found = volume(req, volume_id, "volume:get_volume_metadata")
        if key not in found["metadata"]:
            raise exception.VolumeMetadataNotFound(volume_id=volume_id, metadata_key=key)
        return wsgi_request.json_response({"meta": {key: found["metadata"][key]}})

    def update(req: Request, volume_id: str, key: str) -> Any:
        body = validation.validate(req.parsed_json(), METADATA_ITEM)
        if len(body["meta"]) > 1:
            raise exception.InvalidInput(reason="Request body contains too many items")
        if key not in body["meta"]:
            raise exception.InvalidInput(reason="Request body and URI mismatch")
        found = volume(req, volume_id, "volume:update_volume_metadata")
        _writable(found)
        store.set_metadata(volume_id, body["meta"], replace=False)
        return wsgi_request.json_response({"meta": body["meta"]})

    def delete(req: Request, volume_id: str, key: str) -> Any:
        found = volume(req, volume_id, "volume:delete_volume_metadata")
        _writable(found)
        store.delete_metadata(volume_id, key)
        return wsgi_request.empty_response(200)

    base = "/v3/volumes/{volume_id}/metadata"
    return [(base, {"GET": index, "POST": create, "PUT": update_all}),
            (base + "/{key}", {"GET": show, "PUT": update, "DELETE": delete})]
