"""Quota limits and live usage in the block storage database.

Limits: ``quotas`` (a project's own) and ``quota_classes`` (class ``default``
overrides the [quota] options). Usage is never stored: it is summed from the
volumes, snapshots and backups rows each time (rows with ``use_quota`` false,
Cinder's internal temporary ones, do not count). ``gigabytes`` covers volumes
and their snapshots, as on Cinder; per-type resources are named after the
type's name (``volumes_<name>``, ``gigabytes_<name>``, ``snapshots_<name>``).
"""
from __future__ import annotations

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


class QuotaStore:
    """The ``quotas`` and ``quota_classes`` tables, and usage sums."""

    def __init__(self, db: engine.Database) -> None:
        self.db = db

    # -- limits
    def get_project(self, project_id: str) -> dict[str, int]:
        """The limits a project has of its own (no defaults)."""
        with self.db.reader() as session:
            return {r.resource: r.hard_limit for r in session.scalars(
                sa.select(models.Quota).where(models.Quota.project_id == project_id))}

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
        with self.db.reader() as session:
            return {r.resource: r.hard_limit for r in session.scalars(
                sa.select(models.QuotaClass).where(
                    models.QuotaClass.class_name == class_name))}

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
        with self.db.reader() as session:
            names = _type_names(session)
            for type_id, count, size in session.execute(self._volume_sums(project_id)):
                self._add(used, "volumes", names.get(type_id), count, size)
            for type_id, count, size in session.execute(self._snapshot_sums(project_id)):
                self._add(used, "snapshots", names.get(type_id), count, size)
            count, size = session.execute(self._backup_sums(project_id)).one()
        used["backups"] += int(count or 0)
        used["backup_gigabytes"] += int(size or 0)
        for key in ("volumes", "gigabytes", "snapshots"):
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

    @staticmethod
    def _volume_sums(project_id: str) -> Any:
        vol = models.Volume
        return (sa.select(vol.volume_type_id, sa.func.count(vol.id), sa.func.sum(vol.size))
                .where(vol.project_id == project_id, vol.use_quota.is_(True))
                .group_by(vol.volume_type_id))

    @staticmethod
    def _snapshot_sums(project_id: str) -> Any:
        # A snapshot counts under its own type, else its volume's (if the volume is gone,
        # the snapshot is too: foreign key).
        snap, vol = models.Snapshot, models.Volume
        type_id = sa.func.coalesce(snap.volume_type_id, vol.volume_type_id)
        return (sa.select(type_id, sa.func.count(snap.id), sa.func.sum(snap.size))
                .select_from(snap).outerjoin(vol, vol.id == snap.volume_id)
                .where(snap.project_id == project_id, snap.use_quota.is_(True))
                .group_by(type_id))

    @staticmethod
    def _backup_sums(project_id: str) -> Any:
        backup = models.Backup
        return sa.select(sa.func.count(backup.id), sa.func.sum(backup.size)).where(
            backup.project_id == project_id)
