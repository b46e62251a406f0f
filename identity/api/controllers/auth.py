"""/v3/auth: tokens (issue, validate, revoke), catalog, projects, domains, system."""
from __future__ import annotations

from typing import Any

from common import exception as common_exc
from identity.api import views
from identity.api.controllers import base
from identity.api.schemas import entities as schemas

SUBJECT = "X-Subject-Token"


class AuthController(base.Controller):
    def issue(self, req: base.Request) -> Any:
        auth = self.body(req, "auth", schemas.AUTH)
        token = self.app.auth.authenticate(auth)
        return self._token_response(req, token, status=201)

    def _token_response(self, req: base.Request, token: Any, status: int = 200) -> Any:
        catalog = None
        if req.param_bool("nocatalog") is not True and token.payload.scope_type != "unscoped":
            project_id = token.project["id"] if token.project else None
            catalog = self.app.catalog_for(project_id)
        return base.json_response(views.token(token, catalog), status=status,
                                  headers={SUBJECT: token.id})

    def _subject(self, req: base.Request) -> Any:
        subject = req.headers.get(SUBJECT)
        if not subject:
            raise common_exc.ValidationError(field=SUBJECT, detail="header is required")
        allow_expired = bool(req.param_bool("allow_expired"))
        return self.app.tokens.validate(subject, allow_expired=allow_expired)

    def validate(self, req: base.Request) -> Any:
        ctx = self.authenticated(req)
        token = self._subject(req)
        ctx.can("identity:validate_token",
                {"target": {"token": {"user_id": token.payload.user_id}}})
        resp = self._token_response(req, token)
        if req.method == "HEAD":
            resp.body = b""
        return resp

    def revoke(self, req: base.Request) -> Any:
        ctx = self.authenticated(req)
        token = self._subject(req)
        ctx.can("identity:revoke_token",
                {"target": {"token": {"user_id": token.payload.user_id}}})
        self.app.revocations.revoke(audit_id=token.payload.audit_ids[0])
        return base.empty_response()

    def _caller(self, req: base.Request) -> Any:
        self.authenticated(req)
        return req.environ["stratus.token"]

    def catalog(self, req: base.Request) -> Any:
        token = self._caller(req)
        if token.project is None:
            raise common_exc.Forbidden("A project-scoped token is required to get a catalog.")
        project_id = token.project["id"] if token.project else None
        return base.json_response({"catalog": self.app.catalog_for(project_id),
                                   "links": {"self": self.base(req) + "/v3/auth/catalog"}})

    def projects(self, req: base.Request) -> Any:
        token = self._caller(req)
        ids = self.app.effective.scopes_of(token.payload.user_id, "project")
        projects = [p for p in self.app.resources.list_projects(ids=ids, enabled=True)]
        return self.collection(req, "projects", [views.project(self.base(req), p)
                                                 for p in projects])

    def domains(self, req: base.Request) -> Any:
        token = self._caller(req)
        ids = set(self.app.effective.scopes_of(token.payload.user_id, "domain"))
        domains = [d for d in self.app.resources.list_domains(enabled=True) if d.id in ids]
        return self.collection(req, "domains", [views.domain(self.base(req), d) for d in domains])

    def system(self, req: base.Request) -> Any:
        token = self._caller(req)
        has = bool(self.app.effective.role_ids_on(token.payload.user_id, "system", "system"))
        return base.json_response({"system": [{"all": True}] if has else [],
                                   "links": {"self": self.base(req) + "/v3/auth/system"}})

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            ("/v3/auth/tokens", {"POST": self.issue, "GET": self.validate,
                                 "HEAD": self.validate, "DELETE": self.revoke}),
            ("/v3/auth/catalog", {"GET": self.catalog}),
            ("/v3/auth/projects", {"GET": self.projects}),
            ("/v3/auth/domains", {"GET": self.domains}),
            ("/v3/auth/system", {"GET": self.system}),
        ]
