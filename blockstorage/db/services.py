"""Block storage services (scheduler, volume backends, backup daemons): their
registration, heartbeats, capacity reports and the admin's enable/disable.

Each daemon writes its own row (they all hold DB credentials): a heartbeat
every ``[DEFAULT] report_interval`` (``updated_at``), and a volume daemon its
backend's capacity report in ``capabilities``. The scheduler reads the rows
of the live, enabled volume services; the API lists them (os-services).
"""
from __future__ import annotations

import datetime
import typing
import uuid as uuid_mod
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.db import engine
from common.db import models as base_models
from blockstorage import exception
from blockstorage.db import models

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
_UPDATABLE = frozenset(("disabled", "disabled_reason", "frozen", "availability_zone",
                        "replication_status", "active_backend_id", "cluster_name"))


def isotime(value: datetime.datetime | None) -> str | None:
    return value.strftime(TIME_FORMAT) if value is not None else None


def service_dict(row: Any) -> dict[str, Any]:
    """A services row (ORM object or result row) as a JSON-ready dict (times as
    ISO 8601 strings)."""
    return {"id": row.id, "uuid": row.uuid, "binary": row.binary, "host": row.host,
            "topic": row.topic, "availability_zone": row.availability_zone,
            "disabled": row.disabled, "disabled_reason": row.disabled_reason,
            "frozen": row.frozen, "replication_status": row.replication_status,
            "active_backend_id": row.active_backend_id, "cluster_name": row.cluster_name,
            "report_count": row.report_count, "capabilities": row.capabilities,
            "created_at": isotime(row.created_at), "updated_at": isotime(row.updated_at)}


def _parse(value: str | datetime.datetime | None) -> datetime.datetime | None:
    if value is None or isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.strptime(value, TIME_FORMAT)


def is_up(service: Mapping[str, Any], down_time: float,
          now: datetime.datetime | None = None) -> bool:
    """Whether the service's last heartbeat is at most ``down_time`` seconds old.

    :param service: a dict of :func:`service_dict`.
    :param down_time: ``[DEFAULT] service_down_time``.
    :param now: the current UTC time (naive); tests pass their own.
    """
    seen = _parse(service.get("updated_at")) or _parse(service.get("created_at"))
    if seen is None:
        return False
    now = now or base_models.utcnow()
    return (now - seen).total_seconds() <= down_time


_SERVICES = typing.cast(sa.Table, models.Service.__table__)
# include disabled? -> the services of ``binary``, by id (built once: building
# and keying an expression costs more than running it on SQLite)
_OF_BINARY = {
    True: sa.select(_SERVICES).where(_SERVICES.c.binary == sa.bindparam("binary"))
    .order_by(_SERVICES.c.id),
    False: sa.select(_SERVICES).where(_SERVICES.c.binary == sa.bindparam("binary"),
                                      _SERVICES.c.disabled.is_(False))
    .order_by(_SERVICES.c.id)}


class ServiceStore:
    """The ``services`` table."""

    def __init__(self, db: engine.Database) -> None:
        self.db = db

    @staticmethod
    def _by_host(session: orm.Session, host: str, binary: str) -> models.Service | None:
        return session.scalars(sa.select(models.Service).where(
            models.Service.host == host, models.Service.binary == binary)).first()

    @staticmethod
    def _row(session: orm.Session, service_id: int | str) -> models.Service:
        column = models.Service.id if isinstance(service_id, int) else models.Service.uuid
        row = session.scalars(sa.select(models.Service).where(column == service_id)).first()
        if row is None:
            raise exception.ServiceNotFound(service_id=service_id)
        return row

    def heartbeat(self, binary: str, host: str, topic: str | None = None,
                  availability_zone: str | None = None) -> dict[str, Any]:
        """Record that ``binary`` on ``host`` is alive; registers it on the first
        call (enabled). ``availability_zone`` updates the zone when given.

        :returns: the service.
        """
        now = base_models.utcnow()
        with self.db.writer() as session:
            row = self._by_host(session, host, binary)
            if row is None:
                row = models.Service(uuid=str(uuid_mod.uuid4()), host=host, binary=binary,
                                     availability_zone=availability_zone or "nova",
                                     disabled=False, frozen=False, report_count=0,
                                     replication_status="disabled", created_at=now)
                session.add(row)
            row.report_count = (row.report_count or 0) + 1
            row.updated_at = now
            if topic is not None:
                row.topic = topic
            if availability_zone is not None:
                row.availability_zone = availability_zone
            session.flush()
            return service_dict(row)

    # A daemon's start is its first heartbeat.
    register = heartbeat

    def update_capabilities(self, binary: str, host: str,
                            capabilities: Mapping[str, Any]) -> dict[str, Any]:
        """Store a backend's capacity report (also a heartbeat).

        :raises: HostBinaryNotFound when the service never registered.
        """
        with self.db.writer() as session:
            row = self._by_host(session, host, binary)
            if row is None:
                raise exception.HostBinaryNotFound(host=host, binary=binary)
            row.capabilities = dict(capabilities)
            row.updated_at = base_models.utcnow()
            session.flush()
            return service_dict(row)

    def get(self, service_id: int | str) -> dict[str, Any]:
        """By integer id or uuid. :raises: ServiceNotFound."""
        with self.db.reader() as session:
            return service_dict(self._row(session, service_id))

    def get_by_host(self, host: str, binary: str) -> dict[str, Any]:
        """:raises: HostBinaryNotFound."""
        with self.db.reader() as session:
            row = self._by_host(session, host, binary)
            if row is None:
                raise exception.HostBinaryNotFound(host=host, binary=binary)
            return service_dict(row)

    def get_all(self, binary: str | None = None, host: str | None = None,
             disabled: bool | None = None,
             availability_zone: str | None = None) -> list[dict[str, Any]]:
        """Services matching every given filter, by id. ``host`` matches the
        exact host or, for volume services, every backend of it (``node1``
        finds ``node1@lvm``)."""
        table = _SERVICES
        query = sa.select(table).order_by(table.c.id)
        if binary is not None:
            query = query.where(table.c.binary == binary)
        if host is not None:
            query = query.where(sa.or_(table.c.host == host,
                                       table.c.host.startswith(host + "@", autoescape=True)))
        if disabled is not None:
            query = query.where(table.c.disabled == disabled)
        if availability_zone is not None:
            query = query.where(table.c.availability_zone == availability_zone)
        with self.db.reader() as session:
            return [service_dict(r) for r in session.execute(query)]

    def list_up(self, binary: str, down_time: float,
                include_disabled: bool = False) -> list[dict[str, Any]]:
        """The services of ``binary`` alive now (and enabled, by default): what
        the scheduler places volumes on (each decision) and the API picks backup
        hosts from."""
        with self.db.reader() as session:
            rows = [service_dict(r) for r in session.connection().execute(
                _OF_BINARY[include_disabled], {"binary": binary})]
        now = base_models.utcnow()
        return [s for s in rows if is_up(s, down_time, now)]

    def update(self, service_id: int | str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Set admin fields (``disabled``, ``disabled_reason``, ``frozen``, …);
        not the heartbeat. :raises: ServiceNotFound, ValueError (other fields)."""
        bad = set(values) - _UPDATABLE
        if bad:
            raise ValueError("cannot update service fields: %s" % ", ".join(sorted(bad)))
        with self.db.writer() as session:
            row = self._row(session, service_id)
            for key, value in values.items():
                setattr(row, key, value)
            session.flush()
            return service_dict(row)

    def set_disabled(self, host: str, binary: str, disabled: bool,
                     reason: str | None = None) -> dict[str, Any]:
        """Enable or disable ``binary`` on ``host`` (os-services enable/disable);
        enabling clears the reason. :raises: HostBinaryNotFound."""
        with self.db.writer() as session:
            row = self._by_host(session, host, binary)
            if row is None:
                raise exception.HostBinaryNotFound(host=host, binary=binary)
            row.disabled = disabled
            row.disabled_reason = reason if disabled else None
            session.flush()
            return service_dict(row)

    def delete(self, service_id: int | str) -> None:
        """:raises: ServiceNotFound."""
        with self.db.writer() as session:
            session.delete(self._row(session, service_id))
