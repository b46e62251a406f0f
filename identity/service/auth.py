"""Turns a POST /v3/auth/tokens body into a token: who, how, which scope."""
from __future__ import annotations

from typing import Any

from common import exception as common_exc
from identity import exception
from identity.db import models as M
from identity.tokens import payload as P
from identity.tokens import provider as token_provider

_AUTH = "The request you have made requires authentication."


class AuthService:
    def __init__(self, provider: token_provider.TokenProvider) -> None:
        self.p = provider

    def authenticate(self, auth: dict[str, Any]) -> token_provider.Token:
        """Authenticate ``auth`` (the body's ``auth`` object) and issue a token.

        :raises: AuthFailed (401) for bad credentials or scope; ValidationError (400)
            for malformed requests.
        """
        identity = auth["identity"]
        methods = list(identity["methods"])
        parent: P.TokenPayload | None = None
        app = None
        if "password" in methods:
            user = self._password_user(identity.get("password") or {})
        elif "token" in methods:
            parent = self._token_parent(identity.get("token") or {})
            user = self.p.users.get_user(parent.user_id)
        elif "application_credential" in methods:
            app = self._app_cred(identity.get("application_credential") or {})
            user = self.p.users.get_user(app.user_id)
        else:
            raise exception.AuthFailed("Attempted to authenticate with an unsupported method.")
        self._check_user(user)
        if parent is not None:
            methods = list(dict.fromkeys(parent.methods + methods))
            if parent.app_cred_id:
                raise common_exc.Forbidden("Cannot rescope a token issued for an "
                                           "application credential.")
        if app is not None:
            if auth.get("scope"):
                raise exception.AuthFailed("Application credentials cannot request a scope.")
            return self.p.issue(user.id, methods, P.PROJECT, app.project_id,
                                app_cred_id=app.id)
        scope_type, scope_id = self._scope(auth.get("scope"), user)
        if scope_type == P.UNSCOPED and parent is not None and parent.scope_type != P.UNSCOPED \
                and not auth.get("scope"):
            scope_type, scope_id = parent.scope_type, parent.scope_id
        self._check_roles(user.id, scope_type, scope_id)
        return self.p.issue(user.id, methods, scope_type, scope_id, parent=parent)

    def _password_user(self, body: dict[str, Any]) -> M.User:
        user_ref = body.get("user") or {}
        try:
            if user_ref.get("id"):
                user = self.p.users.get_user(user_ref["id"])
            elif user_ref.get("name"):
                domain = self._domain(user_ref.get("domain"))
                user = self.p.users.find_user(user_ref["name"], domain.id)
            else:
                raise common_exc.ValidationError(field="user", detail="'id' or 'name' "
                                                 "(with 'domain') is required")
        except exception.NotFound:
            raise exception.AuthFailed(_AUTH)
        self.p.users.authenticate(user, user_ref.get("password"))
        return user

    def _domain(self, ref: dict[str, Any] | None) -> M.Domain:
        if not ref:
            raise common_exc.ValidationError(field="domain",
                                             detail="a domain is required with a name")
        try:
            if ref.get("id"):
                domain = self.p.resources.get_domain(ref["id"])
            elif ref.get("name"):
                domain = self.p.resources.get_domain_by_name(ref["name"])
            else:
                raise common_exc.ValidationError(field="domain", detail="'id' or 'name' required")
        except exception.NotFound:
            raise exception.AuthFailed(_AUTH)
        if not domain.enabled:
            raise exception.AuthFailed(_AUTH)
        return domain

    def _token_parent(self, body: dict[str, Any]) -> P.TokenPayload:
        token_id = body.get("id")
        if not token_id or not isinstance(token_id, str):
            raise common_exc.ValidationError(field="token.id", detail="is required")
        try:
            return self.p.validate(token_id).payload
        except exception.NotFound:
            raise exception.AuthFailed("Could not find token.")

    def _app_cred(self, body: dict[str, Any]) -> Any:
        apps = self.p.apps
        try:
            if body.get("id"):
                app = apps.get_app_cred(body["id"])
            elif body.get("name"):
                user_ref = body.get("user") or {}
                if user_ref.get("id"):
                    user_id = user_ref["id"]
                else:
                    domain = self._domain(user_ref.get("domain"))
                    user_id = self.p.users.find_user(user_ref.get("name", ""), domain.id).id
                app = apps.find_app_cred(body["name"], user_id)
            else:
                raise common_exc.ValidationError(field="application_credential",
                                                 detail="'id' or 'name' is required")
        except exception.NotFound:
            raise exception.AuthFailed(_AUTH)
        apps.check_app_cred(app, body.get("secret"))
        return app

    def _check_user(self, user: M.User) -> None:
        if not user.enabled:
            raise exception.AuthFailed(_AUTH)
        domain = self.p.resources.get_domain(user.domain_id)
        if not domain.enabled:
            raise exception.AuthFailed(_AUTH)

    def _scope(self, scope: Any, user: M.User) -> tuple[str, str | None]:
        if not scope:
            if user.default_project_id:
                try:
                    project = self.p.resources.get_project(user.default_project_id)
                except exception.NotFound:
                    return P.UNSCOPED, None
                if project.enabled and self.p.effective.role_ids_on(
                        user.id, "project", project.id):
                    return P.PROJECT, project.id
            return P.UNSCOPED, None
        if isinstance(scope, str):
            if scope != "unscoped":
                raise common_exc.ValidationError(field="scope",
                                                 detail="the only string scope is 'unscoped'")
            return P.UNSCOPED, None
        if "system" in scope:
            return P.SYSTEM, M.SYSTEM_TARGET
        if "project" in scope:
            ref = scope["project"] or {}
            try:
                if ref.get("id"):
                    project = self.p.resources.get_project(ref["id"])
                else:
                    domain = self._domain(ref.get("domain"))
                    found = self.p.resources.list_projects(name=ref.get("name"),
                                                           domain_id=domain.id)
                    if not found:
                        raise exception.ProjectNotFound(id=ref.get("name"))
                    project = found[0]
            except exception.NotFound:
                raise exception.AuthFailed(_AUTH)
            if not project.enabled:
                raise exception.AuthFailed("Project %s is disabled." % project.id)
            self._domain({"id": project.domain_id})
            return P.PROJECT, project.id
        if "domain" in scope:
            return P.DOMAIN, self._domain(scope["domain"]).id
        raise common_exc.ValidationError(field="scope", detail="unknown scope")

    def _check_roles(self, user_id: str, scope_type: str, scope_id: str | None) -> None:
        if scope_type == P.UNSCOPED:
            return
        kind = {P.PROJECT: "project", P.DOMAIN: "domain", P.SYSTEM: "system"}[scope_type]
        if not self.p.effective.role_ids_on(user_id, kind, scope_id or ""):
            raise exception.AuthFailed("User %s has no access to %s %s"
                                       % (user_id, kind, scope_id))
