"""The compute WSGI app (paste ``app_factory``): microversion negotiation, the
optional ``/v2.1/{project_id}/...`` URL form, and the route table."""
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
from compute import exception
from compute import flavors
from compute import keypairs
from compute import policies
from compute import server_actions
from compute import server_create
from compute import servers
from compute.api import microversion
from compute.api.controllers import aggregates as aggregates_controller
from compute.api.controllers import availability_zones as az_controller
from compute.api.controllers import extensions as extensions_controller
from compute.api.controllers import consoles as consoles_controller
from compute.api.controllers import flavor_extras
from compute.api.controllers import flavors as flavors_controller
from compute.api.controllers import hypervisors as hypervisors_controller
from compute.api.controllers import keypairs as keypairs_controller
from compute.api.controllers import migrations as migrations_controller
from compute.api.controllers import quotas as quotas_controller
from compute.api.controllers import server_groups as server_groups_controller
from compute.api.controllers import services as services_controller
from compute.api.controllers import tenant_usage as tenant_usage_controller
from compute.api.controllers import instance_actions as instance_actions_controller
from compute.api.controllers import server_actions as server_actions_controller
from compute.api.controllers import server_diagnostics as server_diagnostics_controller
from compute.api.controllers import server_events as server_events_controller
from compute.api.controllers import server_ips as server_ips_controller
from compute.api.controllers import server_interfaces as server_interfaces_controller
from compute.api.controllers import server_migrations as server_migrations_controller
from compute.api.controllers import server_metadata as server_metadata_controller
from compute.api.controllers import server_password as server_password_controller
from compute.api.controllers import server_rescue as server_rescue_controller
from compute.api.controllers import security_groups_proxy as security_groups_proxy_controller
from compute.api.controllers import server_security_groups as security_groups_controller
from compute.api.controllers import server_tags as server_tags_controller
from compute.api.controllers import servers as servers_controller
from compute.api.controllers import volume_attachments as volume_attachments_controller
from compute.api.controllers import versions

LOG = logging.getLogger(__name__)
# First path segments under /v2.1 that name a resource; anything else in that
# place is a project id (the pre-2.18 URL form Nova still accepts).
RESOURCES = frozenset(("os-services", "os-hypervisors", "os-quota-sets",
                       "os-quota-class-sets", "limits", "os-server-groups",
                       "os-availability-zone", "os-aggregates", "extensions",
                       "os-simple-tenant-usage", "os-migrations",
                       "flavors", "os-keypairs", "servers",
                       "os-server-external-events", "os-security-groups",
                       "os-security-group-rules"))
PROJECT_PREFIX_KEY = "stratus.compute.project_prefix"


class ComputeApp:
    """The services of one compute API process, and its router."""

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database | None = None) -> None:
        self.conf = conf
        self.db = db or engine.Database.from_conf(conf, "compute")
        self.flavors = flavors.FlavorService(conf, self.db)
        self.keypairs = keypairs.KeypairService(conf, self.db)
        self.servers = servers.ServerService(conf, self.db, self.flavors, self.keypairs)
        self.server_builder = server_create.ServerBuilder(self.servers)
        self.server_actions = server_actions.ServerActions(self.servers,
                                                           self.server_builder)
        self.enforcer = common_policy.Enforcer(conf, policies.list_rules())
        table: list[tuple[str, dict[str, Any]]] = []
        actions = server_actions_controller.ServerActionsController(self)
        consoles = consoles_controller.ConsolesController(self)
        consoles.register_actions(actions)
        migrations = server_migrations_controller.ServerMigrationsController(self)
        migrations.register_actions(actions)
        server_rescue_controller.ServerRescueController(self).register_actions(actions)
        security_groups = security_groups_controller.ServerSecurityGroupsController(self)
        security_groups.register_actions(actions)
        for controller in (versions.VersionsController(self),
                           flavors_controller.FlavorsController(self),
                           flavor_extras.FlavorExtrasController(self),
                           services_controller.ServicesController(self),
                           hypervisors_controller.HypervisorsController(self),
                           quotas_controller.QuotaSetsController(self),
                           quotas_controller.QuotaClassSetsController(self),
                           quotas_controller.LimitsController(self),
                           server_groups_controller.ServerGroupsController(self),
                           az_controller.AvailabilityZonesController(self),
                           aggregates_controller.AggregatesController(self),
                           extensions_controller.ExtensionsController(self),
                           tenant_usage_controller.TenantUsageController(self),
                           migrations_controller.MigrationsController(self),
                           keypairs_controller.KeypairsController(self),
                           security_groups_proxy_controller.SecurityGroupsProxyController(self),
                           servers_controller.ServersController(self),
                           actions, consoles, migrations, security_groups,
                           server_metadata_controller.ServerMetadataController(self),
                           server_tags_controller.ServerTagsController(self),
                           server_ips_controller.ServerIpsController(self),
                           server_interfaces_controller.ServerInterfacesController(self),
                           volume_attachments_controller.VolumeAttachmentsController(self),
                           instance_actions_controller.InstanceActionsController(self),
                           server_events_controller.ServerEventsController(self),
                           server_password_controller.ServerPasswordController(self),
                           server_diagnostics_controller.ServerDiagnosticsController(self)):
            table.extend(controller.routes())
        self.router = wsgi_router.Router(table, before=self._prepare_context)

    def _prepare_context(self, req: wsgi_request.Request) -> None:
        self.enforcer.bind(req.context)

    @staticmethod
    def _strip_project(environ: dict[str, Any]) -> None:
        """Serve ``/v2.1/{project_id}/flavors`` as ``/v2.1/flavors``, for the caller's
        own project only (Nova answers another project id with 400)."""
        parts = environ.get("PATH_INFO", "").split("/")
        if len(parts) < 4 or parts[2] in RESOURCES or parts[3] not in RESOURCES:
            return
        project_id = parts[2]
        ctxt = environ.get(wsgi_request.CONTEXT_KEY)
        own = getattr(ctxt, "project_id", None)
        if own != project_id:
            raise exception.ProjectIdMismatch(project_id=project_id, context_project_id=own)
        environ["PATH_INFO"] = "/".join(parts[:2] + parts[3:])
        environ[PROJECT_PREFIX_KEY] = "/" + project_id

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path != "/v2.1" and not path.startswith("/v2.1/"):
            return self.router(environ, start_response)
        # A malformed or unsupported version is answered without version headers.
        version = microversion.negotiate(wsgi_request.Request(environ).headers)
        environ[microversion.ENV_KEY] = version
        extra = microversion.response_headers(version)

        def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, headers + extra, exc_info)

        try:
            self._strip_project(environ)
            return self.router(environ, _start)
        except common_exception.Error as err:
            if err.code >= 500 and not isinstance(err, common_exception.NotImplementedYet):
                raise
            # Errors carry the version headers too; 5xx go to the fault filter to be
            # logged, but a 501 is an answer (a driver or node without the feature).
            LOG.info("%(method)s %(path)s -> %(code)s: %(msg)s",
                     {"method": environ.get("REQUEST_METHOD"), "path": path,
                      "code": err.code, "msg": err.message})
            return fault.error_response("nova", err)(environ, _start)


def app_factory(global_conf: dict[str, Any], **local_conf: Any) -> ComputeApp:
    return ComputeApp(common_service.conf_from_global(global_conf))
