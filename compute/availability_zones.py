"""Availability zones, as Nova derives them: a compute host is in the zone named
by the ``availability_zone`` metadata of the aggregates it belongs to, or in
``[DEFAULT] default_availability_zone`` when none names one; the conductor and
scheduler are in ``[DEFAULT] internal_service_availability_zone``.

Shared by the API (os-services, os-availability-zone, os-aggregates, servers)
and the daemons that place servers.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import orm

from common.db import engine
from compute.db import hosts as hosts_db
from compute.db import models

AZ_KEY = "availability_zone"


def _zones_query(hosts: Iterable[str] | None) -> Any:
    query = (sa.select(models.AggregateHost.host, models.AggregateMetadata.value)
             .join(models.AggregateMetadata,
                   models.AggregateMetadata.aggregate_id == models.AggregateHost.aggregate_id)
             .where(models.AggregateMetadata.key == AZ_KEY))
    if hosts is not None:
        query = query.where(models.AggregateHost.host.in_(list(hosts)))
    return query


def host_zones_in(session: orm.Session, hosts: Iterable[str] | None = None) -> dict[str, str]:
    """``{host: zone}`` for the hosts that an aggregate puts in a zone (several
    zones of one host, which the API refuses to create, are joined by commas)."""
    found: dict[str, set[str]] = {}
    for host, zone in session.execute(_zones_query(hosts)):
        found.setdefault(host, set()).add(zone)
    return {host: ",".join(sorted(zones)) for host, zones in found.items()}


def host_zones(db: engine.Database, hosts: Iterable[str] | None = None) -> dict[str, str]:
    """:func:`host_zones_in` in a session of its own."""
    with db.reader() as session:
        return host_zones_in(session, hosts)


def host_zone(conf: cfg.ConfigOpts, db: engine.Database, host: str) -> str:
    """The zone of one compute host."""
    return host_zones(db, [host]).get(host, conf.default_availability_zone)


def service_zone(conf: cfg.ConfigOpts, service: Mapping[str, Any],
                 zones: Mapping[str, str]) -> str:
    """The zone os-services shows for a service (``zones`` from :func:`host_zones`)."""
    if service["binary"] != hosts_db.COMPUTE_BINARY:
        return str(conf.internal_service_availability_zone)
    return zones.get(service["host"], conf.default_availability_zone)


def zone_hosts(conf: cfg.ConfigOpts, db: engine.Database, zone: str) -> list[str]:
    """The compute hosts of a zone (the default zone: hosts no aggregate places)."""
    services = hosts_db.HostStore(db).service_list(binary=hosts_db.COMPUTE_BINARY)
    zones = host_zones(db)
    return sorted(s["host"] for s in services
                  if zones.get(s["host"], conf.default_availability_zone) == zone)


def is_valid_zone(conf: cfg.ConfigOpts, db: engine.Database, zone: str) -> bool:
    """Whether a server may ask for ``zone``: one that holds a compute service."""
    if zone == conf.internal_service_availability_zone:
        return False
    return bool(zone_hosts(conf, db, zone))


def describe(conf: cfg.ConfigOpts, db: engine.Database,
             detail: bool = False) -> list[dict[str, Any]]:
    """The zones os-availability-zone shows: a zone is available when an enabled
    service is in it; the internal zone and each zone's hosts and services (with
    ``available``: heartbeat recent, ``active``: enabled) only in ``detail``."""
    services = hosts_db.HostStore(db).service_list()
    zones = host_zones(db)
    by_zone: dict[str, list[dict[str, Any]]] = {}
    for service in services:
        by_zone.setdefault(service_zone(conf, service, zones), []).append(service)
    internal = conf.internal_service_availability_zone
    result = []
    for zone in sorted(by_zone):
        if zone == internal and not detail:
            continue
        members = by_zone[zone]
        available = any(not s["disabled"] for s in members)
        hosts: dict[str, dict[str, Any]] | None = None
        if detail and available:
            hosts = {}
            for service in members:
                times = [t for t in (service["updated_at"], service["last_seen_up"]) if t]
                hosts.setdefault(service["host"], {})[
                    hosts_db.NOVA_BINARIES.get(service["binary"], service["binary"])] = {
                    "available": hosts_db.is_up(service, conf.service_down_time),
                    "active": not service["disabled"],
                    "updated_at": max(times) if times else None}
        result.append({"zoneName": zone, "zoneState": {"available": available},
                       "hosts": hosts})
    return result
