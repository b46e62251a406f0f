"""Volume types in the block storage database: their extra specs and, for
private types, the projects they are shared with.

A type dict: ``id``, ``name``, ``description``, ``is_public``, ``extra_specs``
(dict), ``projects`` (sorted ids), ``qos_specs_id`` (always None: no QoS
specs here), ``created_at``, ``updated_at``.

Visibility follows Cinder: a project sees the public types and the private
ones shared with it; ``project_id=None`` means "every type" (admins).

Reads use SQL expressions, not ORM objects (:func:`load`, two queries): every
volume create reads its type.
"""
from __future__ import annotations

import typing
import uuid as uuid_mod
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from common.db import engine
from blockstorage import exception
from blockstorage.db import models
from blockstorage.db import snapshots as snapshot_store

SORT_KEYS = frozenset(("id", "name", "description", "is_public", "created_at",
                       "updated_at"))
DEFAULT_SORT = (("created_at", "asc"),)


def to_dict(row: models.VolumeType) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "description": row.description,
            "is_public": bool(row.is_public), "qos_specs_id": None,
            "extra_specs": {s.key: s.value for s in row.extra_specs},
            "projects": sorted(p.project_id for p in row.projects),
            "created_at": snapshot_store.isotime(row.created_at),
            "updated_at": snapshot_store.isotime(row.updated_at)}


def _visible_to(project_id: str) -> Any:
    return sa.or_(models.VolumeType.is_public.is_(True),
                  models.VolumeType.projects.any(
                      models.VolumeTypeProject.project_id == project_id))


_TYPES = typing.cast(sa.Table, models.VolumeType.__table__)
_SPECS = typing.cast(sa.Table, models.VolumeTypeExtraSpec.__table__)
_PROJECTS = typing.cast(sa.Table, models.VolumeTypeProject.__table__)
# The statements of the hot paths are built once: building and keying an
# expression costs more than running it on SQLite.
_VISIBLE = sa.or_(_TYPES.c.is_public.is_(True), sa.exists().where(
    _PROJECTS.c.volume_type_id == _TYPES.c.id,
    _PROJECTS.c.project_id == sa.bindparam("project_id")))
_BY_ID = _TYPES.c.id == sa.bindparam("key")
_BY_NAME = _TYPES.c.name == sa.bindparam("key")
# (by name?, visibility checked?) -> the SELECT of the type
_GET = {(by_name, visible): sa.select(_TYPES).where(
            _BY_NAME if by_name else _BY_ID, *([_VISIBLE] if visible else []))
        for by_name in (False, True) for visible in (False, True)}
_IDS: sa.BindParameter[list[str]] = sa.bindparam("ids", expanding=True)
_GET_MANY = sa.select(_TYPES).where(_TYPES.c.id.in_(_IDS))
_ITEMS = sa.union_all(
    sa.select(sa.literal_column("'spec'").label("kind"), _SPECS.c.id.label("item_id"),
              _SPECS.c.volume_type_id.label("type_id"), _SPECS.c.key.label("key"),
              _SPECS.c.value.label("value")).where(_SPECS.c.volume_type_id.in_(_IDS)),
    sa.select(sa.literal_column("'project'").label("kind"), _PROJECTS.c.id.label("item_id"),
              _PROJECTS.c.volume_type_id.label("type_id"),
              _PROJECTS.c.project_id.label("key"), sa.null().label("value"))
    .where(_PROJECTS.c.volume_type_id.in_(_IDS))).order_by(sa.literal_column("item_id"))


def load(session: orm.Session, stmt: Any, params: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The type dicts of the types ``stmt`` (a SELECT of ``volume_types``)
    selects, by id (in the order of the rows): one query for the types, one for
    their extra specs and projects."""
    conn = session.connection()
    found: dict[str, dict[str, Any]] = {}
    for row in conn.execute(stmt, params):
        found[row.id] = {"id": row.id, "name": row.name, "description": row.description,
                         "is_public": bool(row.is_public), "qos_specs_id": None,
                         "extra_specs": {}, "projects": [],
                         "created_at": snapshot_store.isotime(row.created_at),
                         "updated_at": snapshot_store.isotime(row.updated_at)}
    if not found:
        return found
    for kind, _item_id, type_id, key, value in conn.execute(_ITEMS, {"ids": list(found)}):
        if kind == "spec":
            found[type_id]["extra_specs"][key] = value
        else:
            found[type_id]["projects"].append(key)
    for vtype in found.values():
        vtype["projects"].sort()
    return found


def _get(session: orm.Session, by_name: bool, key: str,
         project_id: str | None) -> dict[str, Any] | None:
    params = {"key": key, "project_id": project_id}
    for vtype in load(session, _GET[(by_name, project_id is not None)], params).values():
        return vtype
    return None


class TypeStore:
    """Volume types, extra specs and private access."""

    def __init__(self, db: engine.Database) -> None:
        self.db = db

    @staticmethod
    def _row(session: orm.Session, type_id: str,
             project_id: str | None = None) -> models.VolumeType:
        row = session.get(models.VolumeType, type_id)
        if row is None or (project_id is not None and not row.is_public and
                           project_id not in {p.project_id for p in row.projects}):
            raise exception.VolumeTypeNotFound(volume_type_id=type_id)
        return row

    # -- reads
    def get(self, type_id: str, project_id: str | None = None) -> dict[str, Any]:
        """The type ``type_id``, if ``project_id`` (None: anyone) may see it.

        :raises: VolumeTypeNotFound.
        """
        with self.db.reader() as session:
            vtype = _get(session, False, type_id, project_id)
        if vtype is None:
            raise exception.VolumeTypeNotFound(volume_type_id=type_id)
        return vtype

    def get_by_name(self, name: str, project_id: str | None = None) -> dict[str, Any]:
        """:raises: VolumeTypeNotFoundByName."""
        with self.db.reader() as session:
            vtype = _get(session, True, name, project_id)
        if vtype is None:
            raise exception.VolumeTypeNotFoundByName(volume_type_name=name)
        return vtype

    def get_by_name_or_id(self, value: str,
                          project_id: str | None = None) -> dict[str, Any]:
        """A type by id, else by name (what a volume create's ``volume_type`` names).

        :raises: VolumeTypeNotFound.
        """
        try:
            return self.get(value, project_id)
        except exception.VolumeTypeNotFound:
            try:
                return self.get_by_name(value, project_id)
            except exception.VolumeTypeNotFound:
                raise exception.VolumeTypeNotFound(volume_type_id=value)

    def get_all(self, project_id: str | None = None, is_public: bool | None = None,
                listing: snapshot_store.Listing | None = None) -> list[dict[str, Any]]:
        """Types ``project_id`` sees (None: all), public ones and private ones
        shared with it when ``is_public`` is True, only private ones when False.

        :raises: MarkerNotFound.
        """
        listing = listing or snapshot_store.Listing(sort=DEFAULT_SORT)
        cols = models.VolumeType
        stmt = sa.select(cols.id)
        if is_public is True:
            stmt = stmt.where(cols.is_public.is_(True) if project_id is None
                              else _visible_to(project_id))
        elif is_public is False:
            stmt = stmt.where(cols.is_public.is_(False))
            if project_id is not None:
                stmt = stmt.where(cols.projects.any(
                    models.VolumeTypeProject.project_id == project_id))
        elif project_id is not None:
            stmt = stmt.where(_visible_to(project_id))
        stmt = stmt.order_by(*snapshot_store.order_by(cols, listing.sort))
        with self.db.reader() as session:
            ids = snapshot_store.page(session, stmt, listing)
            # A type deleted since the id query is left out (see rows_in_order).
            found = load(session, _GET_MANY, {"ids": ids}) if ids else {}
            return [found[i] for i in ids if i in found]

    def in_use(self, type_id: str) -> bool:
        """Whether volumes (or snapshots) still have this type."""
        with self.db.reader() as session:
            volumes = session.scalar(sa.select(sa.func.count(models.Volume.id)).where(
                models.Volume.volume_type_id == type_id)) or 0
            snapshots = session.scalar(sa.select(sa.func.count(models.Snapshot.id)).where(
                models.Snapshot.volume_type_id == type_id)) or 0
        return bool(volumes or snapshots)

    # -- writes
    def create(self, name: str, description: str | None = None, is_public: bool = True,
               extra_specs: Mapping[str, str] | None = None,
               projects: list[str] | None = None) -> dict[str, Any]:
        """:raises: VolumeTypeExists (409) when the name is taken."""
        type_id = str(uuid_mod.uuid4())
        try:
            with self.db.writer() as session:
                if session.scalar(sa.select(models.VolumeType.id).where(
                        models.VolumeType.name == name)) is not None:
                    raise exception.VolumeTypeExists(id=name)
                row = models.VolumeType(id=type_id, name=name, description=description,
                                        is_public=is_public)
                row.extra_specs = [models.VolumeTypeExtraSpec(key=k, value=v)
                                   for k, v in (extra_specs or {}).items()]
                row.projects = [models.VolumeTypeProject(project_id=p)
                                for p in sorted(set(projects or []))]
                session.add(row)
                session.flush()
                return to_dict(row)
        except sa_exc.IntegrityError:
            raise exception.VolumeTypeExists(id=name)

    def update(self, type_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Set ``name``, ``description`` and/or ``is_public``.

        :raises: VolumeTypeNotFound, VolumeTypeExists.
        """
        bad = set(values) - {"name", "description", "is_public"}
        if bad:
            raise ValueError("cannot update volume type fields: %s" % ", ".join(sorted(bad)))
        try:
            with self.db.writer() as session:
                row = self._row(session, type_id)
                name = values.get("name")
                if name is not None and name != row.name and session.scalar(
                        sa.select(models.VolumeType.id).where(
                            models.VolumeType.name == name)) is not None:
                    raise exception.VolumeTypeExists(id=name)
                for key, value in values.items():
                    setattr(row, key, value)
                session.flush()
                return to_dict(row)
        except sa_exc.IntegrityError:
            raise exception.VolumeTypeExists(id=values.get("name"))

    def delete(self, type_id: str) -> None:
        """:raises: VolumeTypeNotFound, VolumeTypeInUse."""
        if self.in_use(type_id):
            raise exception.VolumeTypeInUse(volume_type_id=type_id)
        try:
            with self.db.writer() as session:
                session.delete(self._row(session, type_id))
        except sa_exc.IntegrityError:  # a volume of the type appeared meanwhile
            raise exception.VolumeTypeInUse(volume_type_id=type_id)

    def set_extra_specs(self, type_id: str, specs: Mapping[str, str]) -> dict[str, str]:
        """Merge ``specs`` into the type's extra specs; returns them all.

        :raises: VolumeTypeNotFound.
        """
        with self.db.writer() as session:
            row = self._row(session, type_id)
            current = {s.key: s for s in row.extra_specs}
            for key, value in specs.items():
                if key in current:
                    current[key].value = value
                else:
                    row.extra_specs.append(models.VolumeTypeExtraSpec(key=key, value=value))
            row.updated_at = snapshot_store.utcnow()
            session.flush()
            return {s.key: s.value or "" for s in row.extra_specs}

    def delete_extra_spec(self, type_id: str, key: str) -> None:
        """:raises: VolumeTypeNotFound, VolumeTypeExtraSpecsNotFound."""
        with self.db.writer() as session:
            row = self._row(session, type_id)
            found = [s for s in row.extra_specs if s.key == key]
            if not found:
                raise exception.VolumeTypeExtraSpecsNotFound(volume_type_id=type_id,
                                                             extra_specs_key=key)
            row.extra_specs.remove(found[0])

    def add_access(self, type_id: str, project_id: str) -> list[str]:
        """Share a private type; returns the projects now.

        :raises: VolumeTypeNotFound, InvalidVolumeType (public type),
            VolumeTypeAccessExists.
        """
        with self.db.writer() as session:
            row = self._row(session, type_id)
            if row.is_public:
                raise exception.InvalidVolumeType(
                    reason="Type access modification is not applicable to public "
                           "volume type.")
            if project_id in {p.project_id for p in row.projects}:
                raise exception.VolumeTypeAccessExists(volume_type_id=type_id,
                                                       project_id=project_id)
            row.projects.append(models.VolumeTypeProject(project_id=project_id))
            session.flush()
            return sorted(p.project_id for p in row.projects)

    def remove_access(self, type_id: str, project_id: str) -> list[str]:
        """:raises: VolumeTypeNotFound, InvalidVolumeType, VolumeTypeAccessNotFound."""
        with self.db.writer() as session:
            row = self._row(session, type_id)
            if row.is_public:
                raise exception.InvalidVolumeType(
                    reason="Type access modification is not applicable to public "
                           "volume type.")
            found = [p for p in row.projects if p.project_id == project_id]
            if not found:
                raise exception.VolumeTypeAccessNotFound(volume_type_id=type_id,
                                                         project_id=project_id)
            row.projects.remove(found[0])
            session.flush()
            return sorted(p.project_id for p in row.projects)
