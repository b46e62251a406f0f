"""Server groups: a placement policy (affinity, anti-affinity and their soft
variants, with an optional ``max_server_per_host`` rule for anti-affinity) and
the servers placed under it.

Quotas: ``server_groups`` per project when a group is created, and
``server_group_members`` per group when a server joins it — the servers code
calls :meth:`ServerGroupAPI.add_member` while building a server that names a
group in its scheduler hints, and :meth:`ServerGroupAPI.remove_member` when the
server is deleted.
"""
from __future__ import annotations

import uuid as uuid_mod
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import orm

from common.db import engine
from compute import exception
from compute import quotas
from compute.db import models
from compute.db.instances import isotime

AFFINITY = "affinity"
ANTI_AFFINITY = "anti-affinity"
SOFT_AFFINITY = "soft-affinity"
SOFT_ANTI_AFFINITY = "soft-anti-affinity"
POLICIES = (AFFINITY, ANTI_AFFINITY, SOFT_AFFINITY, SOFT_ANTI_AFFINITY)


def _gone(session: orm.Session, uuids: list[str]) -> set[str]:
    """Those of ``uuids`` whose instance is deleted (members are only removed
    when the servers code says so; a deleted server is never shown as one)."""
    if not uuids:
        return set()
    return set(session.scalars(sa.select(models.Instance.uuid).where(
        models.Instance.uuid.in_(uuids), models.Instance.deleted != 0)))


def _as_dict(session: orm.Session, row: models.InstanceGroup) -> dict[str, Any]:
    uuids = [m.instance_uuid for m in row.members]
    gone = _gone(session, uuids)
    return {"id": row.uuid, "name": row.name, "policy": row.policy,
            "rules": dict(row.rules or {}), "members": [u for u in uuids if u not in gone],
            "project_id": row.project_id, "user_id": row.user_id,
            "created_at": isotime(row.created_at)}


class ServerGroupAPI:
    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database) -> None:
        self.conf = conf
        self.db = db
        self.quotas = quotas.QuotaService(conf, db)

    def get_all(self, project_id: str | None, limit: int | None = None,
                offset: int = 0) -> list[dict[str, Any]]:
        """A project's groups (every project's with None), oldest first."""
        query = sa.select(models.InstanceGroup).order_by(models.InstanceGroup.id)
        if project_id is not None:
            query = query.where(models.InstanceGroup.project_id == project_id)
        query = query.offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self.db.reader() as session:
            return [_as_dict(session, r) for r in session.scalars(query)]

    @staticmethod
    def _row(session: orm.Session, group_uuid: str) -> models.InstanceGroup:
        row = session.scalars(sa.select(models.InstanceGroup).where(
            models.InstanceGroup.uuid == group_uuid)).first()
        if row is None:
            raise exception.InstanceGroupNotFound(group_uuid=group_uuid)
        return row

    def get(self, group_uuid: str) -> dict[str, Any]:
        """:raises: InstanceGroupNotFound."""
        with self.db.reader() as session:
            return _as_dict(session, self._row(session, group_uuid))

    def get_by_instance(self, instance_uuid: str) -> dict[str, Any] | None:
        """The group a server belongs to, if any."""
        with self.db.reader() as session:
            row = session.scalars(sa.select(models.InstanceGroup).join(
                models.InstanceGroupMember).where(
                models.InstanceGroupMember.instance_uuid == instance_uuid)).first()
            return _as_dict(session, row) if row is not None else None

    def create(self, project_id: str, user_id: str, name: str, policy: str,
               rules: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """:raises: ServerGroupLimitExceeded (quota ``server_groups``)."""
        if policy not in POLICIES:
            raise ValueError("unknown server group policy %r" % policy)
        limit = self.quotas.limits(project_id, user_id)["server_groups"]
        if limit >= 0 and self.quotas.usage(project_id)["server_groups"] + 1 > limit:
            raise exception.ServerGroupLimitExceeded()
        with self.db.writer() as session:
            row = models.InstanceGroup(uuid=str(uuid_mod.uuid4()), name=name,
                                       project_id=project_id, user_id=user_id,
                                       policy=policy, rules=dict(rules or {}))
            session.add(row)
            session.flush()
            session.refresh(row)
            return _as_dict(session, row)

    def delete(self, group_uuid: str) -> None:
        """:raises: InstanceGroupNotFound."""
        with self.db.writer() as session:
            session.delete(self._row(session, group_uuid))

    def add_member(self, group_uuid: str, instance_uuid: str) -> dict[str, Any]:
        """Put a server in a group (nothing happens when it already is one).

        :raises: InstanceGroupNotFound, ServerGroupMemberLimitExceeded (quota
            ``server_group_members`` of the group's project and user).
        """
        with self.db.writer() as session:
            row = self._row(session, group_uuid)
            uuids = [m.instance_uuid for m in row.members]
            if instance_uuid not in uuids:
                limit = self.quotas.limits(row.project_id,
                                           row.user_id)["server_group_members"]
                members = len(uuids) - len(_gone(session, uuids))
                if limit >= 0 and members + 1 > limit:
                    raise exception.ServerGroupMemberLimitExceeded()
                row.members.append(models.InstanceGroupMember(instance_uuid=instance_uuid))
                session.flush()
            return _as_dict(session, row)

    def remove_member(self, instance_uuid: str) -> None:
        """Take a server out of every group (it was deleted)."""
        with self.db.writer() as session:
            session.execute(sa.delete(models.InstanceGroupMember).where(
                models.InstanceGroupMember.instance_uuid == instance_uuid))
