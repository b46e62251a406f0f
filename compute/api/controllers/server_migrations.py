"""Live migration and evacuation actions (``os-migrateLive``, ``evacuate``) and
``/v2.1/servers/{id}/migrations``: the in-progress live migrations (2.23),
abort (``DELETE``, 2.24) and force-complete (the ``force_complete`` action,
2.22).

``force`` (2.29 evacuate, 2.30 live migration) skips the scheduler's check of
the host named, and needs one (400); from 2.34 a live migration's checks run
after the answer (see :mod:`compute.server_moves`)."""
from __future__ import annotations

from typing import Any

from common import exception as common_exception
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import server_create
from compute import server_moves
from compute import servers as servers_service
from compute.api import microversion
from compute.api.controllers import servers as servers_controller
from compute.api.schemas import server_migrations as schema

Request = wsgi_request.Request
_FIELDS = ("created_at", "dest_compute", "dest_host", "dest_node", "id", "source_compute",
           "source_node", "status", "updated_at")
# Nova reports the progress of libvirt migrations here; not tracked: null.
_PROGRESS = ("disk_processed_bytes", "disk_remaining_bytes", "disk_total_bytes",
             "memory_processed_bytes", "memory_remaining_bytes", "memory_total_bytes")


def _can(req: Request, rule: str, instance: dict[str, Any]) -> None:
    req.context.can("os_compute_api:" + rule, servers_controller.target(instance))


def _force(body: dict[str, Any], host: str | None) -> bool:
    """The ``force`` of a move's body (False when absent); 400 without a host."""
    force = servers_controller.boolean(body.get("force", False))
    if force and not host:
        raise common_exception.Invalid("Can't force to a non-provided destination")
    return force


class ServerMigrationsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.servers: servers_service.ServerService = app.servers
        self.moves = server_moves.ServerMoves(app.servers)

    def register_actions(self, actions: Any) -> None:
        actions.register("os-migrateLive", self.migrate_live)
        actions.register("evacuate", self.evacuate)

    # -- actions
    def migrate_live(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        version = microversion.of(req)
        after_225 = version >= (2, 25)
        body = validation.validate(body, schema.MIGRATE_LIVE_230 if version >= (2, 30)
                                   else schema.MIGRATE_LIVE_225 if after_225
                                   else schema.MIGRATE_LIVE)["os-migrateLive"]
        _can(req, "os-migrate-server:migrate_live", instance)
        force = _force(body, body["host"]) if version >= (2, 30) else None
        raw = body["block_migration"]
        block: bool | None = (None if after_225 and raw == "auto"
                              else servers_controller.boolean(raw))
        over_commit = None if after_225 else servers_controller.boolean(
            body["disk_over_commit"])
        self.moves.live_migrate(req.context, instance, body["host"], block, over_commit,
                                force=force, async_=version >= (2, 34))
        return wsgi_request.empty_response(202)

    def evacuate(self, req: Request, instance: dict[str, Any], body: Any) -> Any:
        version = microversion.of(req)
        before_214 = version < (2, 14)
        body = validation.validate(body, schema.EVACUATE if before_214
                                   else schema.EVACUATE_229 if version >= (2, 29)
                                   else schema.EVACUATE_214)["evacuate"]
        _can(req, "os-evacuate", instance)
        force = _force(body, body.get("host")) if version >= (2, 29) else None
        password: str | None = body.get("adminPass")
        if before_214 and servers_controller.boolean(body["onSharedStorage"]):
            if "adminPass" in body:
                raise common_exception.Invalid(
                    "admin password can't be changed on existing disk")
        elif password is None:
            password = server_create.generate_password()
        self.moves.evacuate(req.context, instance, body.get("host"), force=force)
        if before_214:
            return wsgi_request.json_response({"adminPass": password})
        return wsgi_request.empty_response(200)

    # -- /servers/{id}/migrations
    def _instance(self, req: Request, server_id: str, since: tuple[int, int],
                  rule: str) -> dict[str, Any]:
        if microversion.of(req) < since:
            raise common_exception.NotFound("The resource could not be found.")
        instance = self.servers.get(req.context, server_id)
        _can(req, "servers:migrations:" + rule, instance)
        return instance

    def _view(self, req: Request, migration: dict[str, Any]) -> dict[str, Any]:
        body = {name: migration[name] for name in _FIELDS}
        body.update({name: None for name in _PROGRESS})
        body["server_uuid"] = migration["instance_uuid"]
        version = microversion.of(req)
        if version >= (2, 59):
            body["uuid"] = migration["uuid"]
        if version >= (2, 80):
            body.update(user_id=migration["user_id"], project_id=migration["project_id"])
        return body

    def index(self, req: Request, server_id: str) -> Any:
        instance = self._instance(req, server_id, (2, 23), "index")
        found = self.moves.in_progress(instance)
        return wsgi_request.json_response({"migrations": [self._view(req, m) for m in found]})

    def show(self, req: Request, server_id: str, migration_id: str) -> Any:
        instance = self._instance(req, server_id, (2, 23), "show")
        migration = self.moves.get_in_progress(instance, migration_id)
        return wsgi_request.json_response({"migration": self._view(req, migration)})

    def delete(self, req: Request, server_id: str, migration_id: str) -> Any:
        instance = self._instance(req, server_id, (2, 24), "delete")
        self.moves.abort(req.context, instance, migration_id)
        return wsgi_request.empty_response(202)

    def action(self, req: Request, server_id: str, migration_id: str) -> Any:
        if microversion.of(req) < (2, 22):
            raise common_exception.NotFound("The resource could not be found.")
        validation.validate(req.parsed_json(), schema.FORCE_COMPLETE)
        instance = self._instance(req, server_id, (2, 22), "force_complete")
        self.moves.force_complete(req.context, instance, migration_id)
        return wsgi_request.empty_response(202)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        base = "/v2.1/servers/{server_id}/migrations"
        return [(base, {"GET": self.index}),
                (base + "/{migration_id}", {"GET": self.show, "DELETE": self.delete}),
                (base + "/{migration_id}/action", {"POST": self.action})]

