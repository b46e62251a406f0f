"""Helpers every part of the network plugin shares: sessions, retries, standard
attributes, visibility, quotas."""
from __future__ import annotations

import datetime
import functools
import time
import uuid
from typing import Any, Callable, Iterable, TypeVar

import sqlalchemy as sa
from oslo_config import cfg
from oslo_log import log as logging
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from common.db import engine
from common.db import models as base_models
from network import exception
from network.db import models
from network.plugin import ipam

LOG = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
TIME_FMT = "%Y-%m-%dT%H:%M:%SZ"

# Resource name -> model counted by quotas.
QUOTA_MODELS: dict[str, Any] = {
    "network": models.Network, "subnet": models.Subnet, "port": models.Port,
    "router": models.Router, "floatingip": models.FloatingIP,
    "security_group": models.SecurityGroup,
    "security_group_rule": models.SecurityGroupRule, "subnetpool": models.SubnetPool,
}


def new_id() -> str:
    return str(uuid.uuid4())


def fmt_time(value: datetime.datetime | None) -> str | None:
    return value.strftime(TIME_FMT) if value is not None else None


def is_admin(ctxt: Any) -> bool:
    return bool(getattr(ctxt, "is_admin", False))


def project_of(ctxt: Any) -> str:
    return str(getattr(ctxt, "project_id", None) or "")


def retry_db(func: F) -> F:
    """Re-run ``func`` when a concurrent request won a race on a unique key (same
    IP, MAC, segment, default group), changed a row ``func`` read before it wrote
    (:class:`~network.exception.ResourceChanged`) or SQLite reported a transient lock.

    Each attempt runs in a fresh transaction and re-checks what it needs, so the
    loser of a race either picks another address or reports a proper conflict.
    """
    @functools.wraps(func)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        attempts = int(self.conf.ipam_retries)
        for attempt in range(attempts):
            try:
                return func(self, *args, attempt=attempt, **kwargs)
            except (sa_exc.IntegrityError, sa_exc.OperationalError,
                    exception.ResourceChanged) as err:
                ipam.IN_FLIGHT.release_mine()
                if isinstance(err, sa_exc.OperationalError) and \
                        "locked" not in str(err) and "deadlock" not in str(err).lower():
                    raise
                if attempt == attempts - 1:
                    raise
                LOG.debug("Retrying %(f)s after a DB conflict: %(err)s",
                          {"f": func.__name__, "err": err})
                time.sleep(0.001 * (attempt + 1))
            finally:
                ipam.IN_FLIGHT.release_mine()
        raise AssertionError("unreachable")
    return wrapper  # type: ignore[return-value]


class Component:
    """A part of the plugin: owns one group of resources; reaches the others
    through ``self.core``."""

    def __init__(self, core: Any) -> None:
        self.core = core

    @property
    def conf(self) -> cfg.ConfigOpts:
        return self.core.conf  # type: ignore[no-any-return]

    @property
    def db(self) -> engine.Database:
        return self.core.db  # type: ignore[no-any-return]


class Readable(Component):
    """A component whose rows are read the same way: ``get_row`` (404 when the
    caller may not see it), ``get`` and ``get_all``. Subclasses give ``model``,
    ``not_found(id)``, ``visible_query(ctxt)`` and ``to_dict(row, tags)``."""

    model: Any = None
    #: API attributes whose equality filters the query applies in SQL (plain string
    #: columns of ``model``; the API still applies every filter afterwards).
    pushdown: tuple[str, ...] = ("id", "name", "project_id")

    def not_found(self, obj_id: str) -> Exception:
        raise NotImplementedError  # every subclass names its own 404

    def visible_query(self, ctxt: Any) -> Any:
        raise NotImplementedError

    def render(self, s: orm.Session, row: Any, tags: dict[str, list[str]]) -> dict[str, Any]:
        return self.to_dict(row, tags)  # type: ignore[attr-defined, no-any-return]

    def get_row(self, s: orm.Session, ctxt: Any, obj_id: str) -> Any:
        row = s.scalar(self.visible_query(ctxt).where(self.model.id == obj_id))
        if row is None:
            raise self.not_found(obj_id)
        return row

    def get(self, ctxt: Any, obj_id: str) -> dict[str, Any]:
        with self.db.reader() as s:
            row = self.get_row(s, ctxt, obj_id)
            return self.render(s, row, load_tags(s, [row.id]))

    def get_all(self, ctxt: Any,
                filters: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
        """Every row ``ctxt`` may see, narrowed in SQL by the ``filters`` (API name ->
        accepted values) on :attr:`pushdown` attributes."""
        query = self.visible_query(ctxt)
        for name, values in (filters or {}).items():
            key = "project_id" if name == "tenant_id" else name
            if key in self.pushdown and values:
                query = query.where(getattr(self.model, key).in_(values))
        with self.db.reader() as s:
            rows = list(s.scalars(query))
            tags = load_tags(s, [r.id for r in rows])
            return [self.render(s, r, tags) for r in rows]


def standard(row: Any, tags: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The standard attributes of ``row`` (and project_id/tenant_id when it has one)."""
    out: dict[str, Any] = {
        "description": row.description or "",
        "created_at": fmt_time(row.created_at),
        "updated_at": fmt_time(row.updated_at),
        "revision_number": row.revision_number,
        "tags": sorted((tags or {}).get(row.id, [])),
    }
    if hasattr(row, "project_id"):
        out["project_id"] = row.project_id
        out["tenant_id"] = row.project_id
    return out


def load_tags(s: orm.Session, ids: Iterable[str]) -> dict[str, list[str]]:
    ids = list(ids)
    found: dict[str, list[str]] = {}
    if not ids:
        return found
    for chunk in range(0, len(ids), 500):
        rows = s.scalars(sa.select(models.Tag).where(
            models.Tag.resource_id.in_(ids[chunk:chunk + 500])))
        for tag in rows:
            found.setdefault(tag.resource_id, []).append(tag.tag)
    return found


def touch(row: Any) -> None:
    """Record an update: bump the revision, refresh updated_at."""
    row.revision_number = (row.revision_number or 0) + 1
    row.updated_at = base_models.utcnow()


def init_standard(row: Any, body: dict[str, Any]) -> None:
    now = base_models.utcnow()
    row.created_at = now
    row.updated_at = now
    row.revision_number = 0
    row.description = body.get("description") or ""


# Resource name -> "how many rows does this project have", built once.
_COUNTS = {name: sa.select(sa.func.count()).select_from(model).where(
    model.project_id == sa.bindparam("project_id")) for name, model in QUOTA_MODELS.items()}


def check_quota(conf: cfg.ConfigOpts, s: orm.Session, resource: str, project_id: str,
                adding: int = 1) -> None:
    """:raises: OverQuota when ``project_id`` may not have ``adding`` more ``resource``."""
    if project_id:
        check_count(s, resource, project_id, quota_limit(conf, s, project_id, resource),
                    adding)


def check_count(s: orm.Session, resource: str, project_id: str, limit: int,
                adding: int = 1) -> None:
    """The part of :func:`check_quota` that must run in the writing transaction (the
    ``limit`` may be read before it).

    :raises: OverQuota when ``project_id`` has more than ``limit - adding`` ``resource``.
    """
    if not project_id or limit < 0:
        return
    used = s.scalar(_COUNTS[resource], {"project_id": project_id}) or 0
    if used + adding > limit:
        raise exception.OverQuota(overs=resource)


def quota_default(conf: cfg.ConfigOpts, resource: str) -> int:
    try:
        return int(conf.quotas["quota_" + resource])
    except (cfg.NoSuchOptError, KeyError):
        return int(conf.quotas.default_quota)


def quota_limit(conf: cfg.ConfigOpts, s: orm.Session, project_id: str, resource: str) -> int:
    row = s.get(models.Quota, (project_id, resource))
    return row.limit if row is not None else quota_default(conf, resource)


class Table:
    """Prebuilt SQL writing one model's rows, fed with model objects (transient or
    detached): for hot writes that need none of the ORM's unit of work, whose flush
    costs more CPU than the statements, under the database's write lock."""

    def __init__(self, model: Any) -> None:
        self.table: sa.Table = model.__table__
        self._keys = [(attr.key, attr.columns[0].key) for attr in sa.inspect(model).column_attrs]
        self._pk = [col.key for col in self.table.primary_key.columns]
        self._insert = sa.insert(self.table)
        self._delete = sa.delete(self.table).where(
            *[self.table.c[key] == sa.bindparam("pk_" + key) for key in self._pk])

    def values(self, obj: Any) -> dict[str, Any]:
        """``obj``'s row, column name -> value."""
        return {column: getattr(obj, key) for key, column in self._keys}

    def insert(self, conn: sa.Connection, objs: Iterable[Any]) -> None:
        rows = [self.values(obj) for obj in objs]
        if rows:
            conn.execute(self._insert, rows[0] if len(rows) == 1 else rows)

    def update(self, conn: sa.Connection, before: dict[str, Any], obj: Any,
               **guard: Any) -> int:
        """Write the columns of ``obj`` that differ from ``before`` (its row as read),
        provided the row still has the ``guard`` column values; the number of rows
        written (0: the row is gone or the guard failed; 1 when nothing differed)."""
        changed = {key: value for key, value in self.values(obj).items()
                   if value != before[key]}
        if not changed:
            return 1
        where = [self.table.c[key] == before[key] for key in self._pk]
        where += [self.table.c[key] == value for key, value in guard.items()]
        return int(conn.execute(sa.update(self.table).where(*where).values(changed)).rowcount)

    def sync(self, conn: sa.Connection, before: list[dict[str, Any]],
             objs: Iterable[Any]) -> None:
        """Make the rows ``before`` (as :meth:`values` gave them) into ``objs``: delete
        the rows that are gone or changed, insert the new or changed ones."""
        after = [self.values(obj) for obj in objs]
        gone = [row for row in before if row not in after]
        new = [row for row in after if row not in before]
        if gone:
            conn.execute(self._delete, [{"pk_" + key: row[key] for key in self._pk}
                                        for row in gone])
        if new:
            conn.execute(self._insert, new)
