"""/v3/credentials and /v3/users/{user_id}/application_credentials."""
from __future__ import annotations

import datetime
from typing import Any

from common import exception as common_exc
from identity.api import views
from identity.api.controllers import base
from identity.api.schemas import entities as schemas


class CredentialsController(base.Controller):
    def _target(self, cred: Any) -> dict[str, Any]:
        return {"target": {"credential": {"user_id": cred.user_id}}}

    def create(self, req: base.Request) -> Any:
        self.authenticated(req)
        values = self.body(req, "credential", schemas.CREDENTIAL_CREATE)
        self.authorize(req, "identity:create_credential",
                       {"target": {"credential": {"user_id": values["user_id"]}}})
        cred = self.app.credentials.create_credential(values)
        return base.json_response({"credential": views.credential(self.base(req), cred)}, 201)

    def index(self, req: base.Request) -> Any:
        ctx = self.authenticated(req)
        filters = self.filters(req, "user_id", "type")
        creds = self.app.credentials.list_credentials(**filters)
        visible = [c for c in creds if ctx.can("identity:list_credentials", self._target(c),
                                               fatal=False)]
        return self.collection(req, "credentials",
                               [views.credential(self.base(req), c) for c in visible])

    def _load(self, req: base.Request, cred_id: str, action: str) -> Any:
        self.authenticated(req)
        cred = self.app.credentials.get_credential(cred_id)
        self.authorize(req, action, self._target(cred))
        return cred

    def show(self, req: base.Request, cred_id: str) -> Any:
        cred = self._load(req, cred_id, "identity:get_credential")
        return base.json_response({"credential": views.credential(self.base(req), cred)})

    def update(self, req: base.Request, cred_id: str) -> Any:
        self._load(req, cred_id, "identity:update_credential")
        values = self.body(req, "credential", schemas.CREDENTIAL_UPDATE)
        cred = self.app.credentials.update_credential(cred_id, values)
        return base.json_response({"credential": views.credential(self.base(req), cred)})

    def delete(self, req: base.Request, cred_id: str) -> Any:
        self._load(req, cred_id, "identity:delete_credential")
        self.app.credentials.delete_credential(cred_id)
        return base.empty_response()

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v3/credentials", {"GET": self.index, "POST": self.create}),
                ("/v3/credentials/{cred_id}", {"GET": self.show, "PATCH": self.update,
                                               "DELETE": self.delete})]


class AppCredsController(base.Controller):
    def _owner(self, req: base.Request, user_id: str) -> Any:
        return self.authorize(req, "identity:app_cred_owner",
                              {"target": {"user": {"id": user_id}}})

    def create(self, req: base.Request, user_id: str) -> Any:
        ctx = self._owner(req, user_id)
        if ctx.user_id != user_id:
            raise common_exc.Forbidden("Application credentials are created by their owner.")
        token = req.environ["stratus.token"]
        if token.app_cred is not None:
            raise common_exc.Forbidden("An application credential cannot create another.")
        if token.project is None:
            raise common_exc.Forbidden("A project-scoped token is required.")
        values = self.body(req, "application_credential", schemas.APP_CRED_CREATE)
        values["expires_at"] = self._expiry(values.get("expires_at"))
        token_roles = {r["id"]: r for r in token.roles}
        wanted = values.get("roles") or list(token_roles.values())
        role_ids = []
        for ref in wanted:
            match = [r for r in token.roles if r["id"] == ref.get("id")
                     or r["name"] == ref.get("name")]
            if not match:
                raise common_exc.Invalid("Requested role %s is not held in the current "
                                         "scope." % (ref.get("id") or ref.get("name")))
            role_ids.append(match[0]["id"])
        app, secret = self.app.credentials.create_app_cred(user_id, token.project["id"],
                                                           values, role_ids)
        body = views.app_cred(self.base(req), app, self.app.assignments.all_roles(),
                              self.app.credentials.access_rules(user_id))
        body["secret"] = secret
        return base.json_response({"application_credential": body}, 201)

    @staticmethod
    def _expiry(value: str | None) -> datetime.datetime | None:
        if not value:
            return None
        try:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise common_exc.ValidationError(field="expires_at", detail="not a date-time")
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        if parsed <= now:
            raise common_exc.ValidationError(field="expires_at",
                                             detail="The expiration is in the past.")
        return parsed

    def index(self, req: base.Request, user_id: str) -> Any:
        self._owner(req, user_id)
        apps = self.app.credentials.list_app_creds(user_id, name=req.GET.get("name"))
        roles = self.app.assignments.all_roles()
        rules = self.app.credentials.access_rules(user_id)
        return self.collection(req, "application_credentials",
                               [views.app_cred(self.base(req), a, roles, rules) for a in apps])

    def show(self, req: base.Request, user_id: str, app_id: str) -> Any:
        self._owner(req, user_id)
        app = self.app.credentials.get_app_cred(app_id, user_id)
        body = views.app_cred(self.base(req), app, self.app.assignments.all_roles(),
                              self.app.credentials.access_rules(user_id))
        return base.json_response({"application_credential": body})

    def delete(self, req: base.Request, user_id: str, app_id: str) -> Any:
        self._owner(req, user_id)
        self.app.credentials.delete_app_cred(app_id, user_id)
        self.app.revocations.revoke(app_cred_id=app_id)
        return base.empty_response()

    def rules(self, req: base.Request, user_id: str) -> Any:
        self._owner(req, user_id)
        rules = self.app.credentials.access_rules(user_id).values()
        return self.collection(req, "access_rules",
                               [views.access_rule(self.base(req), r) for r in rules])

    def rule(self, req: base.Request, user_id: str, rule_id: str) -> Any:
        self._owner(req, user_id)
        if req.method == "DELETE":
            self.app.credentials.delete_access_rule(user_id, rule_id)
            return base.empty_response()
        rule = self.app.credentials.get_access_rule(user_id, rule_id)
        return base.json_response({"access_rule": views.access_rule(self.base(req), rule)})

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        path = "/v3/users/{user_id}/application_credentials"
        rules = "/v3/users/{user_id}/access_rules"
        return [(path, {"GET": self.index, "POST": self.create}),
                (path + "/{app_id}", {"GET": self.show, "DELETE": self.delete}),
                (rules, {"GET": self.rules}),
                (rules + "/{rule_id}", {"GET": self.rule, "DELETE": self.rule})]
