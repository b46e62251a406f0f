"""Host aggregates: named groups of compute hosts with metadata. The metadata key
``availability_zone`` makes an aggregate an availability zone, and Nova's rules
keep zones consistent: a host is in one zone only, the internal services' zone
is not a zone for hosts, and a zone does not change under running servers.
"""
from __future__ import annotations

import uuid as uuid_mod
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from common.db import engine
from common.db import models as base_models
from compute import availability_zones as az
from compute import exception
from compute.db import hosts as hosts_db
from compute.db import models
from compute.db.instances import isotime


def _as_dict(row: models.Aggregate) -> dict[str, Any]:
    metadata = {m.key: m.value for m in row.metadata_items}
    return {"id": row.id, "uuid": row.uuid, "name": row.name,
            "availability_zone": metadata.get(az.AZ_KEY),
            "hosts": sorted(h.host for h in row.hosts), "metadata": metadata,
            "created_at": isotime(row.created_at), "updated_at": isotime(row.updated_at),
            "deleted": False, "deleted_at": None}


class AggregateService:
    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database) -> None:
        self.conf = conf
        self.db = db
        self.hosts = hosts_db.HostStore(db)

    # -- reads
    def get_all(self) -> list[dict[str, Any]]:
        with self.db.reader() as session:
            rows = session.scalars(sa.select(models.Aggregate).order_by(models.Aggregate.id))
            return [_as_dict(r) for r in rows]

    @staticmethod
    def _row(session: orm.Session, aggregate_id: int) -> models.Aggregate:
        row = session.get(models.Aggregate, aggregate_id)
        if row is None:
            raise exception.AggregateNotFound(aggregate_id=aggregate_id)
        return row

    def get(self, aggregate_id: int) -> dict[str, Any]:
        """:raises: AggregateNotFound."""
        with self.db.reader() as session:
            return _as_dict(self._row(session, aggregate_id))

    # -- zone rules
    def _check_zone_name(self, action: str, aggregate_id: Any, zone: str | None) -> None:
        if zone is not None and zone == self.conf.internal_service_availability_zone:
            raise exception.InvalidAggregateAction(
                action=action, aggregate_id=aggregate_id,
                reason="the availability zone '%s' is reserved for internal services" % zone)

    def _check_zone_change(self, session: orm.Session, row: models.Aggregate, action: str,
                           zone: str | None) -> None:
        """A new zone for ``row``: no host of it may be in another zone through
        another aggregate, nor hold servers (they would change zone)."""
        current = {m.key: m.value for m in row.metadata_items}.get(az.AZ_KEY)
        if zone == current:
            return
        self._check_zone_name(action, row.id, zone)
        hosts = [h.host for h in row.hosts]
        if not hosts:
            return
        if zone is not None:
            others = session.execute(
                sa.select(models.AggregateHost.host, models.AggregateMetadata.value)
                .join(models.AggregateMetadata, models.AggregateMetadata.aggregate_id ==
                      models.AggregateHost.aggregate_id)
                .where(models.AggregateMetadata.key == az.AZ_KEY,
                       models.AggregateHost.aggregate_id != row.id,
                       models.AggregateHost.host.in_(hosts))).all()
            conflicts = sorted({h for h, other in others if other != zone})
            if conflicts:
                raise exception.InvalidAggregateAction(
                    action=action, aggregate_id=row.id,
                    reason="one or more hosts already in availability zone(s) %s" % ", ".join(
                        sorted({other for h, other in others if other != zone})))
        busy = session.scalar(sa.select(sa.func.count(models.Instance.id)).where(
            models.Instance.host.in_(hosts), models.Instance.deleted == 0)) or 0
        if busy:
            raise exception.InvalidAggregateAction(
                action=action, aggregate_id=row.id,
                reason="hosts of the aggregate have instances, whose availability zone "
                       "would change")

    @staticmethod
    def _set_metadata(row: models.Aggregate, values: Mapping[str, str | None]) -> None:
        existing = {m.key: m for m in row.metadata_items}
        for key, value in values.items():
            if value is None:
                if key in existing:
                    row.metadata_items.remove(existing[key])
            elif key in existing:
                existing[key].value = str(value)
            else:
                row.metadata_items.append(models.AggregateMetadata(key=key, value=str(value)))
        row.updated_at = base_models.utcnow()

    def _save(self, session: orm.Session, row: models.Aggregate, name: str) -> dict[str, Any]:
        try:
            session.flush()
        except sa_exc.IntegrityError:
            raise exception.AggregateNameExists(aggregate_name=name)
        session.refresh(row)
        return _as_dict(row)

    # -- writes
    def create(self, name: str, availability_zone: str | None = None) -> dict[str, Any]:
        """:raises: AggregateNameExists, InvalidAggregateAction (internal zone)."""
        self._check_zone_name("create_aggregate", "None", availability_zone)
        with self.db.writer() as session:
            if session.scalar(sa.select(models.Aggregate.id).where(
                    models.Aggregate.name == name)) is not None:
                raise exception.AggregateNameExists(aggregate_name=name)
            row = models.Aggregate(uuid=str(uuid_mod.uuid4()), name=name)
            if availability_zone is not None:
                row.metadata_items = [models.AggregateMetadata(key=az.AZ_KEY,
                                                               value=availability_zone)]
            session.add(row)
            return self._save(session, row, name)

    def update(self, aggregate_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
        """Rename and/or change the zone (``availability_zone`` None: no zone)."""
        with self.db.writer() as session:
            row = self._row(session, aggregate_id)
            name = values.get("name", row.name)
            if "name" in values and name != row.name:
                if session.scalar(sa.select(models.Aggregate.id).where(
                        models.Aggregate.name == name)) is not None:
                    raise exception.AggregateNameExists(aggregate_name=name)
                row.name = name
            if "availability_zone" in values:
                zone = values["availability_zone"]
                self._check_zone_change(session, row, "update_aggregate", zone)
                self._set_metadata(row, {az.AZ_KEY: zone})
            row.updated_at = base_models.utcnow()
            return self._save(session, row, name)

    def set_metadata(self, aggregate_id: int,
                     metadata: Mapping[str, str | None]) -> dict[str, Any]:
        """Set keys (None removes one), zone rules included."""
        with self.db.writer() as session:
            row = self._row(session, aggregate_id)
            if az.AZ_KEY in metadata:
                self._check_zone_change(session, row, "update_aggregate_metadata",
                                        metadata[az.AZ_KEY])
            self._set_metadata(row, metadata)
            return self._save(session, row, row.name)

    def delete(self, aggregate_id: int) -> None:
        """:raises: AggregateNotFound, InvalidAggregateAction (hosts left in it)."""
        with self.db.writer() as session:
            row = self._row(session, aggregate_id)
            if row.hosts:
                raise exception.InvalidAggregateAction(
                    action="delete", aggregate_id=aggregate_id,
                    reason="Host aggregate is not empty")
            session.delete(row)

    def add_host(self, aggregate_id: int, host: str) -> dict[str, Any]:
        """:raises: AggregateNotFound, ComputeHostNotFound (no compute service on
        ``host``), AggregateHostExists, AggregateActionConflict (host in another zone)."""
        with self.db.writer() as session:
            row = self._row(session, aggregate_id)
            known = session.scalar(sa.select(models.Service.id).where(
                models.Service.host == host,
                models.Service.binary == hosts_db.COMPUTE_BINARY))
            if known is None:
                raise exception.ComputeHostNotFound(host=host)
            if any(h.host == host for h in row.hosts):
                raise exception.AggregateHostExists(aggregate_id=aggregate_id, host=host)
            zone = {m.key: m.value for m in row.metadata_items}.get(az.AZ_KEY)
            if zone is not None:
                current = az.host_zones_in(session, [host]).get(host)
                if current is not None and current != zone:
                    raise exception.AggregateActionConflict(
                        action="add_host_to_aggregate", aggregate_id=aggregate_id,
                        reason="Host already in availability zone %s" % current)
            row.hosts.append(models.AggregateHost(host=host))
            row.updated_at = base_models.utcnow()
            return self._save(session, row, row.name)

    def remove_host(self, aggregate_id: int, host: str) -> dict[str, Any]:
        """:raises: AggregateNotFound, AggregateHostNotFound."""
        with self.db.writer() as session:
            row = self._row(session, aggregate_id)
            found = [h for h in row.hosts if h.host == host]
            if not found:
                raise exception.AggregateHostNotFound(aggregate_id=aggregate_id, host=host)
            row.hosts.remove(found[0])
            row.updated_at = base_models.utcnow()
            return self._save(session, row, row.name)

    def remove_host_everywhere(self, host: str) -> None:
        """Drop a host from every aggregate (its compute service was deleted)."""
        with self.db.writer() as session:
            session.execute(sa.delete(models.AggregateHost).where(
                models.AggregateHost.host == host))
