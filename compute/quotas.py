"""Compute quotas: defaults from ``[quota]``, per-project (and per-user)
overrides in the ``quotas`` table, usage counted live from the database.

Nova counts usage rather than keeping reservations: a check reads what the
project holds now and refuses a request that would go over. Two requests racing
may both pass; the server create path re-checks after writing its rows and
removes them again when the project went over (:meth:`QuotaService.check`
with ``recheck=True``), as Nova does.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from common.db import engine
from compute import exception
from compute.conf import compute as compute_opts
from compute.db import instances as instances_db
from compute.db import models

# The resources of the quota-set API, in Nova's order; the legacy network ones
# are shown before microversion 2.36 only.
RESOURCES = ("instances", "cores", "ram", "metadata_items", "injected_files",
             "injected_file_content_bytes", "injected_file_path_length", "key_pairs",
             "server_groups", "server_group_members")
LEGACY_RESOURCES = tuple(compute_opts.LEGACY_QUOTA_DEFAULTS)
# Resources whose use is counted (the others are per-request limits).
COUNTED = ("instances", "cores", "ram", "key_pairs", "server_groups")
# Quota classes (os-quota-class-sets) are kept as the rows of a reserved project id.
DEFAULT_CLASS = "default"
CLASS_PREFIX = "__quota_class__:"


class QuotaService:
    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database) -> None:
        self.conf = conf
        self.db = db
        self.instances = instances_db.InstanceStore(db)

    def defaults(self) -> dict[str, int]:
        """Every resource's default limit (legacy network ones included): the
        options, then the ``default`` quota class (os-quota-class-sets)."""
        return self.class_limits(DEFAULT_CLASS)

    def class_limits(self, class_name: str) -> dict[str, int]:
        """A quota class's limits: the defaults overridden by the class's rows."""
        values = {name: int(getattr(self.conf.quota, name)) for name in RESOURCES}
        values.update(compute_opts.LEGACY_QUOTA_DEFAULTS)
        names = [CLASS_PREFIX + DEFAULT_CLASS, CLASS_PREFIX + class_name]
        with self.db.reader() as session:
            rows = list(session.scalars(sa.select(models.Quota).where(
                models.Quota.project_id.in_(names), models.Quota.user_id == "")))
        for row in sorted(rows, key=lambda r: r.project_id != names[0]):
            values[row.resource] = row.hard_limit
        return values

    def update_class(self, class_name: str, values: Mapping[str, int]) -> dict[str, int]:
        """Set a quota class's limits (the ``default`` class changes the defaults)."""
        self.update(CLASS_PREFIX + class_name, values, force=True)
        return self.class_limits(class_name)

    def limits(self, project_id: str, user_id: str | None = None) -> dict[str, int]:
        """The limits in force for a project (or a user of it): defaults, then the
        project's overrides, then the user's."""
        values = {name: int(getattr(self.conf.quota, name)) for name in RESOURCES}
        values.update(compute_opts.LEGACY_QUOTA_DEFAULTS)
        default = CLASS_PREFIX + DEFAULT_CLASS
        # The default class's rows and the project's, in one statement.
        query = sa.select(models.Quota.project_id, models.Quota.user_id,
                          models.Quota.resource, models.Quota.hard_limit).where(
            models.Quota.project_id.in_([default, project_id]))
        with self.db.reader() as session:
            rows = list(session.execute(query))
        order = {(default, ""): 0, (project_id, ""): 1, (project_id, user_id): 2}
        for row in sorted((r for r in rows if (r.project_id, r.user_id) in order),
                          key=lambda r: order[(r.project_id, r.user_id)]):
            values[row.resource] = row.hard_limit
        return values

    def usage(self, project_id: str, user_id: str | None = None,
              resources: Collection[str] = COUNTED) -> dict[str, int]:
        """What a project (or user) holds now, for the counted resources (or only
        those of ``resources``: a resource not asked for is not counted)."""
        found: dict[str, int] = {}
        if {"instances", "cores", "ram"} & set(resources):
            found.update(self.instances.count(project_id, user_id))
        with self.db.reader() as session:
            if "server_groups" in resources:
                found["server_groups"] = int(session.scalar(
                    sa.select(sa.func.count(models.InstanceGroup.id)).where(
                        models.InstanceGroup.project_id == project_id)) or 0)
            if "key_pairs" in resources:
                keypairs = 0
                if user_id is not None:
                    keypairs = session.scalar(sa.select(sa.func.count(models.KeyPair.id)).where(
                        models.KeyPair.user_id == user_id)) or 0
                found["key_pairs"] = int(keypairs)
        return found

    def check(self, project_id: str, user_id: str | None, deltas: Mapping[str, int],
              recheck: bool = False, limits: Mapping[str, int] | None = None) -> None:
        """Refuse ``deltas`` (e.g. ``{"instances": 2, "cores": 4, "ram": 1024}``) when
        the project would go over a limit. With ``recheck`` the deltas are already
        counted in the usage (the rows were written) and only must not exceed it.
        ``limits``: what :meth:`limits` answered for the same project and user
        earlier in the request (read again when None).

        :raises: TooManyInstances (403) naming every resource over its limit.
        """
        if limits is None:
            limits = self.limits(project_id, user_id)
        limited = [r for r, delta in deltas.items() if delta > 0 and limits.get(r, -1) >= 0]
        # Only what a limit applies to is counted (nothing under unlimited quotas).
        used = self.usage(project_id, user_id, limited) if limited else {}
        overs = []
        for resource, delta in deltas.items():
            if resource not in limited:
                continue
            limit = limits[resource]
            current = used.get(resource, 0) - (delta if recheck else 0)
            if current + delta > limit:
                overs.append((resource, delta, current, limit))
        if overs:
            raise exception.TooManyInstances(
                overs=", ".join(o[0] for o in overs),
                req=", ".join(str(o[1]) for o in overs),
                used=", ".join(str(o[2]) for o in overs),
                allowed=", ".join(str(o[3]) for o in overs))

    def update(self, project_id: str, values: Mapping[str, int], user_id: str | None = None,
               force: bool = False) -> dict[str, int]:
        """Set limits (``force`` allows a limit below the current use).

        :raises: InvalidQuotaValue for unknown resources or values < -1,
            QuotaBelowUsage.
        """
        known = set(RESOURCES) | set(LEGACY_RESOURCES)
        for resource, value in values.items():
            if resource not in known:
                raise exception.InvalidQuotaValue(value=value, resource=resource,
                                                  reason="unknown resource")
            if int(value) < -1:
                raise exception.InvalidQuotaValue(value=value, resource=resource,
                                                  reason="must be -1 or greater")
        if not force:
            used = self.usage(project_id, user_id)
            for resource, value in values.items():
                if resource in COUNTED and int(value) != -1 and \
                        int(value) < used.get(resource, 0):
                    raise exception.QuotaBelowUsage(limit=value, resource=resource,
                                                    used=used.get(resource, 0))
        with self.db.writer() as session:
            for resource, value in values.items():
                row = session.scalars(sa.select(models.Quota).where(
                    models.Quota.project_id == project_id,
                    models.Quota.user_id == (user_id or ""),
                    models.Quota.resource == resource)).first()
                if row is None:
                    session.add(models.Quota(project_id=project_id, user_id=user_id or "",
                                             resource=resource, hard_limit=int(value)))
                else:
                    row.hard_limit = int(value)
        return self.limits(project_id, user_id)

    def delete(self, project_id: str, user_id: str | None = None) -> None:
        """Back to the defaults (a project's delete also drops its users' overrides)."""
        query = sa.delete(models.Quota).where(models.Quota.project_id == project_id)
        if user_id is not None:
            query = query.where(models.Quota.user_id == user_id)
        with self.db.writer() as session:
            session.execute(query)

    def detail(self, project_id: str, user_id: str | None = None) -> dict[str, dict[str, Any]]:
        """``{resource: {"limit", "in_use", "reserved"}}`` (os-quota-sets/detail)."""
        limits = self.limits(project_id, user_id)
        used = self.usage(project_id, user_id)
        return {name: {"limit": limit, "in_use": used.get(name, 0), "reserved": 0}
                for name, limit in limits.items()}
