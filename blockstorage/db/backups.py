"""Backups in the block storage database: rows in, plain dicts out.

A backup dict holds every column of ``backups`` (times as ISO 8601 strings)
plus ``metadata`` (3.43) and ``has_dependent_backups`` (another backup names
it as its parent). Status changes are compare-and-set: :meth:`BackupStore.update`
raises ``InvalidBackupStatus`` when another request moved the backup first.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.db import engine
from blockstorage import db
from blockstorage import exception
from blockstorage.db import models, rows_in_order
from blockstorage.db import snapshots as snapshot_store

_TIME_COLUMNS = frozenset(("created_at", "updated_at", "data_timestamp"))
_COLUMNS = frozenset(c.name for c in models.Backup.__table__.columns)
_READ_ONLY = frozenset(("id", "created_at"))
SORT_KEYS = frozenset(("id", "name", "status", "size", "volume_id", "created_at",
                       "updated_at", "project_id", "user_id", "description",
                       "container", "availability_zone", "data_timestamp"))
DEFAULT_SORT = (("created_at", "desc"),)


def to_dict(row: models.Backup, dependents: int) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in _COLUMNS:
        value = getattr(row, name)
        data[name] = snapshot_store.isotime(value) if name in _TIME_COLUMNS else value
    data["metadata"] = {m.key: m.value for m in row.metadata_items}
    data["has_dependent_backups"] = dependents > 0
    return data


@dataclasses.dataclass
class Query:
    """What a backup list asks for (every filter optional)."""

    project_id: str | None = None
    volume_id: str | None = None
    name: str | None = None
    statuses: Sequence[str] | None = None
    listing: snapshot_store.Listing = dataclasses.field(
        default_factory=lambda: snapshot_store.Listing(sort=DEFAULT_SORT))


def _filtered(stmt: Any, query: Query) -> Any:
    cols = models.Backup
    for name in ("project_id", "volume_id", "name"):
        value = getattr(query, name)
        if value is not None:
            stmt = stmt.where(getattr(cols, name) == value)
    if query.statuses is not None:
        stmt = stmt.where(cols.status.in_(list(query.statuses)))
    return stmt


class BackupStore:
    """Backups and their metadata."""

    def __init__(self, db: engine.Database) -> None:
        self.db = db

    @staticmethod
    def _row(session: orm.Session, backup_id: str) -> models.Backup:
        return db.get_row(session, models.Backup, backup_id,
                          lambda: exception.BackupNotFound(backup_id=backup_id))

    @staticmethod
    def _dicts(session: orm.Session, rows: Sequence[models.Backup]) -> list[dict[str, Any]]:
        counts = {parent: int(n) for parent, n in session.execute(
            sa.select(models.Backup.parent_id, sa.func.count(models.Backup.id))
            .where(models.Backup.parent_id.in_([r.id for r in rows]))
            .group_by(models.Backup.parent_id))} if rows else {}
        return [to_dict(r, counts.get(r.id, 0)) for r in rows]

    # -- reads
    def get(self, backup_id: str) -> dict[str, Any]:
        """:raises: BackupNotFound."""
        with self.db.reader() as session:
            return self._dicts(session, [self._row(session, backup_id)])[0]

    def get_all(self, query: Query) -> list[dict[str, Any]]:
        """Backups matching ``query``, sorted and paged. :raises: MarkerNotFound."""
        cols = models.Backup
        stmt = _filtered(sa.select(cols.id), query).order_by(
            *snapshot_store.order_by(cols, query.listing.sort))
        with self.db.reader() as session:
            ids = snapshot_store.page(session, stmt, query.listing)
            rows = rows_in_order(session, cols, ids)
            return self._dicts(session, rows) if rows else []

    def count(self, query: Query) -> int:
        """How many backups match ``query``'s filters (paging ignored)."""
        stmt = _filtered(sa.select(sa.func.count(models.Backup.id)), query)
        with self.db.reader() as session:
            return int(session.scalar(stmt) or 0)

    def latest_available(self, volume_id: str) -> dict[str, Any] | None:
        """The volume's newest ``available`` backup (by data time): the parent of
        an incremental backup. None when it has none."""
        cols = models.Backup
        stmt = (sa.select(cols).where(cols.volume_id == volume_id,
                                      cols.status == "available")
                .order_by(sa.func.coalesce(cols.data_timestamp, cols.created_at).desc(),
                          cols.created_at.desc()).limit(1))
        with self.db.reader() as session:
            row = session.scalars(stmt).first()
            return self._dicts(session, [row])[0] if row is not None else None

    # -- writes
    def create(self, values: Mapping[str, Any],
               metadata: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Insert one backup (``id`` generated when absent)."""
        values = db.new_row_values(values, _COLUMNS, "backup")
        with self.db.writer() as session:
            row = models.Backup(**values)
            row.metadata_items = [models.BackupMetadata(key=k, value=v)
                                  for k, v in (metadata or {}).items()]
            session.add(row)
            session.flush()
            return to_dict(row, 0)

    def update(self, backup_id: str, values: Mapping[str, Any],
               expected_status: Iterable[str] | None = None) -> dict[str, Any]:
        """Set columns of a backup, checking its status in the same UPDATE.

        :raises: BackupNotFound, InvalidBackupStatus.
        """
        bad = set(values) - (_COLUMNS - _READ_ONLY)
        if bad:
            raise ValueError("cannot update backup columns: %s" % ", ".join(sorted(bad)))
        stmt = sa.update(models.Backup).where(models.Backup.id == backup_id)
        allowed = list(expected_status) if expected_status is not None else None
        if allowed is not None:
            stmt = stmt.where(models.Backup.status.in_(allowed))
        changes = dict(values)
        changes.setdefault("updated_at", snapshot_store.utcnow())
        with self.db.writer() as session:
            result: Any = session.execute(stmt.values(**changes))
            if not result.rowcount:
                row = self._row(session, backup_id)
                raise exception.InvalidBackupStatus(
                    backup_id=backup_id, expected="/".join(sorted(allowed or [])),
                    actual=row.status)
            session.expire_all()
            return self._dicts(session, [self._row(session, backup_id)])[0]

    def set_metadata(self, backup_id: str, items: Mapping[str, str],
                     replace: bool = False) -> dict[str, str]:
        """Merge ``items`` into (with ``replace``: make them) the metadata.

        :raises: BackupNotFound.
        """
        with self.db.writer() as session:
            row = self._row(session, backup_id)
            current = {m.key: m for m in row.metadata_items}
            for key, item in current.items():
                if replace and key not in items:
                    session.delete(item)
            for key, value in items.items():
                if key in current:
                    current[key].value = value
                else:
                    session.add(models.BackupMetadata(backup_id=backup_id, key=key,
                                                      value=value))
            session.flush()
            session.expire(row)
            return {m.key: m.value or "" for m in row.metadata_items}

    def delete(self, backup_id: str) -> None:
        """Delete a backup row with its metadata. :raises: BackupNotFound."""
        with self.db.writer() as session:
            session.delete(self._row(session, backup_id))
