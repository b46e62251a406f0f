"""Snapshots in the block storage database: rows in, plain dicts out.

A snapshot dict holds every column of ``snapshots`` (times as ISO 8601
strings) plus ``metadata``. Status changes are compare-and-set:
:meth:`SnapshotStore.update` takes the statuses the caller expects and raises
``InvalidSnapshotStatus`` when another request moved the snapshot first.

:class:`Listing` and :func:`page` are the paging rules every list of this
package's stores share (Cinder's: sort keys, a marker that must be in the
result, an offset and a limit).
"""
from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.db import engine
from blockstorage import db
from blockstorage import exception
from blockstorage.db import models, rows_in_order

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
_TIME_COLUMNS = frozenset(("created_at", "updated_at"))
_COLUMNS = frozenset(c.name for c in models.Snapshot.__table__.columns)
_READ_ONLY = frozenset(("id", "created_at"))
SORT_KEYS = frozenset(("id", "name", "status", "size", "volume_id", "created_at",
                       "updated_at", "project_id", "user_id", "description", "progress"))
DEFAULT_SORT = (("created_at", "desc"),)


def isotime(value: datetime.datetime | None) -> str | None:
    return value.strftime(TIME_FORMAT) if value is not None else None


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


@dataclasses.dataclass
class Listing:
    """Sort, marker, offset and limit of a list request."""

    sort: Sequence[tuple[str, str]] = DEFAULT_SORT
    limit: int | None = None
    marker: str | None = None
    offset: int = 0


def order_by(model: Any, sort: Sequence[tuple[str, str]]) -> list[Any]:
    """ORDER BY clauses for ``sort`` ((key, asc|desc) pairs), ``id`` last as the
    tie-breaker so pages are stable."""
    clauses = []
    keys = [key for key, _ in sort]
    for key, direction in list(sort) + ([] if "id" in keys else [("id", "desc")]):
        column = getattr(model, key)
        clauses.append(column.desc() if direction == "desc" else column.asc())
    return clauses


def page(session: orm.Session, stmt: Any, listing: Listing) -> list[str]:
    """The ids ``stmt`` (a SELECT of ids, filtered and ordered) yields on the
    page ``listing`` names.

    :raises: MarkerNotFound (404, as Cinder answers) for a marker not in the result.
    """
    ids = [str(i) for i in session.scalars(stmt)]
    if listing.marker is not None:
        if listing.marker not in ids:
            raise exception.MarkerNotFound(marker=listing.marker)
        ids = ids[ids.index(listing.marker) + 1:]
    ids = ids[listing.offset:]
    if listing.limit is not None:
        ids = ids[:listing.limit]
    return ids


def to_dict(row: models.Snapshot) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in _COLUMNS:
        value = getattr(row, name)
        data[name] = isotime(value) if name in _TIME_COLUMNS else value
    data["metadata"] = {m.key: m.value for m in row.metadata_items}
    return data


@dataclasses.dataclass
class Query:
    """What a snapshot list asks for (every filter optional)."""

    project_id: str | None = None
    volume_id: str | None = None
    name: str | None = None
    statuses: Sequence[str] | None = None
    metadata: Mapping[str, str] | None = None
    listing: Listing = dataclasses.field(default_factory=Listing)


def _filtered(stmt: Any, query: Query) -> Any:
    cols = models.Snapshot
    for name in ("project_id", "volume_id", "name"):
        value = getattr(query, name)
        if value is not None:
            stmt = stmt.where(getattr(cols, name) == value)
    if query.statuses is not None:
        stmt = stmt.where(cols.status.in_(list(query.statuses)))
    for key, value in (query.metadata or {}).items():
        stmt = stmt.where(cols.metadata_items.any(sa.and_(
            models.SnapshotMetadata.key == key, models.SnapshotMetadata.value == value)))
    return stmt


class SnapshotStore:
    """Snapshots and their metadata."""

    def __init__(self, db: engine.Database) -> None:
        self.db = db

    @staticmethod
    def _row(session: orm.Session, snapshot_id: str) -> models.Snapshot:
        return db.get_row(session, models.Snapshot, snapshot_id,
                          lambda: exception.SnapshotNotFound(snapshot_id=snapshot_id))

    # -- reads
    def get(self, snapshot_id: str) -> dict[str, Any]:
        """:raises: SnapshotNotFound."""
        with self.db.reader() as session:
            return to_dict(self._row(session, snapshot_id))

    def get_all(self, query: Query) -> list[dict[str, Any]]:
        """Snapshots matching ``query``, sorted and paged.

        :raises: MarkerNotFound.
        """
        stmt = _filtered(sa.select(models.Snapshot.id), query).order_by(
            *order_by(models.Snapshot, query.listing.sort))
        with self.db.reader() as session:
            ids = page(session, stmt, query.listing)
            return [to_dict(row) for row in rows_in_order(session, models.Snapshot, ids)]

    def count(self, query: Query) -> int:
        """How many snapshots match ``query``'s filters (paging ignored)."""
        stmt = _filtered(sa.select(sa.func.count(models.Snapshot.id)), query)
        with self.db.reader() as session:
            return int(session.scalar(stmt) or 0)

    # -- writes
    def create(self, values: Mapping[str, Any],
               metadata: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Insert one snapshot (``id`` generated when absent)."""
        values = db.new_row_values(values, _COLUMNS, "snapshot")
        with self.db.writer() as session:
            row = models.Snapshot(**values)
            row.metadata_items = [models.SnapshotMetadata(key=k, value=v)
                                  for k, v in (metadata or {}).items()]
            session.add(row)
            session.flush()
            return to_dict(row)

    def update(self, snapshot_id: str, values: Mapping[str, Any],
               expected_status: Iterable[str] | None = None) -> dict[str, Any]:
        """Set columns of a snapshot, checking its status in the same UPDATE.

        :raises: SnapshotNotFound, InvalidSnapshotStatus.
        """
        bad = set(values) - (_COLUMNS - _READ_ONLY)
        if bad:
            raise ValueError("cannot update snapshot columns: %s" % ", ".join(sorted(bad)))
        stmt = sa.update(models.Snapshot).where(models.Snapshot.id == snapshot_id)
        allowed = list(expected_status) if expected_status is not None else None
        if allowed is not None:
            stmt = stmt.where(models.Snapshot.status.in_(allowed))
        changes = dict(values)
        changes.setdefault("updated_at", utcnow())
        with self.db.writer() as session:
            result: Any = session.execute(stmt.values(**changes))
            if not result.rowcount:
                row = self._row(session, snapshot_id)
                raise exception.InvalidSnapshotStatus(
                    snapshot_id=snapshot_id, expected="/".join(sorted(allowed or [])),
                    actual=row.status)
            session.expire_all()
            return to_dict(self._row(session, snapshot_id))

    def delete(self, snapshot_id: str) -> None:
        """Delete a snapshot row with its metadata. :raises: SnapshotNotFound."""
        with self.db.writer() as session:
            session.delete(self._row(session, snapshot_id))

    def set_metadata(self, snapshot_id: str, items: Mapping[str, str],
                     replace: bool = False) -> dict[str, str]:
        """Merge ``items`` into (with ``replace``: make them) the metadata.

        :returns: the metadata now. :raises: SnapshotNotFound.
        """
        with self.db.writer() as session:
            row = self._row(session, snapshot_id)
            current = {m.key: m for m in row.metadata_items}
            for key, item in current.items():
                if replace and key not in items:
                    session.delete(item)
            for key, value in items.items():
                if key in current:
                    current[key].value = value
                else:
                    session.add(models.SnapshotMetadata(snapshot_id=snapshot_id, key=key,
                                                        value=value))
            row.updated_at = utcnow()
            session.flush()
            session.expire(row)
            return {m.key: m.value or "" for m in row.metadata_items}

    def delete_metadata(self, snapshot_id: str, key: str) -> None:
        """:raises: SnapshotNotFound, SnapshotMetadataNotFound."""
        with self.db.writer() as session:
            row = self._row(session, snapshot_id)
            found = [m for m in row.metadata_items if m.key == key]
            if not found:
                raise exception.SnapshotMetadataNotFound(snapshot_id=snapshot_id,
                                                         metadata_key=key)
            session.delete(found[0])
