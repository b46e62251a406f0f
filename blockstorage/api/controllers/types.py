"""``/v3/{project_id}/types``: list, show (``default`` too), create, update,
delete; ``/types/{id}/extra_specs`` (and ``/{key}``); ``os-volume-type-access``
with the ``addProjectAccess``/``removeProjectAccess`` actions.

The fields follow Tempest's schemas: ``qos_specs_id`` only in show and list
(admins), ``os-volume-type-access:is_public`` in show, list and create, extra
specs (user-visible ones for non-admins) everywhere.
"""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from common.wsgi import validation
from blockstorage import exception
from blockstorage import types as types_service
from blockstorage.api.controllers import snapshots as common
from blockstorage.db import types as types_db

Request = wsgi_request.Request
_KEY = {"type": "string", "minLength": 1, "maxLength": 255,
        "pattern": r"^[a-zA-Z0-9-_:. /]{1,255}$"}
SPECS = {"type": "object", "propertyNames": _KEY,
         "additionalProperties": {"type": ["string", "number", "boolean"]}}
_NAME = {"type": "string", "minLength": 1, "maxLength": 255}
_DESCRIPTION = {"type": ["string", "null"], "maxLength": 255}
_BOOL = {"type": ["boolean", "string"]}
CREATE = {"type": "object", "required": ["volume_type"], "properties": {"volume_type": {
    "type": "object", "required": ["name"], "properties": {
        "name": _NAME, "description": _DESCRIPTION,
        "os-volume-type-access:is_public": _BOOL, "is_public": _BOOL,
        "extra_specs": SPECS}}}}
UPDATE = {"type": "object", "required": ["volume_type"], "properties": {"volume_type": {
    "type": "object", "properties": {
        "name": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
        "description": _DESCRIPTION, "is_public": {"type": ["boolean", "string", "null"]}}}}}
SPECS_BODY = {"type": "object", "required": ["extra_specs"],
              "properties": {"extra_specs": SPECS}}
ACCESS = {"type": "object", "required": ["project"],
          "properties": {"project": {"type": "string", "minLength": 1, "maxLength": 255}}}


def _strings(specs: dict[str, Any]) -> dict[str, str]:
    found = {}
    for key, value in specs.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if len(text) > 255:
            raise exception.InvalidInput(reason="extra spec %s is longer than 255 "
                                                "characters" % key)
        found[key] = text
    return found


def _name(value: str) -> str:
    if not value.strip():
        raise exception.InvalidInput(reason="The volume type name cannot be blank.")
    return value.strip()


class TypesController:
    def __init__(self, service: types_service.TypeService) -> None:
        self.service = service

    def view(self, req: Request, vtype: dict[str, Any], *, access: bool = True,
             qos: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": vtype["id"], "name": vtype["name"], "description": vtype["description"],
            "is_public": vtype["is_public"],
            "extra_specs": types_service.visible_specs(req.context, vtype["extra_specs"])}
        if access:
            body["os-volume-type-access:is_public"] = vtype["is_public"]
        if qos and req.context.can("volume_extension:access_types_qos_specs_id",
                                   fatal=False):
            body["qos_specs_id"] = vtype["qos_specs_id"]
        return body

    def _is_public(self, req: Request) -> bool | None:
        raw = req.GET.get("is_public")
        if raw is None:
            return True
        if raw.strip().lower() in ("none", "all"):
            return None
        return common.as_bool(raw, "is_public")

    def index(self, req: Request) -> Any:
        req.context.can("volume_extension:type_get_all")
        page = common.listing(req, types_db.SORT_KEYS, types_db.DEFAULT_SORT)
        items = self.service.get_all(req.context, self._is_public(req), page)
        return wsgi_request.json_response({"volume_types": [self.view(req, t)
                                                             for t in items]})

    def show(self, req: Request, type_id: str) -> Any:
        req.context.can("volume_extension:type_get")
        vtype = self.service.get(req.context, type_id)
        return wsgi_request.json_response({"volume_type": self.view(req, vtype)})

    def create(self, req: Request) -> Any:
        req.context.can("volume_extension:type_create")
        body = validation.validate(req.parsed_json(), CREATE)["volume_type"]
        public = body.get("os-volume-type-access:is_public", body.get("is_public", True))
        vtype = self.service.create(
            req.context, _name(body["name"]), body.get("description"),
            common.as_bool(public, "os-volume-type-access:is_public"),
            _strings(body.get("extra_specs") or {}))
        return wsgi_request.json_response({"volume_type": self.view(req, vtype, qos=False)})

    def update(self, req: Request, type_id: str) -> Any:
        req.context.can("volume_extension:type_update")
        body = validation.validate(req.parsed_json(), UPDATE)["volume_type"]
        values: dict[str, Any] = {}
        if body.get("name") is not None:
            values["name"] = _name(body["name"])
        if "description" in body:
            values["description"] = body["description"]
        if body.get("is_public") is not None:
            values["is_public"] = common.as_bool(body["is_public"], "is_public")
        if not values:
            raise exception.InvalidInput(
                reason="Specify volume type name, description, is_public or a "
                       "combination thereof.")
        vtype = self.service.update(req.context, type_id, values)
        return wsgi_request.json_response(
            {"volume_type": self.view(req, vtype, access=False, qos=False)})

    def delete(self, req: Request, type_id: str) -> Any:
        req.context.can("volume_extension:type_delete")
        self.service.delete(req.context, type_id)
        return wsgi_request.empty_response(202)

    # -- extra specs
    def specs_index(self, req: Request, type_id: str) -> Any:
        req.context.can("volume_extension:types_extra_specs:index")
        vtype = self.service.get(req.context, type_id)
        return wsgi_request.json_response(
            {"extra_specs": types_service.visible_specs(req.context, vtype["extra_specs"])})

    def specs_create(self, req: Request, type_id: str) -> Any:
        req.context.can("volume_extension:types_extra_specs:create")
        specs = _strings(validation.validate(req.parsed_json(), SPECS_BODY)["extra_specs"])
        self.service.set_extra_specs(req.context, type_id, specs)
        return wsgi_request.json_response({"extra_specs": specs})

    def spec_show(self, req: Request, type_id: str, key: str) -> Any:
        req.context.can("volume_extension:types_extra_specs:show")
        vtype = self.service.get(req.context, type_id)
        specs = types_service.visible_specs(req.context, vtype["extra_specs"])
        if key not in specs:
            raise exception.VolumeTypeExtraSpecsNotFound(volume_type_id=type_id,
                                                         extra_specs_key=key)
        return wsgi_request.json_response({key: specs[key]})

    def spec_update(self, req: Request, type_id: str, key: str) -> Any:
        req.context.can("volume_extension:types_extra_specs:update")
        body = validation.validate(req.parsed_json(), SPECS)
        if len(body) > 1:
            raise exception.InvalidInput(reason="Request body contains too many items.")
        if key not in body:
            raise exception.InvalidInput(reason="Request body and URI mismatch")
        specs = _strings(body)
        self.service.set_extra_specs(req.context, type_id, specs)
        return wsgi_request.json_response(specs)

    def spec_delete(self, req: Request, type_id: str, key: str) -> Any:
        req.context.can("volume_extension:types_extra_specs:delete")
        self.service.delete_extra_spec(req.context, type_id, key)
        return wsgi_request.empty_response(202)

    # -- private access
    def access_index(self, req: Request, type_id: str) -> Any:
        req.context.can("volume_extension:volume_type_access")
        projects = self.service.access_list(req.context, type_id)
        return wsgi_request.json_response({"volume_type_access": [
            {"volume_type_id": type_id, "project_id": p} for p in projects]})

    def action(self, req: Request, type_id: str) -> Any:
        body = req.parsed_json()
        name = common.action_name(body, ("addProjectAccess", "removeProjectAccess"))
        req.context.can("volume_extension:volume_type_access:" + name)
        project = validation.validate(body[name], ACCESS)["project"]
        if name == "addProjectAccess":
            self.service.add_access(req.context, type_id, project)
        else:
            self.service.remove_access(req.context, type_id, project)
        return wsgi_request.empty_response(202)


def routes(app: Any) -> list[tuple[str, dict[str, Any]]]:
    service = getattr(app, "types", None)
    if service is None:
        service = types_service.TypeService(app.conf, app.db)
        app.types = service
    ctl = TypesController(service)
    base = "/v3/types/{type_id}"
    return [("/v3/types", {"GET": ctl.index, "POST": ctl.create}),
            (base, {"GET": ctl.show, "PUT": ctl.update, "DELETE": ctl.delete}),
            (base + "/extra_specs", {"GET": ctl.specs_index, "POST": ctl.specs_create}),
            (base + "/extra_specs/{key}", {"GET": ctl.spec_show, "PUT": ctl.spec_update,
                                           "DELETE": ctl.spec_delete}),
            (base + "/os-volume-type-access", {"GET": ctl.access_index}),
            (base + "/action", {"POST": ctl.action})]
