"""Effective role assignments: groups expanded to members, inheritance applied,
implied roles added. Used by tokens, /v3/role_assignments and project lists."""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable

import sqlalchemy as sa

from identity.db import models as M
from identity.service import base


@dataclasses.dataclass(frozen=True)
class Effective:
    """One assignment row as the API reports it."""

    role_id: str
    actor_type: str                # "user" | "group"
    actor_id: str
    scope_type: str                # "project" | "domain" | "system"
    scope_id: str
    inherited: bool = False        # shown as OS-INHERIT:inherited_to
    via_group: str | None = None   # effective rows coming from a group
    via_role: str | None = None    # effective rows coming from an implied role
    via_scope: str | None = None   # effective rows inherited from this domain/project
    via_scope_type: str | None = None


def _scope_of(kind: str) -> str:
    return {"Project": "project", "Domain": "domain", "System": "system"}[
        kind.replace("User", "").replace("Group", "")]


class EffectiveService:
    def __init__(self, store: base.Store) -> None:
        self.store = store

    def _snapshot(self, session: Any) -> dict[str, Any]:
        projects = list(session.execute(sa.select(M.Project.id, M.Project.domain_id,
                                                  M.Project.parent_id)))
        rules: dict[str, list[str]] = {}
        for prior, implied in session.execute(sa.select(M.ImpliedRole.prior_role_id,
                                                        M.ImpliedRole.implied_role_id)):
            rules.setdefault(prior, []).append(implied)
        domain_roles = set(session.scalars(sa.select(M.Role.id).where(
            M.Role.domain_id.is_not(None))))
        return {"projects": projects, "rules": rules, "domain_roles": domain_roles}

    @staticmethod
    def _children(projects: list[Any]) -> dict[str | None, list[str]]:
        tree: dict[str | None, list[str]] = {}
        for pid, _dom, parent in projects:
            tree.setdefault(parent, []).append(pid)
        return tree

    def _subtree(self, projects: list[Any], root: str) -> list[str]:
        tree = self._children(projects)
        out: list[str] = []
        pending = list(tree.get(root, []))
        while pending:
            pid = pending.pop()
            out.append(pid)
            pending.extend(tree.get(pid, []))
        return out

    def _rows(self, session: Any, user_id: str | None, group_id: str | None) -> list[Any]:
        query = sa.select(M.Assignment)
        if user_id is not None:
            groups = list(session.scalars(sa.select(M.Membership.group_id).where(
                M.Membership.user_id == user_id)))
            query = query.where(sa.or_(
                sa.and_(M.Assignment.actor_id == user_id, M.Assignment.type.like("User%")),
                sa.and_(M.Assignment.actor_id.in_(groups), M.Assignment.type.like("Group%"))))
        elif group_id is not None:
            query = query.where(M.Assignment.actor_id == group_id)
        return list(session.scalars(query))

    def compute(self, user_id: str | None = None, group_id: str | None = None,
                effective: bool = False) -> list[Effective]:
        """Assignments (raw or effective) for a user, a group, or everyone."""
        with self.store.reader() as session:
            if effective and user_id is not None:
                rows = self._rows(session, user_id, None)
            elif group_id is not None:
                rows = self._rows(session, None, group_id)
            else:
                rows = list(session.scalars(sa.select(M.Assignment)))
            if user_id is not None and not effective:
                rows = [r for r in rows if r.actor_id == user_id and r.type.startswith("User")]
            if not effective:
                return [Effective(r.role_id, "user" if r.type.startswith("User") else "group",
                                  r.actor_id, _scope_of(r.type), r.target_id, r.inherited)
                        for r in rows]
            snap = self._snapshot(session)
            members: dict[str, list[str]] = {}
            for uid, gid in session.execute(sa.select(M.Membership.user_id,
                                                      M.Membership.group_id)):
                members.setdefault(gid, []).append(uid)
        return self._effective(rows, snap, members, user_id)

    def _effective(self, rows: Iterable[Any], snap: dict[str, Any],
                   members: dict[str, list[str]], only_user: str | None) -> list[Effective]:
        out: list[Effective] = []
        projects = snap["projects"]
        for row in rows:
            if row.type.startswith("Group"):
                users = members.get(row.actor_id, [])
                via_group: str | None = row.actor_id
            else:
                users, via_group = [row.actor_id], None
            if only_user is not None:
                users = [u for u in users if u == only_user]
            scope = _scope_of(row.type)
            if row.inherited:
                if scope == "domain":
                    targets = [pid for pid, dom, _p in projects if dom == row.target_id]
                else:
                    targets = self._subtree(projects, row.target_id)
                scoped = [("project", t, row.target_id) for t in targets]
            else:
                scoped = [(scope, row.target_id, None)]
            via_scope_type = scope if row.inherited else None
            for uid in users:
                for scope_type, scope_id, via_scope in scoped:
                    for role_id, via_role in self._implied(snap["rules"], row.role_id):
                        # A domain-specific role is never effective itself; only
                        # the global roles it implies are.
                        if role_id in snap["domain_roles"]:
                            continue
                        out.append(Effective(role_id, "user", uid, scope_type, scope_id,
                                             False, via_group, via_role, via_scope,
                                             via_scope_type))
        return list(dict.fromkeys(out))

    @staticmethod
    def _implied(rules: dict[str, list[str]], role_id: str) -> list[tuple[str, str | None]]:
        out: list[tuple[str, str | None]] = [(role_id, None)]
        seen = {role_id}
        pending = list(rules.get(role_id, []))
        while pending:
            rid = pending.pop()
            if rid in seen:
                continue
            seen.add(rid)
            out.append((rid, role_id))
            pending.extend(rules.get(rid, []))
        return out

    def role_ids_on(self, user_id: str, scope_type: str, scope_id: str) -> list[str]:
        """Effective role ids of ``user_id`` on one project, domain or the system."""
        found = [e.role_id for e in self.compute(user_id=user_id, effective=True)
                 if e.scope_type == scope_type and e.scope_id == scope_id]
        return list(dict.fromkeys(found))

    def scopes_of(self, user_id: str, scope_type: str) -> list[str]:
        """Projects (or domains) on which ``user_id`` has any effective role."""
        found = [e.scope_id for e in self.compute(user_id=user_id, effective=True)
                 if e.scope_type == scope_type]
        return list(dict.fromkeys(found))
