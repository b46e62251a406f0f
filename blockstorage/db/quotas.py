"""Quota limits and live usage in the block storage database.

Limits: ``quotas`` (a project's own) and ``quota_classes`` (class ``default``
overrides the [quota] options). Usage is never stored: it is summed from the
volumes, snapshots and backups rows each time (rows with ``use_quota`` false,
Cinder's internal temporary ones, do not count). ``gigabytes`` covers volumes
and their snapshots, as on Cinder; per-type resources are named after the
type's name (``volumes_<name>``, ``gigabytes_<name>``, ``snapshots_<name>``).
"""
from __future__ import annotations

import typing
from collections import Counter
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.db import engine
from blockstorage.db import models

PER_TYPE_PREFIXES = ("volumes_", "gigabytes_", "snapshots_")


def _set_limits(session: orm.Session, model: Any, owner_column: str, owner: str,
                limits: Mapping[str, int]) -> None:
    rows = {r.resource: r for r in session.scalars(
        sa.select(model).where(getattr(model, owner_column) == owner))}
    for resource, limit in limits.items():
        row = rows.get(resource)
        if row is None:
            session.add(model(**{owner_column: owner, "resource": resource,
                                 "hard_limit": int(limit)}))
        else:
            row.hard_limit = int(limit)


def _type_names(session: orm.Session) -> dict[str, str]:
    rows = session.execute(sa.select(models.VolumeType.id, models.VolumeType.name))
    return {type_id: name for type_id, name in rows}


# The statements of a create's quota check are built once: building and keying
# an expression costs more than running it on SQLite.
_QUOTAS = typing.cast(sa.Table, models.Quota.__table__)
_CLASSES = typing.cast(sa.Table, models.QuotaClass.__table__)
_LIMITS = sa.union_all(
    sa.select(sa.literal_column("'project'").label("source"),
              _QUOTAS.c.resource.label("resource"), _QUOTAS.c.hard_limit.label("hard_limit"))
    .where(_QUOTAS.c.project_id == sa.bindparam("project_id")),
    sa.select(sa.literal_column("'class'").label("source"),
              _CLASSES.c.resource.label("resource"), _CLASSES.c.hard_limit.label("hard_limit"))
    .where(_CLASSES.c.class_name == sa.bindparam("class_name")))


# Each sum: (kind, type name or None, count, GiB) of the project ``project_id``.
def _volume_sums() -> Any:
    vol = typing.cast(sa.Table, models.Volume.__table__)
    vtype = typing.cast(sa.Table, models.VolumeType.__table__)
    return (sa.select(sa.literal_column("'volumes'").label("kind"),
                      vtype.c.name.label("type_name"),
                      sa.func.count(vol.c.id).label("count"),
                      sa.func.sum(vol.c.size).label("size"))
            .select_from(vol.outerjoin(vtype, vtype.c.id == vol.c.volume_type_id))
            .where(vol.c.project_id == sa.bindparam("project_id"),
                   vol.c.use_quota.is_(True))
            .group_by(vol.c.volume_type_id, vtype.c.name))


def _snapshot_sums() -> Any:
    # A snapshot counts under its own type, else its volume's (if the volume is gone,
    # the snapshot is too: foreign key).
    snap = typing.cast(sa.Table, models.Snapshot.__table__)
    vol = typing.cast(sa.Table, models.Volume.__table__)
    vtype = typing.cast(sa.Table, models.VolumeType.__table__)
    type_id = sa.func.coalesce(snap.c.volume_type_id, vol.c.volume_type_id)
    return (sa.select(sa.literal_column("'snapshots'").label("kind"),
                      vtype.c.name.label("type_name"),
                      sa.func.count(snap.c.id).label("count"),
                      sa.func.sum(snap.c.size).label("size"))
            .select_from(snap.outerjoin(vol, vol.c.id == snap.c.volume_id)
                         .outerjoin(vtype, vtype.c.id == type_id))
            .where(snap.c.project_id == sa.bindparam("project_id"),
                   snap.c.use_quota.is_(True))
            .group_by(type_id, vtype.c.name))


def _backup_sums() -> Any:
    backup = typing.cast(sa.Table, models.Backup.__table__)
    return sa.select(sa.literal_column("'backups'").label("kind"),
                     sa.null().label("type_name"),
                     sa.func.count(backup.c.id).label("count"),
                     sa.func.sum(backup.c.size).label("size")).where(
        backup.c.project_id == sa.bindparam("project_id"))


_USAGE = sa.union_all(_volume_sums(), _snapshot_sums(), _backup_sums())


class QuotaStore:
    """The ``quotas`` and ``quota_classes`` tables, and usage sums."""

    def __init__(self, db: engine.Database) -> None:
        self.db = db

    # -- limits
    def get_project(self, project_id: str) -> dict[str, int]:
        """The limits a project has of its own (no defaults)."""
        table = models.Quota.__table__
        with self.db.reader() as session:
            return {r.resource: r.hard_limit for r in session.execute(
                sa.select(table.c.resource, table.c.hard_limit).where(
                    table.c.project_id == project_id))}

    def get_project_and_class(self, project_id: str,
                              class_name: str) -> tuple[dict[str, int], dict[str, int]]:
        """:meth:`get_project` and :meth:`get_class` in one query (a create's check)."""
        project: dict[str, int] = {}
        klass: dict[str, int] = {}
        with self.db.reader() as session:
            for source, resource, limit in session.connection().execute(
                    _LIMITS, {"project_id": project_id, "class_name": class_name}):
                (project if source == "project" else klass)[resource] = limit
        return project, klass

    def set_project(self, project_id: str, limits: Mapping[str, int]) -> None:
        """Create or change a project's limits of the given resources."""
        with self.db.writer() as session:
            _set_limits(session, models.Quota, "project_id", project_id, limits)

    def delete_project(self, project_id: str) -> None:
        """Drop a project's own limits (it falls back to the defaults)."""
        with self.db.writer() as session:
            session.execute(sa.delete(models.Quota).where(
                models.Quota.project_id == project_id))

    def get_class(self, class_name: str) -> dict[str, int]:
        """The limits stored for a quota class (no [quota] defaults)."""
        table = models.QuotaClass.__table__
        with self.db.reader() as session:
            return {r.resource: r.hard_limit for r in session.execute(
                sa.select(table.c.resource, table.c.hard_limit).where(
                    table.c.class_name == class_name))}

    def set_class(self, class_name: str, limits: Mapping[str, int]) -> None:
        """Create or change a quota class's limits of the given resources."""
        with self.db.writer() as session:
            _set_limits(session, models.QuotaClass, "class_name", class_name, limits)

    def rename_type(self, old_name: str, new_name: str) -> None:
        """Follow a volume type's rename in the per-type resource names."""
        with self.db.writer() as session:
            for model in (models.Quota, models.QuotaClass):
                for prefix in PER_TYPE_PREFIXES:
                    session.execute(sa.update(model).where(
                        model.resource == prefix + old_name).values(
                        resource=prefix + new_name))

    def delete_type(self, name: str) -> None:
        """Drop the per-type limits of a deleted volume type."""
        names = [prefix + name for prefix in PER_TYPE_PREFIXES]
        with self.db.writer() as session:
            for model in (models.Quota, models.QuotaClass):
                session.execute(sa.delete(model).where(model.resource.in_(names)))

    # -- usage
    def type_names(self) -> dict[str, str]:
        """Every volume type, id -> name."""
        with self.db.reader() as session:
            return _type_names(session)

    def usage(self, project_id: str) -> dict[str, int]:
        """What ``project_id`` uses now: ``volumes``, ``gigabytes``, ``snapshots``,
        ``backups``, ``backup_gigabytes`` and the per-type resources of every
        type it has volumes or snapshots of (absent ones are 0)."""
        used: Counter[str] = Counter()
        # One query (the sums with their type's name, then the backups'): every
        # create checks its quota this way.
        with self.db.reader() as session:
            rows = session.connection().execute(_USAGE, {"project_id": project_id}).all()
        for kind, type_name, count, size in rows:
            if kind == "backups":
                used["backups"] += int(count or 0)
                used["backup_gigabytes"] += int(size or 0)
            else:
                self._add(used, kind, type_name, count, size)
        for key in ("volumes", "gigabytes", "snapshots", "backups", "backup_gigabytes"):
            used.setdefault(key, 0)
        return dict(used)

    @staticmethod
    def _add(used: Counter[str], kind: str, type_name: str | None, count: Any,
             size: Any) -> None:
        count, size = int(count or 0), int(size or 0)
        used[kind] += count
        used["gigabytes"] += size
        if type_name is not None:
            used["%s_%s" % (kind, type_name)] += count
            used["gigabytes_%s" % type_name] += size

