"""``POST /v2.1/servers/{id}/action``: one handler per action name.

Other controllers may add actions (remote consoles, interfaces ...) with
:meth:`ServerActionsController.register`. Each handler gets the request, the
server (already found: another project's is 404) and the action's body.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common import exception as common_exception
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import server_actions
from compute import server_create
from compute import servers as servers_service
from compute.api import microversion
from compute.api.controllers import servers as servers_controller
from compute.api.schemas import servers as schema

Request = wsgi_request.Request
Handler = Callable[[Request, dict[str, Any], Any], Any]
_target = servers_controller.target
# Power actions: action name -> (service action, policy).
_POWER = {"os-start": ("start", "servers:start"), "os-stop": ("stop", "servers:stop"),
          "pause": ("pause", "os-pause-server:pause"),
          "unpause": ("unpause", "os-pause-server:unpause"),
          "suspend": ("suspend", "os-suspend-server:suspend"),
          "resume": ("resume", "os-suspend-server:resume")}
_SHELVE = {"shelve": "os-shelve:shelve", "shelveOffload": "os-shelve:shelve_offload",
           "unshelve": "os-shelve:unshelve"}
# Nova's proxies of the network service, gone (404) from microversion 2.44; not
# served here before it either (a 400, as any unknown action).
_REMOVED_244 = frozenset(("addFixedIp", "removeFixedIp", "addFloatingIp",
                          "removeFloatingIp"))


def _can(req: Request, rule: str, instance: dict[str, Any]) -> None:
    req.context.can("os_compute_api:" + rule, _target(instance))


def _accepted() -> Any:
    return wsgi_request.empty_response(202)


class ServerActionsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.servers: servers_service.ServerService = app.servers
        self.actions: server_actions.ServerActions = app.server_actions
        self.handlers: dict[str, Handler] = {
            "reboot": self.reboot, "rebuild": self.rebuild, "resize": self.resize,
            "confirmResize": self.confirm_resize, "revertResize": self.revert_resize,
            "migrate": self.migrate, "createImage": self.create_image,
            "createBackup": self.create_backup, "os-getConsoleOutput": self.console_output,
            "os-resetState": self.reset_state, "lock": self.lock, "unlock": self.unlock,
            "changePassword": self.change_password, "forceDelete": self.force_delete,
            "restore": self.restore}
        for name in _POWER:
            self.handlers[name] = self._power_handler(name)
        for name in _SHELVE:
            self.handlers[name] = self._shelve_handler(name)

    def register(self, name: str, handler: Handler) -> None:
        """Add an action (``handler(req, instance, body_value)`` -> response)."""
        self.handlers[name] = handler

    def action(self, req: Request, server_id: str) -> Any:
        body = req.parsed_json()
        if not isinstance(body, dict):
            raise common_exception.MalformedBody(detail="the body must be a JSON object")
        names = [name for name in body if name in self.handlers]
        if (len(body) == 1 and not names and set(body) <= _REMOVED_244
                and microversion.of(req) >= (2, 44)):
            raise common_exception.NotFound("The resource could not be found.")
        if len(names) != 1 or len(body) != 1:
            raise common_exception.Invalid(
                "There is no such action: %s" % (", ".join(sorted(body)) or "(none)"))
        instance = self.servers.get(req.context, server_id)
        return self.handlers[names[0]](req, instance, body)

    # -- power and reboot
    def _power_handler(self, name: str) -> Handler:
        action, rule = _POWER[name]

        def handle(req: Request, instance: dict[str, Any], body: Any) -> Any:
            _can(req, rule, instance)
            self.actions.power(req.context, instance, action)
            return _accepted()
        return handle

    def reboot(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        body = validation.validate(body, schema.REBOOT)["reboot"]
        _can(req, "servers:reboot", instance)
        self.actions.reboot(req.context, instance, body["type"].upper())
        return _accepted()

    # -- rebuild, resize, migrate
    def rebuild(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        version = microversion.of(req)
        body = validation.validate(
            body, schema.REBUILD_V219 if version >= (2, 19) else schema.REBUILD)["rebuild"]
        _can(req, "servers:rebuild", instance)
        values = servers_controller.update_values(body)
        metadata = body.get("metadata")
        rebuilt = self.actions.rebuild(
            req.context, instance, body["imageRef"], values,
            dict(metadata) if metadata is not None else None,
            servers_controller.boolean(body.get("preserve_ephemeral", False)))
        view = servers_controller.server_view(self.app, req)
        server = view.updated(rebuilt, self.servers.view_extras([rebuilt])[rebuilt["uuid"]])
        server["adminPass"] = body.get("adminPass") or server_create.generate_password()
        location = view.links.item("servers", rebuilt["uuid"])[0]["href"]
        return wsgi_request.json_response({"server": server}, status=202,
                                          headers={"Location": location})

    def resize(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        body = validation.validate(body, schema.RESIZE)["resize"]
        _can(req, "servers:resize", instance)
        disk = body.get("OS-DCF:diskConfig")
        self.actions.resize(req.context, instance, str(body["flavorRef"]),
                            None if disk is None else disk == "AUTO")
        return _accepted()

    def confirm_resize(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        _can(req, "servers:confirm_resize", instance)
        self.actions.confirm_resize(req.context, instance)
        return wsgi_request.empty_response(204)

    def revert_resize(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        _can(req, "servers:revert_resize", instance)
        self.actions.revert_resize(req.context, instance)
        return _accepted()

    def migrate(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        validation.validate(body, schema.MIGRATE)
        _can(req, "os-migrate-server:migrate", instance)
        self.actions.migrate(req.context, instance)
        return _accepted()

    # -- snapshots
    def _image_response(self, req: Request, image_id: str | None) -> Any:
        if image_id is None:
            return _accepted()
        if microversion.of(req) >= (2, 45):
            return wsgi_request.json_response({"image_id": image_id}, status=202)
        location = "%s/images/%s" % (servers_controller.links(self.app, req).unversioned,
                                     image_id)
        return wsgi_request.empty_response(202, headers={"Location": location})

    def create_image(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        body = validation.validate(body, schema.CREATE_IMAGE)["createImage"]
        _can(req, "servers:create_image", instance)
        image_id = self.actions.snapshot(req.context, instance, body["name"],
                                         dict(body.get("metadata") or {}),
                                         metadata_quota=microversion.of(req) < (2, 39))
        return self._image_response(req, image_id)

    def create_backup(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        body = validation.validate(body, schema.CREATE_BACKUP)["createBackup"]
        _can(req, "os-create-backup", instance)
        image_id = self.actions.snapshot(req.context, instance, body["name"],
                                         dict(body.get("metadata") or {}),
                                         backup_type=body["backup_type"],
                                         rotation=int(body["rotation"]),
                                         metadata_quota=microversion.of(req) < (2, 39))
        return self._image_response(req, image_id)

    # -- the rest
    def console_output(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        body = validation.validate(body, schema.CONSOLE_OUTPUT)["os-getConsoleOutput"]
        _can(req, "os-console-output", instance)
        raw = body.get("length")
        length = None if raw is None or int(raw) < 0 else int(raw)
        output = self.actions.console_output(req.context, instance, length)
        return wsgi_request.json_response({"output": output})

    def reset_state(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        body = validation.validate(body, schema.RESET_STATE)["os-resetState"]
        _can(req, "os-admin-actions:reset_state", instance)
        self.actions.reset_state(req.context, instance, body["state"])
        return _accepted()

    def lock(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        _can(req, "os-lock-server:lock", instance)
        self.actions.lock(req.context, instance)
        return _accepted()

    def unlock(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        _can(req, "os-lock-server:unlock", instance)
        if not self.actions.locked_by_caller_kind(req.context, instance):
            _can(req, "os-lock-server:unlock:unlock_override", instance)
        self.actions.unlock(req.context, instance)
        return _accepted()

    def change_password(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        validation.validate(body, schema.CHANGE_PASSWORD)
        _can(req, "os-admin-password", instance)
        self.actions.change_password(req.context, instance)
        return _accepted()

    def force_delete(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        _can(req, "os-deferred-delete:force", instance)
        self.servers.delete(req.context, instance)
        return _accepted()

    def restore(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        _can(req, "os-deferred-delete:restore", instance)
        self.actions.restore(req.context, instance)
        return _accepted()

    def _shelve_handler(self, name: str) -> Handler:
        def handle(req: Request, instance: dict[str, Any], body: Any) -> Any:
            _can(req, _SHELVE[name], instance)
            self.actions.shelve(req.context, instance, name)
            return _accepted()
        return handle

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/servers/{server_id}/action", {"POST": self.action})]
