"""Roles, implied roles, grants and the effective roles a token carries."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from common import exception as common_exc
from identity import exception
from identity.db import models
from identity.service import base

M = models

# Grant kinds and the system target, for the API layer (which never imports db).
USER_PROJECT, GROUP_PROJECT = M.USER_PROJECT, M.GROUP_PROJECT
USER_DOMAIN, GROUP_DOMAIN = M.USER_DOMAIN, M.GROUP_DOMAIN
USER_SYSTEM, GROUP_SYSTEM = M.USER_SYSTEM, M.GROUP_SYSTEM
SYSTEM_TARGET = M.SYSTEM_TARGET
# Roles nothing may imply (Keystone's [assignment] prohibited_implied_role default).
PROHIBITED_IMPLIED = ("admin",)
_ROLE_COLUMNS = {"name", "description"}


class AssignmentService:
    def __init__(self, store: base.Store) -> None:
        self.store = store

    # -- roles
    def create_role(self, values: dict[str, Any], role_id: str | None = None) -> models.Role:
        with self.store.writer() as session:
            domain_id = values.get("domain_id")
            if domain_id:
                base.get_or_404(session, M.Domain, domain_id, exception.DomainNotFound)
            self._check_role_name(session, values["name"], domain_id, None)
            role = M.Role(id=role_id or base.new_id(), domain_id=domain_id, extra={},
                          options=values.get("options") or {})
            base.merge_extra(role, {k: v for k, v in values.items()
                                    if k not in ("id", "domain_id", "options")}, _ROLE_COLUMNS)
            session.add(role)
            session.flush()
            return role

    @staticmethod
    def _check_role_name(session: Any, name: str, domain_id: str | None,
                         role_id: str | None) -> None:
        query = sa.select(M.Role.id).where(M.Role.name == name)
        query = query.where(M.Role.domain_id.is_(None) if domain_id is None
                            else M.Role.domain_id == domain_id)
        found = session.scalars(query).first()
        if found is not None and found != role_id:
            raise exception.Conflict(type="role", details="Duplicate entry found with name %s"
                                     % name)

    def get_role(self, role_id: str) -> models.Role:
        with self.store.reader() as session:
            return base.get_or_404(session, M.Role, role_id, exception.RoleNotFound)

    def find_role(self, name: str, domain_id: str | None = None) -> models.Role | None:
        with self.store.reader() as session:
            query = sa.select(M.Role).where(M.Role.name == name)
            query = query.where(M.Role.domain_id.is_(None) if domain_id is None
                                else M.Role.domain_id == domain_id)
            return session.scalars(query).first()

    def list_roles(self, name: str | None = None,
                   domain_id: str | None = None) -> list[models.Role]:
        with self.store.reader() as session:
            query = sa.select(M.Role)
            if name is not None:
                query = query.where(M.Role.name == name)
            query = query.where(M.Role.domain_id.is_(None) if domain_id is None
                                else M.Role.domain_id == domain_id)
            return list(session.scalars(query.order_by(M.Role.name)))

    def update_role(self, role_id: str, values: dict[str, Any]) -> models.Role:
        with self.store.writer() as session:
            role = base.get_or_404(session, M.Role, role_id, exception.RoleNotFound)
            if (role.options or {}).get("immutable") and values.get("options", {}).get(
                    "immutable", True):
                raise common_exc.Forbidden("Role %s is immutable." % role_id)
            if "domain_id" in values and values["domain_id"] != role.domain_id:
                raise common_exc.ValidationError(field="domain_id",
                                                 detail="Update of `domain_id` is not allowed.")
            if "name" in values:
                self._check_role_name(session, values["name"], role.domain_id, role.id)
            if "options" in values:
                role.options = {**(role.options or {}), **(values["options"] or {})}
            base.merge_extra(role, {k: v for k, v in values.items()
                                    if k not in ("domain_id", "options", "id")}, _ROLE_COLUMNS)
            return role

    def delete_role(self, role_id: str) -> None:
        with self.store.writer() as session:
            role = base.get_or_404(session, M.Role, role_id, exception.RoleNotFound)
            if (role.options or {}).get("immutable"):
                raise common_exc.Forbidden("Role %s is immutable." % role_id)
            session.execute(sa.delete(M.Assignment).where(M.Assignment.role_id == role_id))
            session.execute(sa.delete(M.ImpliedRole).where(sa.or_(
                M.ImpliedRole.prior_role_id == role_id,
                M.ImpliedRole.implied_role_id == role_id)))
            session.delete(role)

    # -- implied roles
    def create_implied(self, prior_id: str, implied_id: str) -> tuple[models.Role, models.Role]:
        with self.store.writer() as session:
            prior = base.get_or_404(session, M.Role, prior_id, exception.RoleNotFound)
            implied = base.get_or_404(session, M.Role, implied_id, exception.RoleNotFound)
            if implied.name in PROHIBITED_IMPLIED:
                raise common_exc.Forbidden("%s may not be implied by another role."
                                           % implied.name)
            if implied.domain_id is not None and prior.domain_id is None:
                raise common_exc.Forbidden("A global role cannot imply a domain-specific role.")
            if prior_id in self._expand(session, [implied_id]):
                raise common_exc.Forbidden("Implied role would create a loop: %s -> %s"
                                           % (prior_id, implied_id))
            if session.get(M.ImpliedRole, (prior_id, implied_id)) is None:
                session.add(M.ImpliedRole(prior_role_id=prior_id, implied_role_id=implied_id))
            return prior, implied

    def get_implied(self, prior_id: str, implied_id: str) -> tuple[models.Role, models.Role]:
        with self.store.reader() as session:
            prior = base.get_or_404(session, M.Role, prior_id, exception.RoleNotFound)
            implied = base.get_or_404(session, M.Role, implied_id, exception.RoleNotFound)
            if session.get(M.ImpliedRole, (prior_id, implied_id)) is None:
                raise exception.ImpliedRoleNotFound(prior=prior_id, implied=implied_id)
            return prior, implied

    def delete_implied(self, prior_id: str, implied_id: str) -> None:
        with self.store.writer() as session:
            rule = session.get(M.ImpliedRole, (prior_id, implied_id))
            if rule is None:
                raise exception.ImpliedRoleNotFound(prior=prior_id, implied=implied_id)
            session.delete(rule)

    def list_implied(self, prior_id: str | None = None) -> list[tuple[models.Role, models.Role]]:
        with self.store.reader() as session:
            query = sa.select(M.ImpliedRole)
            if prior_id is not None:
                base.get_or_404(session, M.Role, prior_id, exception.RoleNotFound)
                query = query.where(M.ImpliedRole.prior_role_id == prior_id)
            rules = list(session.scalars(query))
            roles = {r.id: r for r in session.scalars(sa.select(M.Role))}
            return [(roles[r.prior_role_id], roles[r.implied_role_id]) for r in rules]

    @staticmethod
    def _expand(session: Any, role_ids: list[str]) -> set[str]:
        """The roles plus every role they imply, transitively."""
        rules: dict[str, list[str]] = {}
        for rule in session.scalars(sa.select(M.ImpliedRole)):
            rules.setdefault(rule.prior_role_id, []).append(rule.implied_role_id)
        seen: set[str] = set()
        pending = list(role_ids)
        while pending:
            role_id = pending.pop()
            if role_id in seen:
                continue
            seen.add(role_id)
            pending.extend(rules.get(role_id, []))
        return seen

    # -- grants
    def grant(self, kind: str, actor_id: str, target_id: str, role_id: str,
              inherited: bool = False) -> None:
        with self.store.writer() as session:
            self._check_grant_parts(session, kind, actor_id, target_id, role_id)
            key = (kind, actor_id, target_id, role_id, inherited)
            if session.get(M.Assignment, key) is None:
                session.add(M.Assignment(type=kind, actor_id=actor_id, target_id=target_id,
                                         role_id=role_id, inherited=inherited))

    def check_grant(self, kind: str, actor_id: str, target_id: str, role_id: str,
                    inherited: bool = False) -> None:
        with self.store.reader() as session:
            self._check_grant_parts(session, kind, actor_id, target_id, role_id)
            if session.get(M.Assignment, (kind, actor_id, target_id, role_id, inherited)) is None:
                raise exception.GrantNotFound(role_id=role_id, target=target_id)

    def revoke(self, kind: str, actor_id: str, target_id: str, role_id: str,
               inherited: bool = False) -> None:
        with self.store.writer() as session:
            self._check_grant_parts(session, kind, actor_id, target_id, role_id)
            found = session.get(M.Assignment, (kind, actor_id, target_id, role_id, inherited))
            if found is None:
                raise exception.GrantNotFound(role_id=role_id, target=target_id)
            session.delete(found)

    def list_grants(self, kind: str, actor_id: str, target_id: str,
                    inherited: bool = False) -> list[models.Role]:
        with self.store.reader() as session:
            self._check_grant_parts(session, kind, actor_id, target_id, None)
            query = sa.select(M.Role).join(M.Assignment, M.Assignment.role_id == M.Role.id).where(
                M.Assignment.type == kind, M.Assignment.actor_id == actor_id,
                M.Assignment.target_id == target_id, M.Assignment.inherited == inherited)
            return list(session.scalars(query))

    @staticmethod
    def _check_grant_parts(session: Any, kind: str, actor_id: str, target_id: str,
                           role_id: str | None) -> None:
        actor_model, actor_err = ((M.User, exception.UserNotFound) if kind.startswith("User")
                                  else (M.Group, exception.GroupNotFound))
        base.get_or_404(session, actor_model, actor_id, actor_err)
        if kind.endswith("Project"):
            base.get_or_404(session, M.Project, target_id, exception.ProjectNotFound)
        elif kind.endswith("Domain"):
            base.get_or_404(session, M.Domain, target_id, exception.DomainNotFound)
        if role_id is not None:
            base.get_or_404(session, M.Role, role_id, exception.RoleNotFound)

    def assignments(self, **filters: Any) -> list[models.Assignment]:
        """Raw assignment rows, filtered by column equality."""
        with self.store.reader() as session:
            query = sa.select(M.Assignment)
            for name, value in filters.items():
                if value is None:
                    continue
                column = getattr(M.Assignment, name)
                query = query.where(column.in_(value) if isinstance(value, (list, set, tuple))
                                    else column == value)
            return list(session.scalars(query))

    def expand_roles(self, role_ids: list[str]) -> list[models.Role]:
        with self.store.reader() as session:
            ids = self._expand(session, role_ids)
            return list(session.scalars(sa.select(M.Role).where(M.Role.id.in_(ids))))

    def all_roles(self) -> dict[str, models.Role]:
        with self.store.reader() as session:
            return {r.id: r for r in session.scalars(sa.select(M.Role))}
