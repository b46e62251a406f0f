"""``POST /v3/{project_id}/volumes/{id}/action``: one action per request, named by
the body's only key (``{"os-extend": {"new_size": 2}}``).

Each action is authorised under its Cinder policy rule before anything is
checked or changed; the rules of each are in ``blockstorage.volume_actions``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common.wsgi import request as wsgi_request
from common.wsgi import validation
from blockstorage import exception
from blockstorage import states
from blockstorage.api import microversion
from blockstorage.api.controllers import volumes as volumes_controller

Request = wsgi_request.Request
_ACTIONS = "volume_extension:volume_actions:"
_ADMIN = "volume_extension:volume_admin_actions:"
_BOOL = {"type": ["boolean", "string"]}
_DISK_FORMATS = ("raw", "vmdk", "vdi", "qcow2", "vhd", "vhdx", "ploop")
_OBJECT = {"type": ["object", "null"]}
_CONNECTOR = {"type": "object", "properties": {"connector": {"type": "object"}},
              "required": ["connector"]}
SCHEMAS: dict[str, dict[str, Any]] = {
    "os-extend": {"type": "object", "properties": {"new_size": {}},
                  "required": ["new_size"]},
    "os-attach": {"type": "object",
                  "properties": {"instance_uuid": {"type": ["string", "null"],
                                                   "format": "uuid"},
                                 "host_name": {"type": ["string", "null"],
                                               "maxLength": 255},
                                 "mountpoint": {"type": "string", "maxLength": 255},
                                 "mode": {"type": "string", "enum": ["rw", "ro"]}},
                  "required": ["mountpoint"]},
    "os-detach": {"type": ["object", "null"],
                  "properties": {"attachment_id": {"type": ["string", "null"]}}},
    "os-initialize_connection": _CONNECTOR,
    "os-terminate_connection": _CONNECTOR,
    "os-set_bootable": {"type": "object", "properties": {"bootable": _BOOL},
                        "required": ["bootable"]},
    "os-update_readonly_flag": {"type": "object", "properties": {"readonly": _BOOL},
                                "required": ["readonly"]},
    "os-volume_upload_image": {
        "type": "object",
        "properties": {"image_name": {"type": "string", "minLength": 1, "maxLength": 255},
                       "force": _BOOL,
                       "disk_format": {"type": "string", "enum": list(_DISK_FORMATS)},
                       "container_format": {"type": "string",
                                            "enum": ["bare", "ovf", "ova", "docker",
                                                     "compressed"]},
                       "visibility": {"type": "string",
                                      "enum": ["public", "private", "shared",
                                               "community"]},
                       "protected": _BOOL},
        "required": ["image_name"]},
    "os-retype": {"type": "object",
                  "properties": {"new_type": {"type": "string", "minLength": 1},
                                 "migration_policy": {"type": ["string", "null"]}},
                  "required": ["new_type"]},
    "os-reset_status": {"type": "object",
                        "properties": {"status": {"type": "string"},
                                       "attach_status": {"type": "string"},
                                       "migration_status": {"type": "string"}},
                        "minProperties": 1},
    "os-force_detach": {"type": ["object", "null"],
                        "properties": {"attachment_id": {"type": ["string", "null"]},
                                       "connector": _OBJECT}},
}


def flag(value: Any, name: str) -> bool:
    """A boolean action parameter (true/false or their strings). :raises: InvalidInput."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "t", "yes", "y", "on"):
        return True
    if text in ("false", "0", "f", "no", "n", "off"):
        return False
    raise exception.InvalidParameterValue(err="%s must be a boolean, got %r" % (name, value))


class _Handlers:
    """One method per action: ``(req, volume, params) -> response``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.actions = app.actions

    def extend(self, req: Request, volume: dict[str, Any], params: dict[str, Any]) -> Any:
        new_size = volumes_controller.size_of(params["new_size"], "new_size")
        attached_ok = microversion.at_least(req, 42)
        if attached_ok and volume["status"] == states.IN_USE:
            req.context.can("volume:extend_attached_volume",
                            volumes_controller.target(volume))
        self.actions.extend(req.context, volume, int(new_size or 0), attached_ok)
        return wsgi_request.empty_response(202)

    def retype(self, req: Request, volume: dict[str, Any], params: dict[str, Any]) -> Any:
        self.actions.retype(req.context, volume, params["new_type"],
                            params.get("migration_policy") or "never")
        return wsgi_request.empty_response(202)

    def reserve(self, req: Request, volume: dict[str, Any], params: Any) -> Any:
        self.actions.reserve(volume)
        return wsgi_request.empty_response(202)

    def unreserve(self, req: Request, volume: dict[str, Any], params: Any) -> Any:
        self.actions.unreserve(volume)
        return wsgi_request.empty_response(202)

    def begin_detaching(self, req: Request, volume: dict[str, Any], params: Any) -> Any:
        self.actions.begin_detaching(volume)
        return wsgi_request.empty_response(202)

    def roll_detaching(self, req: Request, volume: dict[str, Any], params: Any) -> Any:
        self.actions.roll_detaching(volume)
        return wsgi_request.empty_response(202)

    def attach(self, req: Request, volume: dict[str, Any], params: dict[str, Any]) -> Any:
        instance, host = params.get("instance_uuid"), params.get("host_name")
        if not instance and not host:
            raise exception.InvalidVolume(reason="Invalid request to attach volume to an "
                                                 "invalid target")
        self.actions.attach(volume, instance, host, params["mountpoint"],
                            params.get("mode", states.ACCESS_RW))
        return wsgi_request.empty_response(202)

    def detach(self, req: Request, volume: dict[str, Any], params: Any) -> Any:
        self.actions.detach(volume, (params or {}).get("attachment_id"))
        return wsgi_request.empty_response(202)

    def initialize_connection(self, req: Request, volume: dict[str, Any],
                              params: dict[str, Any]) -> Any:
        info = self.actions.initialize_connection(req.context, volume, params["connector"])
        return wsgi_request.json_response({"connection_info": info})

    def terminate_connection(self, req: Request, volume: dict[str, Any],
                             params: dict[str, Any]) -> Any:
        self.actions.terminate_connection(req.context, volume, params["connector"])
        return wsgi_request.empty_response(202)

    def set_bootable(self, req: Request, volume: dict[str, Any],
                     params: dict[str, Any]) -> Any:
        self.actions.set_bootable(volume, flag(params["bootable"], "bootable"))
        return wsgi_request.empty_response(200)

    def update_readonly(self, req: Request, volume: dict[str, Any],
                        params: dict[str, Any]) -> Any:
        self.actions.update_readonly(volume, flag(params["readonly"], "readonly"))
        return wsgi_request.empty_response(202)

    def upload_image(self, req: Request, volume: dict[str, Any],
                     params: dict[str, Any]) -> Any:
        force = flag(params.get("force", False), "force")
        if force and not self.app.conf.enable_force_upload:
            raise exception.InvalidVolume(
                reason="Uploading an in-use volume with force is not enabled.")
        visibility = "private"
        protected = False
        if microversion.at_least(req, 1):
            visibility = params.get("visibility", visibility)
            protected = flag(params.get("protected", False), "protected")
        if visibility == "public":
            req.context.can(_ACTIONS + "upload_public", volumes_controller.target(volume))
        values = {"image_name": params["image_name"],
                  "disk_format": params.get("disk_format", "raw"),
                  "container_format": params.get("container_format", "bare"),
                  "visibility": visibility, "protected": protected}
        answer = self.actions.upload_image(req.context, volume, values, force)
        if not microversion.at_least(req, 1):
            answer.pop("visibility")
            answer.pop("protected")
        return wsgi_request.json_response({"os-volume_upload_image": answer}, status=202)

    def reset_status(self, req: Request, volume: dict[str, Any],
                     params: dict[str, Any]) -> Any:
        self.actions.reset_status(volume, dict(params))
        return wsgi_request.empty_response(202)

    def force_delete(self, req: Request, volume: dict[str, Any], params: Any) -> Any:
        self.app.volumes.delete(req.context, volume, cascade=True, force=True)
        return wsgi_request.empty_response(202)

    def force_detach(self, req: Request, volume: dict[str, Any], params: Any) -> Any:
        params = params or {}
        self.actions.force_detach(req.context, volume, params.get("attachment_id"),
                                  params.get("connector"))
        return wsgi_request.empty_response(202)


def _table(h: _Handlers) -> dict[str, tuple[str, Callable[..., Any]]]:
    """Action name -> (policy rule, handler)."""
    return {
        "os-extend": ("volume:extend", h.extend),
        "os-retype": ("volume:retype", h.retype),
        "os-reserve": (_ACTIONS + "reserve", h.reserve),
        "os-unreserve": (_ACTIONS + "unreserve", h.unreserve),
        "os-begin_detaching": (_ACTIONS + "begin_detaching", h.begin_detaching),
        "os-roll_detaching": (_ACTIONS + "roll_detaching", h.roll_detaching),
        "os-attach": (_ACTIONS + "attach", h.attach),
        "os-detach": (_ACTIONS + "detach", h.detach),
        "os-initialize_connection": (_ACTIONS + "initialize_connection",
                                     h.initialize_connection),
        "os-terminate_connection": (_ACTIONS + "terminate_connection",
                                    h.terminate_connection),
        "os-set_bootable": ("volume:update", h.set_bootable),
        "os-update_readonly_flag": ("volume:update_readonly_flag", h.update_readonly),
        "os-volume_upload_image": (_ACTIONS + "upload_image", h.upload_image),
        "os-reset_status": (_ADMIN + "reset_status", h.reset_status),
        "os-force_delete": (_ADMIN + "force_delete", h.force_delete),
        "os-force_detach": (_ADMIN + "force_detach", h.force_detach),
    }


def _parse(body: Any, known: dict[str, Any]) -> tuple[str, Any]:
    """The action's name and parameters. :raises: InvalidInput."""
    if not isinstance(body, dict) or len(body) != 1:
        raise exception.InvalidInput(reason="The action body must name exactly one action.")
    name, params = next(iter(body.items()))
    if name not in known:
        raise exception.InvalidInput(reason="There is no such action: %s" % name)
    if name in SCHEMAS:
        validation.validate(params, SCHEMAS[name])
    elif params not in (None, {}) and not isinstance(params, dict):
        raise exception.InvalidInput(reason="%s takes no parameters" % name)
    return name, params


def routes(app: Any) -> list[tuple[str, dict[str, Any]]]:
    table = _table(_Handlers(app))

    def action(req: Request, volume_id: str) -> Any:
        body = req.parsed_json()
        name = next(iter(body)) if isinstance(body, dict) and len(body) == 1 else None
        volume = app.volumes.get(req.context, volume_id)
        if name in table:
            req.context.can(table[name][0], volumes_controller.target(volume))
        name, params = _parse(body, table)
        return table[name][1](req, volume, params)

    return [("/v3/volumes/{volume_id}/action", {"POST": action})]
