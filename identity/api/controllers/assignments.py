"""/v3/roles, implied roles, grants (project, domain, system, inherited) and
/v3/role_assignments."""
from __future__ import annotations

from typing import Any

from common import exception as common_exc
from identity.api import views
from identity.api.controllers import base
from identity.api.schemas import entities as schemas
from identity.service import assignment as M


class RolesController(base.Controller):
    def create(self, req: base.Request) -> Any:
        self.authorize(req, "identity:create_role")
        values = self.body(req, "role", schemas.ROLE_CREATE)
        role = self.app.assignments.create_role(values)
        return base.json_response({"role": views.role(self.base(req), role)}, 201)

    def index(self, req: base.Request) -> Any:
        domain_id = req.GET.get("domain_id")
        self.authorize(req, "identity:list_roles", {"target.domain_id": domain_id})
        roles = self.app.assignments.list_roles(name=req.GET.get("name"), domain_id=domain_id)
        return self.collection(req, "roles", [views.role(self.base(req), r) for r in roles])

    def show(self, req: base.Request, role_id: str) -> Any:
        self.authenticated(req)
        role = self.app.assignments.get_role(role_id)
        self.authorize(req, "identity:get_role", {"target.domain_id": role.domain_id})
        return base.json_response({"role": views.role(self.base(req), role)})

    def update(self, req: base.Request, role_id: str) -> Any:
        self.authorize(req, "identity:update_role")
        values = self.body(req, "role", schemas.ROLE_UPDATE)
        role = self.app.assignments.update_role(role_id, values)
        return base.json_response({"role": views.role(self.base(req), role)})

    def delete(self, req: base.Request, role_id: str) -> Any:
        self.authorize(req, "identity:delete_role")
        self.app.assignments.delete_role(role_id)
        return base.empty_response()

    def _inference(self, req: base.Request, prior: Any, implied: list[Any]) -> dict[str, Any]:
        base_url = self.base(req)
        return {"prior_role": views.role_ref(base_url, prior),
                "implies": [views.role_ref(base_url, r) for r in implied]}

    def implies(self, req: base.Request, prior_role_id: str) -> Any:
        self.authorize(req, "identity:list_implied_roles")
        pairs = self.app.assignments.list_implied(prior_role_id)
        prior = self.app.assignments.get_role(prior_role_id)
        body = {"role_inference": self._inference(req, prior, [i for _p, i in pairs]),
                "links": {"self": "%s/v3/roles/%s/implies" % (self.base(req), prior_role_id)}}
        return base.json_response(body)

    def implied(self, req: base.Request, prior_role_id: str, implied_role_id: str) -> Any:
        url = "%s/v3/roles/%s/implies/%s" % (self.base(req), prior_role_id, implied_role_id)
        if req.method == "PUT":
            self.authorize(req, "identity:create_implied_role")
            prior, implied = self.app.assignments.create_implied(prior_role_id, implied_role_id)
            status = 201
        elif req.method == "DELETE":
            self.authorize(req, "identity:delete_implied_role")
            self.app.assignments.delete_implied(prior_role_id, implied_role_id)
            return base.empty_response()
        else:
            self.authorize(req, "identity:list_implied_roles")
            prior, implied = self.app.assignments.get_implied(prior_role_id, implied_role_id)
            if req.method == "HEAD":
                return base.empty_response()
            status = 200
        base_url = self.base(req)
        body = {"role_inference": {"prior_role": views.role_ref(base_url, prior),
                                   "implies": views.role_ref(base_url, implied)},
                "links": {"self": url}}
        return base.json_response(body, status)

    def inferences(self, req: base.Request) -> Any:
        self.authorize(req, "identity:list_implied_roles")
        grouped: dict[str, tuple[Any, list[Any]]] = {}
        for prior, implied in self.app.assignments.list_implied():
            grouped.setdefault(prior.id, (prior, []))[1].append(implied)
        body = {"role_inferences": [self._inference(req, p, i) for p, i in grouped.values()],
                "links": {"self": self.base(req) + "/v3/role_inferences"}}
        return base.json_response(body)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v3/roles", {"GET": self.index, "POST": self.create}),
                ("/v3/roles/{role_id}", {"GET": self.show, "PATCH": self.update,
                                         "DELETE": self.delete}),
                ("/v3/roles/{prior_role_id}/implies", {"GET": self.implies}),
                ("/v3/roles/{prior_role_id}/implies/{implied_role_id}", {
                    "PUT": self.implied, "GET": self.implied, "HEAD": self.implied,
                    "DELETE": self.implied}),
                ("/v3/role_inferences", {"GET": self.inferences})]


_KINDS = {("projects", "users"): M.USER_PROJECT, ("projects", "groups"): M.GROUP_PROJECT,
          ("domains", "users"): M.USER_DOMAIN, ("domains", "groups"): M.GROUP_DOMAIN,
          ("system", "users"): M.USER_SYSTEM, ("system", "groups"): M.GROUP_SYSTEM}


class GrantsController(base.Controller):
    """PUT/HEAD/DELETE a grant and list grants, for every target and actor kind."""

    def _handle(self, req: base.Request, target: str, actor: str, target_id: str,
                actor_id: str, role_id: str | None, inherited: bool) -> Any:
        kind = _KINDS[(target, actor)]
        system = target == "system"
        policy_target = {} if system else {"target.domain_id": self._domain_of(target, target_id)}
        svc = self.app.assignments
        if role_id is None:
            self.authorize(req, "identity:list_system_grants" if system
                           else "identity:list_grants", policy_target)
            roles = svc.list_grants(kind, actor_id, target_id, inherited)
            return self.collection(req, "roles", [views.role(self.base(req), r) for r in roles])
        if req.method in ("GET", "HEAD"):
            self.authorize(req, "identity:list_system_grants" if system
                           else "identity:check_grant", policy_target)
            svc.check_grant(kind, actor_id, target_id, role_id, inherited)
        elif req.method == "PUT":
            self.authorize(req, "identity:create_system_grant" if system
                           else "identity:create_grant", policy_target)
            svc.grant(kind, actor_id, target_id, role_id, inherited)
        else:
            self.authorize(req, "identity:revoke_system_grant" if system
                           else "identity:revoke_grant", policy_target)
            svc.revoke(kind, actor_id, target_id, role_id, inherited)
        return base.empty_response()

    def _domain_of(self, target: str, target_id: str) -> str | None:
        if target == "domains":
            return target_id
        try:
            return str(self.app.resources.get_project(target_id).domain_id)
        except common_exc.NotFound:
            return None

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        table: list[tuple[str, dict[str, Any]]] = []
        for target, actor in _KINDS:
            table.extend(self._routes_for(target, actor))
        return table

    def _routes_for(self, target: str, actor: str) -> list[tuple[str, dict[str, Any]]]:
        methods = ("GET", "HEAD", "PUT", "DELETE")

        def one(inherited: bool) -> Any:
            def action(req: base.Request, actor_id: str, role_id: str | None = None,
                       target_id: str = M.SYSTEM_TARGET) -> Any:
                return self._handle(req, target, actor, target_id, actor_id, role_id, inherited)
            return action

        prefix = ("/v3/system" if target == "system"
                  else "/v3/%s/{target_id}" % target)
        routes = [(prefix + "/%s/{actor_id}/roles" % actor, {"GET": one(False)}),
                  (prefix + "/%s/{actor_id}/roles/{role_id}" % actor,
                   {m: one(False) for m in methods})]
        if target != "system":
            inherit = "/v3/OS-INHERIT/%s/{target_id}/%s/{actor_id}/roles" % (target, actor)
            routes += [(inherit + "/inherited_to_projects", {"GET": one(True)}),
                       (inherit + "/{role_id}/inherited_to_projects",
                        {m: one(True) for m in methods})]
        return routes


class RoleAssignmentsController(base.Controller):
    def index(self, req: base.Request) -> Any:
        q = req.GET
        effective = bool(req.param_bool("effective"))
        include_names = bool(req.param_bool("include_names"))
        domain_filter = q.get("scope.domain.id")
        self.authorize(req, "identity:list_role_assignments", {"target.domain_id": domain_filter})
        if effective and q.get("group.id"):
            raise common_exc.ValidationError(field="group.id", detail="cannot be combined "
                                             "with effective")
        rows = self.app.effective.compute(user_id=q.get("user.id"), group_id=q.get("group.id"),
                                          effective=effective)
        rows = [r for r in rows if self._keep(r, q, req)]
        namer = _Namer(self.app) if include_names else None
        items = [self._render(req, r, namer) for r in rows]
        return self.collection(req, "role_assignments", items)

    def _keep(self, row: Any, q: Any, req: base.Request) -> bool:
        if q.get("user.id") and not (row.actor_type == "user" and row.actor_id == q["user.id"]):
            return False
        if q.get("group.id") and not (row.actor_type == "group"
                                      and row.actor_id == q["group.id"]):
            return False
        if q.get("role.id") and row.role_id != q["role.id"]:
            return False
        project = q.get("scope.project.id")
        if project and not (row.scope_type == "project" and row.scope_id == project):
            return False
        domain = q.get("scope.domain.id")
        if domain and not (row.scope_type == "domain" and row.scope_id == domain):
            return False
        if q.get("scope.system") and row.scope_type != "system":
            return False
        if q.get("scope.OS-INHERIT:inherited_to") and not row.inherited:
            return False
        return True

    def _render(self, req: base.Request, row: Any, namer: "_Namer | None") -> dict[str, Any]:
        base_url = self.base(req) + "/v3"
        if row.scope_type == "system":
            scope: dict[str, Any] = {"system": {"all": True}}
            path = "/system"
        else:
            scope = {row.scope_type: {"id": row.scope_id}}
            path = "/%ss/%s" % (row.via_scope_type or row.scope_type,
                                row.via_scope or row.scope_id)
        actor = "users" if row.actor_type == "user" and not row.via_group else "groups"
        actor_id = row.via_group or row.actor_id
        link = "%s%s/%s/%s/roles/%s" % (base_url, path, actor, actor_id,
                                         row.via_role or row.role_id)
        if row.inherited or row.via_scope:
            link = "%s/OS-INHERIT%s/%s/%s/roles/%s/inherited_to_projects" % (
                base_url, path, actor, actor_id, row.via_role or row.role_id)
        if row.inherited:
            scope["OS-INHERIT:inherited_to"] = "projects"
        links: dict[str, str] = {"assignment": link}
        if row.via_group:
            links["membership"] = "%s/groups/%s/users/%s" % (base_url, row.via_group,
                                                             row.actor_id)
        if row.via_role:
            links["prior_role"] = "%s/roles/%s" % (base_url, row.via_role)
        item: dict[str, Any] = {"role": {"id": row.role_id}, "scope": scope,
                                row.actor_type: {"id": row.actor_id}, "links": links}
        if namer is not None:
            namer.decorate(item, row)
        return item

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v3/role_assignments", {"GET": self.index})]


class _Namer:
    """Adds names (include_names=true), looking each entity up once."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.roles = app.assignments.all_roles()
        self._domains: dict[str, Any] = {}

    def _domain(self, domain_id: str | None) -> dict[str, Any]:
        if domain_id is None:
            return {}
        if domain_id not in self._domains:
            try:
                self._domains[domain_id] = self.app.resources.get_domain(domain_id).name
            except common_exc.NotFound:
                self._domains[domain_id] = None
        return {"id": domain_id, "name": self._domains[domain_id]}

    def decorate(self, item: dict[str, Any], row: Any) -> None:
        role = self.roles.get(row.role_id)
        if role is not None:
            item["role"]["name"] = role.name
            if role.domain_id:
                item["role"]["domain"] = self._domain(role.domain_id)
        try:
            if row.actor_type == "user":
                actor = self.app.users.get_user(row.actor_id)
            else:
                actor = self.app.users.get_group(row.actor_id)
            item[row.actor_type].update(name=actor.name, domain=self._domain(actor.domain_id))
            if row.scope_type == "project":
                project = self.app.resources.get_project(row.scope_id)
                item["scope"]["project"].update(name=project.name,
                                                domain=self._domain(project.domain_id))
            elif row.scope_type == "domain":
                item["scope"]["domain"]["name"] = self._domain(row.scope_id)["name"]
        except common_exc.NotFound:
            pass
