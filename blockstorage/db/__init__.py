"""The block storage database: models, migrations and the stores."""

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import orm

_Row = TypeVar("_Row")


def get_row(session: orm.Session, model: type[_Row], row_id: str,
            not_found: Callable[[], Exception]) -> _Row:
    """The row of ``model`` with primary key ``row_id``, else ``not_found()`` raised."""
    row: Any = session.get(model, row_id)
    if row is None:
        raise not_found()
    return row  # type: ignore[no-any-return]


def new_row_values(values: Any, columns: Any, what: str) -> dict[str, Any]:
    """``values`` of a new row: a copy with a generated ``id`` when absent.

    :raises ValueError: for keys that are not columns of the table.
    """
    row = dict(values)
    row.setdefault("id", str(uuid.uuid4()))
    unknown = set(row) - set(columns)
    if unknown:
        raise ValueError("unknown %s columns: %s" % (what, ", ".join(sorted(unknown))))
    return row


def rows_in_order(session: orm.Session, model: Any, ids: list[str]) -> list[Any]:
    """The rows of ``model`` with the ``ids`` of a listing page, in that order.

    A row deleted between the query of the ids and this one is left out: the
    SQLite driver reads each statement afresh, so a listing racing a delete must
    not fail on it.
    """
    if not ids:
        return []
    rows = {r.id: r for r in session.scalars(sa.select(model).where(model.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]
