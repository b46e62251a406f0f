"""Domains and projects (with hierarchy and tags)."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from common import exception as common_exc
from identity import exception
from identity.db import models
from identity.service import base

_DOMAIN_COLUMNS = {"name", "description", "enabled"}
_PROJECT_COLUMNS = {"name", "description", "enabled"}


class ResourceService:
    def __init__(self, store: base.Store) -> None:
        self.store = store

    # -- domains
    def create_domain(self, values: dict[str, Any], domain_id: str | None = None) -> models.Domain:
        with self.store.writer() as session:
            domain = models.Domain(id=domain_id or base.new_id(), extra={})
            base.merge_extra(domain, {k: v for k, v in values.items()
                                      if k not in ("id", "tags", "options")}, _DOMAIN_COLUMNS)
            session.add(domain)
            base.conflict_on_duplicate(session, "domain",
                                       "Duplicate entry found with name %s" % values["name"])
            return domain

    def get_domain(self, domain_id: str) -> models.Domain:
        return self.store.get(models.Domain, domain_id, exception.DomainNotFound)

    def get_domain_by_name(self, name: str) -> models.Domain:
        with self.store.reader() as session:
            found = session.scalars(sa.select(models.Domain).where(
                models.Domain.name == name)).first()
            if found is None:
                raise exception.DomainNotFound(id=name)
            return found

    def list_domains(self, **filters: Any) -> list[models.Domain]:
        return self.store.list(models.Domain, filters, models.Domain.name)

    def update_domain(self, domain_id: str, values: dict[str, Any]) -> models.Domain:
        with self.store.writer() as session:
            domain = base.get_or_404(session, models.Domain, domain_id, exception.DomainNotFound)
            base.merge_extra(domain, values, _DOMAIN_COLUMNS)
            base.conflict_on_duplicate(session, "domain", "Duplicate entry found with name %s"
                                       % values.get("name"))
            return domain

    def delete_domain(self, domain_id: str) -> None:
        with self.store.writer() as session:
            domain = base.get_or_404(session, models.Domain, domain_id, exception.DomainNotFound)
            if domain.enabled:
                raise common_exc.Forbidden(
                    "Cannot delete a domain that is enabled, please disable it first.")
            for model in (models.User, models.Group):
                for obj in session.scalars(sa.select(model).where(model.domain_id == domain_id)):
                    session.delete(obj)
            projects = list(session.scalars(sa.select(models.Project).where(
                models.Project.domain_id == domain_id)))
            for project in sorted(projects, key=lambda p: p.parent_id is None):
                session.delete(project)
            session.execute(sa.delete(models.Assignment).where(
                models.Assignment.target_id == domain_id))
            session.execute(sa.delete(models.Role).where(models.Role.domain_id == domain_id))
            session.delete(domain)

    # -- projects
    def create_project(self, values: dict[str, Any]) -> models.Project:
        with self.store.writer() as session:
            domain_id = values["domain_id"]
            parent_id = values.get("parent_id")
            if parent_id and parent_id != domain_id:
                parent = session.get(models.Project, parent_id)
                if parent is None:
                    raise common_exc.ValidationError(
                        field="parent_id", detail="Could not find project: %s." % parent_id)
                if parent.domain_id != domain_id:
                    raise common_exc.ValidationError(
                        field="parent_id",
                        detail="Cannot create project, the parent is in a different domain.")
            else:
                parent_id = None
            base.get_or_404(session, models.Domain, domain_id, exception.DomainNotFound)
            project = models.Project(id=base.new_id(), domain_id=domain_id,
                                     parent_id=parent_id, extra={})
            rest = {k: v for k, v in values.items()
                    if k not in ("id", "domain_id", "parent_id", "tags", "is_domain", "options")}
            base.merge_extra(project, rest, _PROJECT_COLUMNS)
            project.tags = [models.ProjectTag(name=t)
                            for t in dict.fromkeys(values.get("tags") or [])]
            session.add(project)
            base.conflict_on_duplicate(session, "project",
                                       "Duplicate entry found with name %s" % values["name"])
            return project

    def get_project(self, project_id: str) -> models.Project:
        return self.store.get(models.Project, project_id, exception.ProjectNotFound)

    def list_projects(self, tags: list[str] | None = None, tags_any: list[str] | None = None,
                      not_tags: list[str] | None = None, not_tags_any: list[str] | None = None,
                      ids: list[str] | None = None, top_level: bool = False,
                      **filters: Any) -> list[models.Project]:
        with self.store.reader() as session:
            query = base.apply_filters(sa.select(models.Project), models.Project, filters)
            if top_level:
                query = query.where(models.Project.parent_id.is_(None))
            if ids is not None:
                query = query.where(models.Project.id.in_(ids))
            projects = list(session.scalars(query.order_by(models.Project.name)))
        return [p for p in projects if _tags_match(p, tags, tags_any, not_tags, not_tags_any)]

    def update_project(self, project_id: str, values: dict[str, Any]) -> models.Project:
        with self.store.writer() as session:
            project = base.get_or_404(session, models.Project, project_id,
                                      exception.ProjectNotFound)
            for key in ("domain_id", "parent_id", "is_domain"):
                if key in values and values[key] != getattr(project, key, False):
                    raise common_exc.ValidationError(
                        field=key, detail="Update of `%s` is not allowed." % key)
            tags = values.get("tags")
            rest = {k: v for k, v in values.items()
                    if k not in ("domain_id", "parent_id", "is_domain", "tags", "options")}
            base.merge_extra(project, rest, _PROJECT_COLUMNS)
            if tags is not None:
                project.tags = [models.ProjectTag(name=t) for t in dict.fromkeys(tags)]
            base.conflict_on_duplicate(session, "project", "Duplicate entry found with name %s"
                                       % values.get("name"))
            return project

    def delete_project(self, project_id: str) -> None:
        with self.store.writer() as session:
            project = base.get_or_404(session, models.Project, project_id,
                                      exception.ProjectNotFound)
            child = session.scalars(sa.select(models.Project.id).where(
                models.Project.parent_id == project_id)).first()
            if child is not None:
                raise common_exc.Forbidden(
                    "Cannot delete the project %s since it is not a leaf in the hierarchy."
                    % project_id)
            session.execute(sa.delete(models.Assignment).where(
                models.Assignment.target_id == project_id))
            session.delete(project)

    def set_tags(self, project_id: str, tags: list[str]) -> models.Project:
        return self.update_project(project_id, {"tags": tags})

    def parents(self, project: models.Project) -> list[models.Project]:
        """Ancestors of ``project``, nearest first."""
        chain: list[models.Project] = []
        with self.store.reader() as session:
            current = project
            while current.parent_id:
                current = session.get(models.Project, current.parent_id)
                if current is None or current in chain:
                    break
                chain.append(current)
        return chain


def _tags_match(project: models.Project, tags: list[str] | None, tags_any: list[str] | None,
                not_tags: list[str] | None, not_tags_any: list[str] | None) -> bool:
    have = {t.name for t in project.tags}
    if tags and not set(tags) <= have:
        return False
    if tags_any and not set(tags_any) & have:
        return False
    if not_tags and set(not_tags) <= have:
        return False
    if not_tags_any and set(not_tags_any) & have:
        return False
    return True
