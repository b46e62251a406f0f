"""Volume attachments (the attachments API, 3.27+) in the block storage
database: rows in, plain dicts out.

An attachment dict holds every column of ``volume_attachments`` (times as ISO
8601 strings; ``connector`` and ``connection_info`` as dicts) plus
``project_id``, the project of its volume (attachments have no project of
their own: who may see one is who may see its volume). Status changes are
compare-and-set on ``attach_status``.
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

_TIME_COLUMNS = frozenset(("created_at", "updated_at", "attach_time", "detach_time"))
_COLUMNS = frozenset(c.name for c in models.VolumeAttachment.__table__.columns)
_READ_ONLY = frozenset(("id", "volume_id", "created_at"))
SORT_KEYS = frozenset(("id", "volume_id", "instance_uuid", "attach_status", "attach_mode",
                       "created_at", "updated_at", "attach_time", "detach_time"))
DEFAULT_SORT = (("created_at", "desc"),)


def to_dict(row: models.VolumeAttachment, project_id: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in _COLUMNS:
        value = getattr(row, name)
        data[name] = snapshot_store.isotime(value) if name in _TIME_COLUMNS else value
    data["project_id"] = project_id
    return data


@dataclasses.dataclass
class Query:
    """What an attachment list asks for (every filter optional)."""

    project_id: str | None = None
    volume_id: str | None = None
    instance_uuid: str | None = None
    statuses: Sequence[str] | None = None
    listing: snapshot_store.Listing = dataclasses.field(
        default_factory=lambda: snapshot_store.Listing(sort=DEFAULT_SORT))


def _filtered(stmt: Any, query: Query) -> Any:
    cols = models.VolumeAttachment
    if query.project_id is not None:
        stmt = stmt.where(cols.volume_id.in_(sa.select(models.Volume.id).where(
            models.Volume.project_id == query.project_id)))
    if query.volume_id is not None:
        stmt = stmt.where(cols.volume_id == query.volume_id)
    if query.instance_uuid is not None:
        stmt = stmt.where(cols.instance_uuid == query.instance_uuid)
    if query.statuses is not None:
        stmt = stmt.where(cols.attach_status.in_(list(query.statuses)))
    return stmt


class AttachmentStore:
    """Rows of ``volume_attachments``."""

    def __init__(self, db: engine.Database) -> None:
        self.db = db

    @staticmethod
    def _row(session: orm.Session, attachment_id: str) -> models.VolumeAttachment:
        return db.get_row(session, models.VolumeAttachment, attachment_id,
                          lambda: exception.VolumeAttachmentNotFound(attachment_id=attachment_id))

    @staticmethod
    def _projects(session: orm.Session, volume_ids: Iterable[str]) -> dict[str, str]:
        return {v_id: project for v_id, project in session.execute(
            sa.select(models.Volume.id, models.Volume.project_id).where(
                models.Volume.id.in_(list(set(volume_ids)))))}

    def _dicts(self, session: orm.Session,
               rows: Sequence[models.VolumeAttachment]) -> list[dict[str, Any]]:
        projects = self._projects(session, (r.volume_id for r in rows))
        return [to_dict(r, projects.get(r.volume_id)) for r in rows]

    # -- reads
    def get(self, attachment_id: str) -> dict[str, Any]:
        """:raises: VolumeAttachmentNotFound."""
        with self.db.reader() as session:
            return self._dicts(session, [self._row(session, attachment_id)])[0]

    def get_all(self, query: Query) -> list[dict[str, Any]]:
        """Attachments matching ``query``, sorted and paged. :raises: MarkerNotFound."""
        cols = models.VolumeAttachment
        stmt = _filtered(sa.select(cols.id), query).order_by(
            *snapshot_store.order_by(cols, query.listing.sort))
        with self.db.reader() as session:
            ids = snapshot_store.page(session, stmt, query.listing)
            rows = rows_in_order(session, cols, ids)
            return self._dicts(session, rows) if rows else []

    def attachments_of(self, volume_id: str,
                       statuses: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """A volume's attachments, oldest first (``statuses``: only those)."""
        query = Query(volume_id=volume_id, statuses=statuses,
                      listing=snapshot_store.Listing(sort=(("created_at", "asc"),
                                                           ("id", "asc"))))
        return self.get_all(query)

    # -- writes
    def create(self, volume_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Insert an attachment of ``volume_id`` (``id`` generated when absent).

        :raises: VolumeNotFound.
        """
        values = db.new_row_values(values, _COLUMNS, "attachment")
        with self.db.writer() as session:
            volume = session.get(models.Volume, volume_id)
            if volume is None:
                raise exception.VolumeNotFound(volume_id=volume_id)
            row = models.VolumeAttachment(volume_id=volume_id, **values)
            session.add(row)
            session.flush()
            return to_dict(row, volume.project_id)

    def update(self, attachment_id: str, values: Mapping[str, Any],
               expected_status: Iterable[str] | None = None) -> dict[str, Any]:
        """Set columns of an attachment, checking ``attach_status`` in the same UPDATE.

        :raises: VolumeAttachmentNotFound, InvalidAttachmentStatus.
        """
        bad = set(values) - (_COLUMNS - _READ_ONLY)
        if bad:
            raise ValueError("cannot update attachment columns: %s" % ", ".join(sorted(bad)))
        cols = models.VolumeAttachment
        stmt = sa.update(cols).where(cols.id == attachment_id)
        allowed = list(expected_status) if expected_status is not None else None
        if allowed is not None:
            stmt = stmt.where(cols.attach_status.in_(allowed))
        changes = dict(values)
        changes.setdefault("updated_at", snapshot_store.utcnow())
        with self.db.writer() as session:
            result: Any = session.execute(stmt.values(**changes))
            if not result.rowcount:
                row = self._row(session, attachment_id)
                raise exception.InvalidAttachmentStatus(
                    attachment_id=attachment_id, expected="/".join(sorted(allowed or [])),
                    actual=row.attach_status)
            session.expire_all()
            return self._dicts(session, [self._row(session, attachment_id)])[0]

    def delete(self, attachment_id: str) -> None:
        """:raises: VolumeAttachmentNotFound."""
        with self.db.writer() as session:
            session.delete(self._row(session, attachment_id))
