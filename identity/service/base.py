"""Helpers every identity service module shares."""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from common.db import engine
from identity import exception
from identity.service import cache as cache_mod


def new_id() -> str:
    return uuid.uuid4().hex


class Store:
    """The database plus the validation cache that every write must invalidate."""

    def __init__(self, db: engine.Database, cache: cache_mod.Cache) -> None:
        self.db = db
        self.cache = cache

    def writer(self) -> Any:
        self.cache.invalidate()
        return self.db.writer()

    def reader(self) -> Any:
        return self.db.reader()

    def get(self, model: Any, obj_id: str, error: type[exception.NotFound]) -> Any:
        """One row by primary key, or ``error`` (a 404)."""
        with self.reader() as session:
            return get_or_404(session, model, obj_id, error)

    def list(self, model: Any, filters: dict[str, Any], order_by: Any = None) -> list[Any]:
        """Rows matching equality ``filters`` (None values ignored)."""
        with self.reader() as session:
            query = apply_filters(sa.select(model), model, filters)
            if order_by is not None:
                query = query.order_by(order_by)
            return list(session.scalars(query))

    def delete(self, model: Any, obj_id: str, error: type[exception.NotFound]) -> None:
        with self.writer() as session:
            session.delete(get_or_404(session, model, obj_id, error))


def get_or_404(session: Any, model: Any, obj_id: str, error: type[exception.NotFound]) -> Any:
    obj = session.get(model, obj_id) if obj_id else None
    if obj is None:
        raise error(id=obj_id)
    return obj


def apply_filters(query: sa.Select[Any], model: Any, filters: dict[str, Any]) -> sa.Select[Any]:
    """Equality filters on columns; ``None`` values are ignored."""
    for name, value in filters.items():
        if value is None:
            continue
        query = query.where(getattr(model, name) == value)
    return query


def conflict_on_duplicate(session: Any, kind: str, details: str) -> None:
    """Flush and turn a uniqueness failure into Keystone's 409."""
    try:
        session.flush()
    except sa_exc.IntegrityError:
        raise exception.Conflict(type=kind, details=details)


def merge_extra(obj: Any, values: dict[str, Any], columns: set[str]) -> None:
    """Set known columns; anything else goes into ``extra`` as Keystone keeps it."""
    extra = dict(obj.extra or {})
    for key, value in values.items():
        if key in columns:
            setattr(obj, key, value)
        else:
            extra[key] = value
    obj.extra = extra
