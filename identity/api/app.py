"""The identity WSGI app (paste ``app_factory``): services wired to the route table."""
from __future__ import annotations

from typing import Any

from oslo_config import cfg

from common import context as common_context
from common import policy as common_policy
from common import service as common_service
from common.db import engine
from common.wsgi import request as wsgi_request
from common.wsgi import router as wsgi_router
from common.wsgi.middleware import request_id as request_id_mw
from identity import exception
from identity import policies
from identity.api import routes
from identity.service import assignment
from identity.service import auth
from identity.service import cache as cache_mod
from identity.service import catalog
from identity.service import credentials
from identity.service import effective
from identity.service import resource
from identity.service import revoke
from identity.service import users
from identity.service.base import Store
from identity.tokens import provider


class IdentityApp:
    """Holds the services of one identity API process and dispatches requests."""

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database | None = None) -> None:
        self.conf = conf
        self.db = db or engine.Database.from_conf(conf, "identity")
        self.cache = cache_mod.Cache(conf.identity.cache_time)
        store = Store(self.db, self.cache)
        self.resources = resource.ResourceService(store)
        self.users = users.UserService(conf, store)
        self.assignments = assignment.AssignmentService(store)
        self.effective = effective.EffectiveService(store)
        self.catalogs = catalog.CatalogService(store)
        self.credentials = credentials.CredentialService(conf, store)
        self.revocations = revoke.RevokeService(store, conf.token.revocation_cache_time,
                                                conf.token.expiration
                                                + conf.token.allow_expired_window)
        self.tokens = provider.TokenProvider(conf, self.resources, self.users, self.assignments,
                                             self.effective, self.revocations, self.cache,
                                             self.credentials)
        self.auth = auth.AuthService(self.tokens)
        self.enforcer = common_policy.Enforcer(conf, policies.list_rules())
        self.router = wsgi_router.Router(routes.build(self), before=self._set_context)

    def catalog_for(self, project_id: str | None) -> list[dict[str, Any]]:
        return self.cache.get_or_load(("catalog", project_id),
                                      lambda: self.catalogs.catalog(project_id))

    def _set_context(self, req: wsgi_request.Request) -> None:
        environ = req.environ
        kwargs: dict[str, Any] = {
            "request_id": environ.get(request_id_mw.ENV_REQUEST_ID),
            "global_request_id": environ.get(request_id_mw.ENV_GLOBAL_REQUEST_ID),
            "enforcer": self.enforcer, "overwrite": True}
        token_id = req.headers.get("X-Auth-Token")
        if token_id:
            try:
                token = self.tokens.validate(token_id)
            except exception.NotFound:
                raise exception.AuthFailed("The request you have made requires authentication.")
            environ["stratus.token"] = token
            kwargs.update(self._token_context(token, token_id))
        environ[wsgi_request.CONTEXT_KEY] = common_context.RequestContext(**kwargs)

    @staticmethod
    def _token_context(token: provider.Token, token_id: str) -> dict[str, Any]:
        values: dict[str, Any] = {
            "auth_token": token_id, "user_id": token.payload.user_id,
            "user_domain_id": token.user["domain"]["id"], "roles": token.role_names,
            "is_admin_project": True}
        if token.project is not None:
            values["project_id"] = token.project["id"]
            values["project_domain_id"] = token.project["domain"]["id"]
        elif token.domain is not None:
            values["domain_id"] = token.domain["id"]
        elif token.system:
            values["system_scope"] = "all"
        return values

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.router(environ, start_response)


def app_factory(global_conf: dict[str, Any], **local_conf: Any) -> IdentityApp:
    return IdentityApp(common_service.conf_from_global(global_conf))
