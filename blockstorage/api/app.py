"""The block storage WSGI app (paste ``app_factory``): microversion negotiation,
the ``/v3/{project_id}/...`` URL form, and the route table.

Route-table convention (every controller module follows it)
------------------------------------------------------------
Each module under ``blockstorage/api/controllers/`` exposes::

    def routes(app: BlockStorageApp) -> list[tuple[str, dict[str, Action]]]

returning ``(template, {METHOD: action})`` pairs. An action is called as
``action(req, **path_vars)`` with a ``common.wsgi.request.Request`` and returns a
WebOb response (``wsgi_request.json_response`` / ``empty_response``).

Templates are written WITHOUT the project id: ``/v3/volumes/{volume_id}``. Clients
call ``/v3/{project_id}/volumes/{volume_id}``; the app strips the project segment
before routing (any first segment under /v3 that is not a resource name of the
table is a project id) and keeps it in ``environ[PROJECT_PREFIX_KEY]``
(``"/<project_id>"``) so ``views.Links`` builds links the client can follow.
The scope of a request is always the caller's context, never the URL's project.

What ``app`` offers a controller (read at request time):

- ``app.conf``: the ConfigOpts; ``app.db``: ``common.db.engine.Database``;
- ``app.volumes``: ``blockstorage.volumes.VolumeService`` (volume rules and its
  stores and clients: ``.store`` (VolumeStore), ``.types`` (TypeStore),
  ``.snapshots`` (SnapshotStore), ``.services`` (ServiceStore), ``.image_api``,
  ``.scheduler_rpc()`` / ``.volume_rpc()`` (RPC clients built per use));
- ``app.quotas``: the one ``blockstorage.quotas.QuotaEngine`` of the process
  (share it: its per-project lock serialises check-and-create);
- ``app.actions``: ``blockstorage.volume_actions.VolumeActions``;
- ``microversion.of(req)`` gives the negotiated ``(3, minor)`` of a request;
- policy: ``req.context.can(rule, target)`` (the enforcer is bound before routing).
"""
from __future__ import annotations

import logging
from typing import Any

from oslo_config import cfg

from common import exception as common_exception
from common import policy as common_policy
from common import service as common_service
from common.db import engine
from common.wsgi import fault
from common.wsgi import request as wsgi_request
from common.wsgi import router as wsgi_router
from blockstorage import policies
from blockstorage import volume_actions as volume_actions_service
from blockstorage import volumes
from blockstorage.api import microversion
from blockstorage.api.controllers import attachments
from blockstorage.api.controllers import availability_zones
from blockstorage.api.controllers import backups
from blockstorage.api.controllers import extensions
from blockstorage.api.controllers import limits
from blockstorage.api.controllers import quotas
from blockstorage.api.controllers import services
from blockstorage.api.controllers import snapshot_metadata
from blockstorage.api.controllers import hosts
from blockstorage.api.controllers import snapshots
from blockstorage.api.controllers import types
from blockstorage.api.controllers import versions
from blockstorage.api.controllers import volume_actions
from blockstorage.api.controllers import volume_metadata
from blockstorage.api.controllers import volumes as volumes_controller

LOG = logging.getLogger(__name__)
PROJECT_PREFIX_KEY = "stratus.blockstorage.project_prefix"
API_PREFIX = "/v3"
CONTROLLERS = (versions, volumes_controller, volume_actions, volume_metadata, limits,
               quotas, availability_zones, services, hosts, extensions, snapshots,
               snapshot_metadata, types, attachments, backups)


class BlockStorageApp:
    """The services of one block storage API process, and its router."""

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database | None = None) -> None:
        self.conf = conf
        self.db = db or engine.Database.from_conf(conf, "blockstorage")
        self.volumes = volumes.VolumeService(conf, self.db)
        self.quotas = self.volumes.quotas
        self.actions = volume_actions_service.VolumeActions(self.volumes)
        self.enforcer = common_policy.Enforcer(conf, policies.list_rules())
        table: list[tuple[str, dict[str, Any]]] = []
        for module in CONTROLLERS:
            table.extend(module.routes(self))
        self.resources = frozenset(t.split("/")[2] for t, _ in table
                                   if t.startswith(API_PREFIX + "/"))
        self.router = wsgi_router.Router(table, before=self._prepare_context)

    def _prepare_context(self, req: wsgi_request.Request) -> None:
        self.enforcer.bind(req.context)

    def _strip_project(self, environ: dict[str, Any]) -> None:
        """Serve ``/v3/{project_id}/volumes`` as ``/v3/volumes``."""
        parts = environ.get("PATH_INFO", "").split("/")
        if len(parts) < 3 or not parts[2] or parts[2] in self.resources:
            return
        environ["PATH_INFO"] = "/".join(parts[:2] + parts[3:])
        environ[PROJECT_PREFIX_KEY] = "/" + parts[2]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path != API_PREFIX and not path.startswith(API_PREFIX + "/"):
            return self.router(environ, start_response)
        # A malformed or unsupported version is answered without version headers.
        version = microversion.negotiate(wsgi_request.Request(environ).headers)
        environ[microversion.ENV_KEY] = version
        extra = microversion.response_headers(version)

        def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, headers + extra, exc_info)

        try:
            self._strip_project(environ)
            stripped = environ.get("PATH_INFO", "")
            if stripped.endswith("/") and stripped != API_PREFIX + "/":
                # Cinder has no route for ``volumes/``: an empty id is "not found"
                # (Tempest's show/update/delete without an id expect 404).
                raise common_exception.NotFound("The resource could not be found.")
            return self.router(environ, _start)
        except common_exception.Error as err:
            if err.code >= 500:
                raise
            # Errors carry the version headers too; 5xx go to the fault filter to be logged.
            LOG.info("%(method)s %(path)s -> %(code)s: %(msg)s",
                     {"method": environ.get("REQUEST_METHOD"), "path": path,
                      "code": err.code, "msg": err.message})
            return fault.error_response("nova", err)(environ, _start)


def app_factory(global_conf: dict[str, Any], **local_conf: Any) -> BlockStorageApp:
    return BlockStorageApp(common_service.conf_from_global(global_conf))
