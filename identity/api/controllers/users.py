"""/v3/users (password, projects, groups) and /v3/groups (membership)."""
from __future__ import annotations

from typing import Any

from common import exception as common_exc
from identity import exception
from identity.api import views
from identity.api.controllers import base
from identity.api.schemas import entities as schemas


class UsersController(base.Controller):
    def _target(self, user: Any) -> dict[str, Any]:
        return {"target": {"user": {"id": user.id, "domain_id": user.domain_id}},
                "target.domain_id": user.domain_id}

    def create(self, req: base.Request) -> Any:
        ctx = self.authenticated(req)
        values = self.body(req, "user", schemas.USER_CREATE)
        values.setdefault("domain_id", ctx.project_domain_id or ctx.domain_id
                          or self.conf.identity.default_domain_id)
        self.authorize(req, "identity:create_user", {"target.domain_id": values["domain_id"]})
        self._check_default_project(values.get("default_project_id"))
        user = self.app.users.create_user(values)
        return base.json_response({"user": views.user(self.base(req), user)}, 201)

    def _check_default_project(self, project_id: str | None) -> None:
        if project_id:
            try:
                self.app.resources.get_project(project_id)
            except exception.NotFound:
                raise common_exc.ValidationError(field="default_project_id",
                                                 detail="Could not find project: %s."
                                                 % project_id)

    def index(self, req: base.Request) -> Any:
        filters = self.filters(req, "name", "enabled", "domain_id")
        self.authorize(req, "identity:list_users", {"target.domain_id": filters.get("domain_id")})
        users = self.app.users.list_users(**filters)
        return self.collection(req, "users", [views.user(self.base(req), u) for u in users])

    def show(self, req: base.Request, user_id: str) -> Any:
        self.authenticated(req)
        user = self.app.users.get_user(user_id)
        self.authorize(req, "identity:get_user", self._target(user))
        return base.json_response({"user": views.user(self.base(req), user)})

    def update(self, req: base.Request, user_id: str) -> Any:
        self.authenticated(req)
        user = self.app.users.get_user(user_id)
        self.authorize(req, "identity:update_user", self._target(user))
        values = self.body(req, "user", schemas.USER_UPDATE)
        if values.get("domain_id") == user.domain_id:
            values.pop("domain_id")
        self._check_default_project(values.get("default_project_id"))
        user, revoke = self.app.users.update_user(user_id, values)
        if revoke:
            self.app.revocations.revoke(user_id=user_id)
        return base.json_response({"user": views.user(self.base(req), user)})

    def delete(self, req: base.Request, user_id: str) -> Any:
        self.authenticated(req)
        user = self.app.users.get_user(user_id)
        self.authorize(req, "identity:delete_user", self._target(user))
        self.app.users.delete_user(user_id)
        self.app.revocations.revoke(user_id=user_id)
        return base.empty_response()

    def change_password(self, req: base.Request, user_id: str) -> Any:
        # No token needed: the original password is the proof (so that a user
        # whose password expired can still change it), as Keystone does.
        if req.context is not None and req.context.user_id:
            req.context.can("identity:change_password", {"user_id": user_id})
        values = self.body(req, "user", schemas.PASSWORD_CHANGE)
        user = self.app.users.get_user(user_id)
        try:
            self.app.users.authenticate(user, values["original_password"])
        except exception.AuthFailed:
            raise exception.AuthFailed("The request you have made requires authentication.")
        self.app.users.update_user(user_id, {"password": values["password"]})
        self.app.revocations.revoke(user_id=user_id)
        return base.empty_response()

    def projects(self, req: base.Request, user_id: str) -> Any:
        self.authenticated(req)
        user = self.app.users.get_user(user_id)
        self.authorize(req, "identity:list_user_projects", self._target(user))
        ids = self.app.effective.scopes_of(user_id, "project")
        filters = self.filters(req, "name", "enabled", "domain_id")
        projects = self.app.resources.list_projects(ids=ids, **filters)
        return self.collection(req, "projects",
                               [views.project(self.base(req), p) for p in projects])

    def groups(self, req: base.Request, user_id: str) -> Any:
        self.authenticated(req)
        user = self.app.users.get_user(user_id)
        self.authorize(req, "identity:list_groups_for_user", self._target(user))
        groups = self.app.users.groups_of_user(user_id, **self.filters(req, "name", "domain_id"))
        return self.collection(req, "groups", [views.group(self.base(req), g) for g in groups])

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v3/users", {"GET": self.index, "POST": self.create}),
                ("/v3/users/{user_id}", {"GET": self.show, "PATCH": self.update,
                                         "DELETE": self.delete}),
                ("/v3/users/{user_id}/password", {"POST": self.change_password}),
                ("/v3/users/{user_id}/projects", {"GET": self.projects}),
                ("/v3/users/{user_id}/groups", {"GET": self.groups})]


class GroupsController(base.Controller):
    def _target(self, group: Any) -> dict[str, Any]:
        return {"target": {"group": {"id": group.id, "domain_id": group.domain_id}},
                "target.domain_id": group.domain_id}

    def create(self, req: base.Request) -> Any:
        ctx = self.authenticated(req)
        values = self.body(req, "group", schemas.GROUP_CREATE)
        values.setdefault("domain_id", ctx.project_domain_id or ctx.domain_id
                          or self.conf.identity.default_domain_id)
        self.authorize(req, "identity:create_group", {"target.domain_id": values["domain_id"]})
        group = self.app.users.create_group(values)
        return base.json_response({"group": views.group(self.base(req), group)}, 201)

    def index(self, req: base.Request) -> Any:
        filters = self.filters(req, "name", "domain_id")
        self.authorize(req, "identity:list_groups", {"target.domain_id": filters.get("domain_id")})
        groups = self.app.users.list_groups(**filters)
        return self.collection(req, "groups", [views.group(self.base(req), g) for g in groups])

    def show(self, req: base.Request, group_id: str) -> Any:
        self.authenticated(req)
        group = self.app.users.get_group(group_id)
        self.authorize(req, "identity:get_group", self._target(group))
        return base.json_response({"group": views.group(self.base(req), group)})

    def update(self, req: base.Request, group_id: str) -> Any:
        self.authenticated(req)
        group = self.app.users.get_group(group_id)
        self.authorize(req, "identity:update_group", self._target(group))
        values = self.body(req, "group", schemas.GROUP_UPDATE)
        if values.get("domain_id") == group.domain_id:
            values.pop("domain_id")
        group = self.app.users.update_group(group_id, values)
        return base.json_response({"group": views.group(self.base(req), group)})

    def delete(self, req: base.Request, group_id: str) -> Any:
        self.authenticated(req)
        group = self.app.users.get_group(group_id)
        self.authorize(req, "identity:delete_group", self._target(group))
        # Tokens carry no roles (they are computed at validation), so former
        # members need no revocation: their next validation sees the change.
        self.app.users.delete_group(group_id)
        return base.empty_response()

    def members(self, req: base.Request, group_id: str) -> Any:
        self.authenticated(req)
        group = self.app.users.get_group(group_id)
        self.authorize(req, "identity:list_users_in_group", self._target(group))
        users = self.app.users.list_members(group_id, **self.filters(req, "name", "enabled",
                                                                      "domain_id"))
        return self.collection(req, "users", [views.user(self.base(req), u) for u in users])

    def member(self, req: base.Request, group_id: str, user_id: str) -> Any:
        self.authenticated(req)
        group = self.app.users.get_group(group_id)
        if req.method in ("GET", "HEAD"):
            self.authorize(req, "identity:check_user_in_group", self._target(group))
            self.app.users.check_member(group_id, user_id)
        elif req.method == "PUT":
            self.authorize(req, "identity:add_user_to_group", self._target(group))
            self.app.users.add_member(group_id, user_id)
        else:
            self.authorize(req, "identity:remove_user_from_group", self._target(group))
            self.app.users.remove_member(group_id, user_id)
        return base.empty_response()

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v3/groups", {"GET": self.index, "POST": self.create}),
                ("/v3/groups/{group_id}", {"GET": self.show, "PATCH": self.update,
                                           "DELETE": self.delete}),
                ("/v3/groups/{group_id}/users", {"GET": self.members}),
                ("/v3/groups/{group_id}/users/{user_id}", {
                    "HEAD": self.member, "GET": self.member, "PUT": self.member,
                    "DELETE": self.member})]
