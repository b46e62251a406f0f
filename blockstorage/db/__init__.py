"""The block storage database: models, migrations and the stores."""

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import orm

_Row = TypeVar("_Row")


def get_row(session: orm.Session, model: type[_Row], row_id: str,
            not_found: Callable[[], Exception]) -> _Row:
    """The row of ``model`` with primary key ``row_id``, else ``not_found()`` raised."""
    row: Any = session.get(model, row_id)
    if row is None:
        raise not_found()
    return row  # type: ignore[no-any-return]
