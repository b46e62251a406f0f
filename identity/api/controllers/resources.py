"""/v3/domains and /v3/projects (with tags)."""
from __future__ import annotations

from typing import Any

from common import exception as common_exc
from common.wsgi import validation
from identity import exception
from identity.api import views
from identity.api.controllers import base
from identity.api.schemas import entities as schemas


class DomainsController(base.Controller):
    def _target(self, domain: Any) -> dict[str, Any]:
        return {"target": {"domain": {"id": domain.id}}, "domain_id": domain.id}

    def create(self, req: base.Request) -> Any:
        self.authorize(req, "identity:create_domain")
        values = self.body(req, "domain", schemas.DOMAIN_CREATE)
        domain = self.app.resources.create_domain(values, values.pop("explicit_domain_id", None))
        return base.json_response({"domain": views.domain(self.base(req), domain)}, 201)

    def index(self, req: base.Request) -> Any:
        self.authorize(req, "identity:list_domains")
        domains = self.app.resources.list_domains(**self.filters(req, "name", "enabled"))
        return self.collection(req, "domains", [views.domain(self.base(req), d) for d in domains])

    def show(self, req: base.Request, domain_id: str) -> Any:
        self.authenticated(req)
        domain = self.app.resources.get_domain(domain_id)
        self.authorize(req, "identity:get_domain", self._target(domain))
        return base.json_response({"domain": views.domain(self.base(req), domain)})

    def update(self, req: base.Request, domain_id: str) -> Any:
        self.authorize(req, "identity:update_domain")
        values = self.body(req, "domain", schemas.DOMAIN_UPDATE)
        values.pop("explicit_domain_id", None)
        domain = self.app.resources.update_domain(domain_id, values)
        if values.get("enabled") is False:
            self.app.revocations.revoke(domain_id=domain_id)
        return base.json_response({"domain": views.domain(self.base(req), domain)})

    def delete(self, req: base.Request, domain_id: str) -> Any:
        self.authorize(req, "identity:delete_domain")
        self.app.resources.delete_domain(domain_id)
        self.app.revocations.revoke(domain_id=domain_id)
        return base.empty_response()

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v3/domains", {"GET": self.index, "POST": self.create}),
                ("/v3/domains/{domain_id}", {"GET": self.show, "PATCH": self.update,
                                             "DELETE": self.delete})]


class ProjectsController(base.Controller):
    def _target(self, project: Any) -> dict[str, Any]:
        return {"target": {"project": {"id": project.id, "domain_id": project.domain_id}},
                "target.domain_id": project.domain_id}

    def create(self, req: base.Request) -> Any:
        ctx = self.authenticated(req)
        values = self.body(req, "project", schemas.PROJECT_CREATE)
        if values.get("is_domain"):
            return self._create_domain(req, values)
        if not values.get("domain_id"):
            parent_id = values.get("parent_id")
            if parent_id:
                values["domain_id"] = self._parent_domain(parent_id)
            else:
                values["domain_id"] = (ctx.project_domain_id or ctx.domain_id
                                       or self.conf.identity.default_domain_id)
        self.authorize(req, "identity:create_project",
                       {"target.domain_id": values["domain_id"]})
        project = self.app.resources.create_project(values)
        return base.json_response({"project": views.project(self.base(req), project)}, 201)

    def _create_domain(self, req: base.Request, values: dict[str, Any]) -> Any:
        """A project acting as a domain is a domain (Keystone's is_domain=true)."""
        self.authorize(req, "identity:create_domain")
        if values.get("domain_id") or values.get("parent_id"):
            raise common_exc.ValidationError(field="is_domain", detail="a project acting as "
                                             "a domain has no domain_id or parent_id")
        domain = self.app.resources.create_domain(
            {k: v for k, v in values.items() if k in ("name", "description", "enabled")})
        return base.json_response({"project": views.domain_as_project(self.base(req), domain)},
                                  201)

    def _as_domain(self, project_id: str) -> Any:
        """The domain whose id ``project_id`` is, or ProjectNotFound."""
        try:
            return self.app.resources.get_domain(project_id)
        except exception.NotFound:
            raise exception.ProjectNotFound(id=project_id)

    def _parent_domain(self, parent_id: str) -> str:
        try:
            return str(self.app.resources.get_project(parent_id).domain_id)
        except exception.NotFound:
            try:
                return str(self.app.resources.get_domain(parent_id).id)
            except exception.NotFound:
                raise common_exc.ValidationError(
                    field="parent_id", detail="Could not find project: %s." % parent_id)

    def index(self, req: base.Request) -> Any:
        filters = self.filters(req, "name", "enabled", "domain_id", "parent_id")
        self.authorize(req, "identity:list_projects",
                       {"target.domain_id": filters.get("domain_id")})
        if req.param_bool("is_domain") is True:
            domains = self.app.resources.list_domains(**{k: v for k, v in filters.items()
                                                        if k in ("name", "enabled")})
            return self.collection(req, "projects", [views.domain_as_project(self.base(req), d)
                                                     for d in domains])
        tag_filters = {key: req.GET[name].split(",") for key, name in (
            ("tags", "tags"), ("tags_any", "tags-any"), ("not_tags", "not-tags"),
            ("not_tags_any", "not-tags-any")) if name in req.GET}
        parent = filters.get("parent_id")
        top_level = False
        if parent:
            try:
                self.app.resources.get_domain(parent)
                # Top-level projects show their domain as parent.
                filters.pop("parent_id")
                filters["domain_id"], top_level = parent, True
            except exception.NotFound:
                pass
        projects = self.app.resources.list_projects(top_level=top_level, **tag_filters,
                                                    **filters)
        return self.collection(req, "projects",
                               [views.project(self.base(req), p) for p in projects])

    def show(self, req: base.Request, project_id: str) -> Any:
        self.authenticated(req)
        try:
            project = self.app.resources.get_project(project_id)
        except exception.NotFound:
            domain = self._as_domain(project_id)
            self.authorize(req, "identity:get_domain", {"target": {"domain": {"id": domain.id}}})
            return base.json_response({"project": views.domain_as_project(self.base(req),
                                                                          domain)})
        self.authorize(req, "identity:get_project", self._target(project))
        body = views.project(self.base(req), project)
        if req.param_bool("parents_as_list"):
            body["parents"] = [{"project": views.project(self.base(req), p)}
                               for p in self.app.resources.parents(project)]
        elif req.param_bool("parents_as_ids"):
            nested: dict[str, Any] | None = None
            for parent in reversed(self.app.resources.parents(project)):
                nested = {parent.id: nested}
            body["parents"] = nested
        return base.json_response({"project": body})

    def update(self, req: base.Request, project_id: str) -> Any:
        self.authenticated(req)
        try:
            project = self.app.resources.get_project(project_id)
        except exception.NotFound:
            domain = self._as_domain(project_id)
            self.authorize(req, "identity:update_domain")
            values = self.body(req, "project", schemas.PROJECT_UPDATE)
            domain = self.app.resources.update_domain(domain.id, {
                k: v for k, v in values.items() if k in ("name", "description", "enabled")})
            return base.json_response({"project": views.domain_as_project(self.base(req),
                                                                          domain)})
        self.authorize(req, "identity:update_project", self._target(project))
        values = self.body(req, "project", schemas.PROJECT_UPDATE)
        project = self.app.resources.update_project(project_id, values)
        if values.get("enabled") is False:
            self.app.revocations.revoke(project_id=project_id)
        return base.json_response({"project": views.project(self.base(req), project)})

    def delete(self, req: base.Request, project_id: str) -> Any:
        self.authenticated(req)
        try:
            project = self.app.resources.get_project(project_id)
        except exception.NotFound:
            self._as_domain(project_id)
            self.authorize(req, "identity:delete_domain")
            self.app.resources.delete_domain(project_id)
            self.app.revocations.revoke(domain_id=project_id)
            return base.empty_response()
        self.authorize(req, "identity:delete_project", self._target(project))
        self.app.resources.delete_project(project_id)
        self.app.revocations.revoke(project_id=project_id)
        return base.empty_response()

    # -- tags
    def tags(self, req: base.Request, project_id: str) -> Any:
        self.authenticated(req)
        project = self.app.resources.get_project(project_id)
        self.authorize(req, "identity:get_project", self._target(project))
        return base.json_response({"tags": sorted(t.name for t in project.tags)})

    def set_tags(self, req: base.Request, project_id: str) -> Any:
        self.authenticated(req)
        project = self.app.resources.get_project(project_id)
        self.authorize(req, "identity:update_project", self._target(project))
        data = req.parsed_json()
        tags = data.get("tags") if isinstance(data, dict) else None
        validation.validate(tags, schemas._TAGS)
        project = self.app.resources.set_tags(project_id, tags or [])
        return base.json_response({"tags": sorted(t.name for t in project.tags)})

    def clear_tags(self, req: base.Request, project_id: str) -> Any:
        self.authenticated(req)
        project = self.app.resources.get_project(project_id)
        self.authorize(req, "identity:update_project", self._target(project))
        self.app.resources.set_tags(project_id, [])
        return base.empty_response()

    def tag(self, req: base.Request, project_id: str, tag: str) -> Any:
        self.authenticated(req)
        project = self.app.resources.get_project(project_id)
        names = [t.name for t in project.tags]
        if req.method in ("GET", "HEAD"):
            self.authorize(req, "identity:get_project", self._target(project))
            if tag not in names:
                raise exception.NotFound("Tag %s not found on project %s." % (tag, project_id))
            return base.empty_response()
        self.authorize(req, "identity:update_project", self._target(project))
        if req.method == "PUT":
            validation.validate(names + [tag], schemas._TAGS)
            self.app.resources.set_tags(project_id, names + [tag])
            return base.empty_response(201, {"Location": "%s/v3/projects/%s/tags/%s"
                                              % (self.base(req), project_id, tag)})
        if tag not in names:
            raise exception.NotFound("Tag %s not found on project %s." % (tag, project_id))
        self.app.resources.set_tags(project_id, [n for n in names if n != tag])
        return base.empty_response()

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v3/projects", {"GET": self.index, "POST": self.create}),
                ("/v3/projects/{project_id}", {"GET": self.show, "PATCH": self.update,
                                               "DELETE": self.delete}),
                ("/v3/projects/{project_id}/tags", {"GET": self.tags, "PUT": self.set_tags,
                                                    "DELETE": self.clear_tags}),
                ("/v3/projects/{project_id}/tags/{tag}", {"GET": self.tag, "PUT": self.tag,
                                                          "DELETE": self.tag})]
