"""Volumes in the block storage database: rows in, plain dicts out.

A volume dict holds every column of ``volumes`` (times as ISO 8601 strings) plus
``metadata``, ``admin_metadata`` and ``glance_metadata`` (dicts),
``attachments`` (its ``volume_attachments`` rows as dicts) and
``volume_type_name``. Status changes are compare-and-set: :meth:`VolumeStore.update`
takes the statuses the caller expects and raises ``InvalidVolumeStatus`` when
another request moved the volume first (:meth:`VolumeStore.change` does the
same without reading the volume back).

Volumes are read and written with SQL expressions built once, not ORM objects
(:func:`load`: three queries for any number of volumes): every create,
placement and status change reads or writes one, and building ORM objects (or
the expressions) costs several times running the queries on SQLite.
"""
from __future__ import annotations

import dataclasses
import datetime
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.db import engine
from blockstorage import db
from blockstorage import exception
from blockstorage import states
from blockstorage.db import models

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
_TIME_COLUMNS = frozenset(("created_at", "updated_at", "launched_at", "terminated_at"))
_COLUMNS = frozenset(c.name for c in models.Volume.__table__.columns)
_READ_ONLY = frozenset(("id", "created_at"))
# API sort keys -> columns (Cinder sorts by any of these; ``name`` is display_name).
SORT_KEYS = frozenset(("id", "name", "status", "size", "availability_zone", "created_at",
                       "updated_at", "bootable", "volume_type_id", "project_id",
                       "user_id", "host", "multiattach", "description"))
DEFAULT_SORT = (("created_at", "desc"),)
# Columns an admin may filter a list on by equality (``?host=...``).
FILTER_COLUMNS = frozenset(("host", "project_id", "user_id", "volume_type_id",
                            "attach_status", "multiattach", "snapshot_id",
                            "source_volid", "image_id", "backup_id", "migration_status",
                            "replication_status", "group_id", "consistencygroup_id"))


def isotime(value: datetime.datetime | None) -> str | None:
    return value.strftime(TIME_FORMAT) if value is not None else None


def _attachment_dict(row: Any) -> dict[str, Any]:
    return {"id": row.id, "volume_id": row.volume_id, "instance_uuid": row.instance_uuid,
            "attached_host": row.attached_host, "mountpoint": row.mountpoint,
            "attach_mode": row.attach_mode, "attach_status": row.attach_status,
            "connector": row.connector, "attach_time": isotime(row.attach_time),
            "detach_time": isotime(row.detach_time), "created_at": isotime(row.created_at),
            "updated_at": isotime(row.updated_at)}


_VOLUMES = typing.cast(sa.Table, models.Volume.__table__)
_TYPES = typing.cast(sa.Table, models.VolumeType.__table__)
_ATTACHMENTS = typing.cast(sa.Table, models.VolumeAttachment.__table__)
# The key/value tables of a volume: dict key -> table.
_KV_TABLES = (("metadata", typing.cast(sa.Table, models.VolumeMetadata.__table__)),
              ("admin_metadata", typing.cast(sa.Table, models.VolumeAdminMetadata.__table__)),
              ("glance_metadata", typing.cast(sa.Table, models.VolumeGlanceMetadata.__table__)))
_TYPE_NAME = "_volume_type_name"


def _row_dict(row: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in _COLUMNS:
        value = row[name]
        data[name] = isotime(value) if name in _TIME_COLUMNS else value
    for kind, _table in _KV_TABLES:
        data[kind] = {}
    data["attachments"] = []
    data["volume_type_name"] = row[_TYPE_NAME]
    return data


# The statements of the hot paths are built once: building and keying an
# expression costs more than running it on SQLite.
_IDS: sa.BindParameter[list[str]] = sa.bindparam("ids", expanding=True)
_LOAD_ROWS = (sa.select(_VOLUMES, _TYPES.c.name.label(_TYPE_NAME))
              .select_from(_VOLUMES.outerjoin(_TYPES,
                                              _TYPES.c.id == _VOLUMES.c.volume_type_id))
              .where(_VOLUMES.c.id.in_(_IDS)))
_LOAD_ITEMS = sa.union_all(*[
    sa.select(sa.literal_column("'%s'" % kind).label("kind"), table.c.id.label("item_id"),
              table.c.volume_id.label("volume_id"), table.c.key.label("key"),
              table.c.value.label("value")).where(table.c.volume_id.in_(_IDS))
    for kind, table in _KV_TABLES]).order_by(sa.literal_column("item_id"))
_LOAD_ATTACHMENTS = sa.select(_ATTACHMENTS).where(_ATTACHMENTS.c.volume_id.in_(_IDS))
_STATUS = sa.select(_VOLUMES.c.status).where(_VOLUMES.c.id == sa.bindparam("id"))
_TYPE_NAME_OF = sa.select(_TYPES.c.name).where(_TYPES.c.id == sa.bindparam("id"))


def load(session: orm.Session, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The volume dicts of ``ids`` (those that exist), by id: one query for the
    rows and their type names, one for the three key/value tables, one for the
    attachments. Key/value items come in the order they were written, the
    attachments by creation."""
    if not ids:
        return {}
    params = {"ids": list(ids)}
    conn = session.connection()
    found = {row["id"]: _row_dict(row)
             for row in conn.execute(_LOAD_ROWS, params).mappings()}
    if not found:
        return found
    for kind, _item_id, volume_id, key, value in conn.execute(_LOAD_ITEMS, params):
        if volume_id in found:
            found[volume_id][kind][key] = value
    attachments = conn.execute(_LOAD_ATTACHMENTS, params).all()
    for att in sorted(attachments, key=lambda a: (a.created_at, a.id)):
        if att.volume_id in found:
            found[att.volume_id]["attachments"].append(_attachment_dict(att))
    return found


def _update_statement(status: bool, attach_status: bool) -> Any:
    """An UPDATE of one volume (``w_id``) whose SET clause is the parameters'
    columns, checking its status (``w_status``) and/or attach status (``w_attach``)."""
    stmt = sa.update(_VOLUMES).where(_VOLUMES.c.id == sa.bindparam("w_id"))
    if status:
        stmt = stmt.where(_VOLUMES.c.status.in_(sa.bindparam("w_status", expanding=True)))
    if attach_status:
        stmt = stmt.where(_VOLUMES.c.attach_status.in_(
            sa.bindparam("w_attach", expanding=True)))
    return stmt


_UPDATES = {(status, attach): _update_statement(status, attach)
            for status in (False, True) for attach in (False, True)}
_INSERT = sa.insert(_VOLUMES).returning(*_VOLUMES.c)
_INSERT_ITEMS = {kind: sa.insert(table).returning(table.c.key, table.c.value,
                                                  sort_by_parameter_order=True)
                 for kind, table in _KV_TABLES}


@dataclasses.dataclass
class Query:
    """What a volume list asks for (every filter optional)."""

    project_id: str | None = None
    name: str | None = None
    name_like: str | None = None
    statuses: Sequence[str] | None = None
    bootable: bool | None = None
    availability_zone: str | None = None
    metadata: Mapping[str, str] | None = None
    glance_metadata: Mapping[str, str] | None = None
    equal: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    # (column, operator, value): created_at/updated_at comparisons (3.60).
    times: Sequence[tuple[str, str, datetime.datetime]] = ()
    sort: Sequence[tuple[str, str]] = DEFAULT_SORT
    limit: int | None = None
    marker: str | None = None
    offset: int = 0


_OPS = {"gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__", "eq": "__eq__",
        "neq": "__ne__"}


def _filtered(stmt: Any, query: Query) -> Any:
    cols = models.Volume
    if query.project_id is not None:
        stmt = stmt.where(cols.project_id == query.project_id)
    if query.name is not None:
        stmt = stmt.where(cols.name == query.name)
    if query.name_like is not None:
        stmt = stmt.where(cols.name.like("%" + query.name_like + "%"))
    if query.statuses is not None:
        stmt = stmt.where(cols.status.in_(list(query.statuses)))
    if query.bootable is not None:
        stmt = stmt.where(cols.bootable == query.bootable)
    if query.availability_zone is not None:
        stmt = stmt.where(cols.availability_zone == query.availability_zone)
    for key, value in (query.metadata or {}).items():
        stmt = stmt.where(cols.metadata_items.any(sa.and_(
            models.VolumeMetadata.key == key, models.VolumeMetadata.value == value)))
    for key, value in (query.glance_metadata or {}).items():
        stmt = stmt.where(cols.glance_metadata.any(sa.and_(
            models.VolumeGlanceMetadata.key == key,
            models.VolumeGlanceMetadata.value == value)))
    for name, value in query.equal.items():
        column = getattr(cols, name)
        if isinstance(value, (list, tuple, set, frozenset)):
            stmt = stmt.where(column.in_(list(value)))
        else:
            stmt = stmt.where(column == value)
    for name, op, when in query.times:
        stmt = stmt.where(getattr(getattr(cols, name), _OPS[op])(when))
    return stmt


def _order(sort: Sequence[tuple[str, str]]) -> list[Any]:
    order = []
    keys = [key for key, _ in sort]
    for key, direction in list(sort) + ([] if "id" in keys else [("id", "desc")]):
        column = getattr(models.Volume, key)
        order.append(column.desc() if direction == "desc" else column.asc())
    return order


class VolumeStore:
    """Volumes and their metadata, admin metadata, image metadata and attachments."""

    def __init__(self, db: engine.Database) -> None:
        self.db = db

    # -- reads
    @staticmethod
    def _row(session: orm.Session, volume_id: str) -> models.Volume:
        row = session.get(models.Volume, volume_id)
        if row is None:
            raise exception.VolumeNotFound(volume_id=volume_id)
        return row

    @staticmethod
    def _one(session: orm.Session, volume_id: str) -> dict[str, Any]:
        found = load(session, [volume_id]).get(volume_id)
        if found is None:
            raise exception.VolumeNotFound(volume_id=volume_id)
        return found

    def get(self, volume_id: str) -> dict[str, Any]:
        """:raises: VolumeNotFound."""
        with self.db.reader() as session:
            return self._one(session, volume_id)

    def get_all(self, query: Query) -> list[dict[str, Any]]:
        """Volumes matching ``query``, sorted, after its marker, offset and limit.

        :raises: MarkerNotFound when the marker names no volume of the result.
        """
        stmt = _filtered(sa.select(models.Volume.id), query).order_by(*_order(query.sort))
        with self.db.reader() as session:
            ids = list(session.scalars(stmt))
            if query.marker is not None:
                if query.marker not in ids:
                    raise exception.MarkerNotFound(marker=query.marker)
                ids = ids[ids.index(query.marker) + 1:]
            ids = ids[query.offset:]
            if query.limit is not None:
                ids = ids[:query.limit]
            # A volume deleted since the id query is left out (see rows_in_order).
            found = load(session, ids)
            return [found[i] for i in ids if i in found]

    def count(self, query: Query) -> int:
        """How many volumes match ``query``'s filters (paging ignored)."""
        stmt = _filtered(sa.select(sa.func.count(models.Volume.id)), query)
        with self.db.reader() as session:
            return int(session.scalar(stmt) or 0)

    def summary(self, query: Query) -> dict[str, Any]:
        """Total size and count of the matching volumes, and their metadata merged
        (each key with every value seen, Cinder's 3.36 summary)."""
        stmt = _filtered(sa.select(sa.func.count(models.Volume.id),
                                   sa.func.coalesce(sa.func.sum(models.Volume.size), 0)),
                         query)
        ids = _filtered(sa.select(models.Volume.id), query)
        meta = sa.select(models.VolumeMetadata.key, models.VolumeMetadata.value).where(
            models.VolumeMetadata.volume_id.in_(ids.scalar_subquery()))
        with self.db.reader() as session:
            count, size = session.execute(stmt).one()
            merged: dict[str, list[str | None]] = {}
            for key, value in session.execute(meta):
                values = merged.setdefault(key, [])
                if value not in values:
                    values.append(value)
        return {"total_count": int(count), "total_size": int(size),
                "metadata": {k: v[0] if len(v) == 1 else sorted(str(x) for x in v)
                             for k, v in merged.items()}}

    def snapshot_count(self, volume_id: str) -> int:
        """How many snapshots a volume has (any status)."""
        with self.db.reader() as session:
            return int(session.scalar(sa.select(sa.func.count(models.Snapshot.id)).where(
                models.Snapshot.volume_id == volume_id)) or 0)

    def snapshots_deletable(self, volume_id: str) -> bool:
        """Whether every snapshot of the volume may be deleted (cascade)."""
        with self.db.reader() as session:
            found = session.scalars(sa.select(models.Snapshot.status).where(
                models.Snapshot.volume_id == volume_id))
            return all(status in states.SNAPSHOT_DELETABLE for status in found)

    # -- writes
    def snapshots_deleting(self, volume_id: str) -> None:
        """Mark every snapshot of the volume ``deleting`` (a cascading delete)."""
        with self.db.writer() as session:
            session.execute(sa.update(models.Snapshot).where(
                models.Snapshot.volume_id == volume_id).values(status=states.DELETING))

    def create(self, values: Mapping[str, Any], metadata: Mapping[str, str] | None = None,
               admin_metadata: Mapping[str, str] | None = None,
               glance_metadata: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Insert one volume (``id`` generated when absent)."""
        values = db.new_row_values(values, _COLUMNS, "volume")
        items = {"metadata": metadata, "admin_metadata": admin_metadata,
                 "glance_metadata": glance_metadata}
        with self.db.writer() as session:
            conn = session.connection()
            # What was written comes back with the INSERTs (RETURNING), defaults
            # included: no read after them but the type's name.
            row = conn.execute(_INSERT, values).mappings().one()
            type_name = None
            if row["volume_type_id"] is not None:
                type_name = conn.execute(_TYPE_NAME_OF,
                                         {"id": row["volume_type_id"]}).scalar()
            volume = _row_dict({**row, _TYPE_NAME: type_name})
            for kind, _table in _KV_TABLES:
                if items[kind]:
                    written = conn.execute(_INSERT_ITEMS[kind], [
                        {"volume_id": values["id"], "key": k, "value": v}
                        for k, v in (items[kind] or {}).items()])
                    volume[kind] = {key: value for key, value in written}
            return volume

    def update(self, volume_id: str, values: Mapping[str, Any],
               expected_status: Iterable[str] | None = None,
               expected_attach_status: Iterable[str] | None = None) -> dict[str, Any]:
        """Set columns of a volume, checking its status in the same UPDATE.

        :returns: the volume after the change.
        :raises: VolumeNotFound, InvalidVolumeStatus (another request moved it).
        """
        with self.db.writer() as session:
            self._change(session, volume_id, values, expected_status,
                         expected_attach_status)
            return self._one(session, volume_id)

    def change(self, volume_id: str, values: Mapping[str, Any],
               expected_status: Iterable[str] | None = None,
               expected_attach_status: Iterable[str] | None = None) -> None:
        """:meth:`update` without reading the volume back (for the daemons' steps,
        which do not need it).

        :raises: VolumeNotFound, InvalidVolumeStatus (another request moved it).
        """
        with self.db.writer() as session:
            self._change(session, volume_id, values, expected_status,
                         expected_attach_status)

    @staticmethod
    def _change(session: orm.Session, volume_id: str, values: Mapping[str, Any],
                expected_status: Iterable[str] | None,
                expected_attach_status: Iterable[str] | None) -> None:
        bad = set(values) - (_COLUMNS - _READ_ONLY)
        if bad:
            raise ValueError("cannot update volume columns: %s" % ", ".join(sorted(bad)))
        allowed = list(expected_status) if expected_status is not None else None
        params = dict(values)
        params.setdefault("updated_at", datetime.datetime.now(datetime.timezone.utc)
                          .replace(tzinfo=None))
        params["w_id"] = volume_id
        if allowed is not None:
            params["w_status"] = allowed
        if expected_attach_status is not None:
            params["w_attach"] = list(expected_attach_status)
        stmt = _UPDATES[(allowed is not None, expected_attach_status is not None)]
        conn = session.connection()
        if not conn.execute(stmt, params).rowcount:
            current = conn.execute(_STATUS, {"id": volume_id}).first()
            if current is None:
                raise exception.VolumeNotFound(volume_id=volume_id)
            raise exception.InvalidVolumeStatus(
                volume_id=volume_id, expected="/".join(sorted(allowed or [])),
                actual=current.status)

    def delete(self, volume_id: str) -> None:
        """Delete a volume row with its metadata and attachments (its snapshots
        must be gone: they hold a foreign key).

        :raises: VolumeNotFound.
        """
        with self.db.writer() as session:
            session.delete(self._row(session, volume_id))

    # -- metadata (``kind``: metadata, admin_metadata or glance_metadata)
    _KINDS = {"metadata": (models.VolumeMetadata, "metadata_items"),
              "admin_metadata": (models.VolumeAdminMetadata, "admin_metadata"),
              "glance_metadata": (models.VolumeGlanceMetadata, "glance_metadata")}

    def set_metadata(self, volume_id: str, items: Mapping[str, str], replace: bool = False,
                     kind: str = "metadata") -> dict[str, str]:
        """Merge ``items`` into (or with ``replace``, make them) the volume's metadata.

        :returns: the metadata now. :raises: VolumeNotFound.
        """
        model, attr = self._KINDS[kind]
        with self.db.writer() as session:
            row = self._row(session, volume_id)
            current = {m.key: m for m in getattr(row, attr)}
            for key, item in current.items():
                if replace and key not in items:
                    session.delete(item)
            for key, value in items.items():
                if key in current:
                    current[key].value = value
                else:
                    session.add(model(volume_id=volume_id, key=key, value=value))
            row.updated_at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
            session.flush()
            session.expire(row)
            return {m.key: m.value for m in getattr(row, attr)}

    def delete_metadata(self, volume_id: str, key: str, kind: str = "metadata") -> None:
        """:raises: VolumeNotFound, VolumeMetadataNotFound."""
        model, attr = self._KINDS[kind]
        with self.db.writer() as session:
            row = self._row(session, volume_id)
            found = [m for m in getattr(row, attr) if m.key == key]
            if not found:
                if kind == "admin_metadata":
                    raise exception.VolumeAdminMetadataNotFound(volume_id=volume_id,
                                                                metadata_key=key)
                raise exception.VolumeMetadataNotFound(volume_id=volume_id, metadata_key=key)
            session.delete(found[0])
