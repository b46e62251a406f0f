"""Compute services as os-services shows them: Nova's binary names, the zone of
each (the host's availability zone for compute services, the internal zone for
the others), ``up``/``down`` from the last heartbeat and ``enabled``/``disabled``.

Disabling a compute service keeps the scheduler off its host; forcing it down
(after fencing the host) lets its servers be evacuated at once. Deleting a
compute service that still hosts servers is refused.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from common.db import engine
from compute import aggregates
from compute import availability_zones as az
from compute import exception
from compute.db import hosts as hosts_db
from compute.db import models

# Nova's binary name -> ours (filters and request bodies name Nova's).
OUR_BINARIES = {nova: ours for ours, nova in hosts_db.NOVA_BINARIES.items()}


def nova_binary(binary: str) -> str:
    return hosts_db.NOVA_BINARIES.get(binary, binary)


def our_binary(binary: str) -> str:
    return OUR_BINARIES.get(binary, binary)


class ServiceAPI:
    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database) -> None:
        self.conf = conf
        self.db = db
        self.store = hosts_db.HostStore(db)

    def _view(self, service: dict[str, Any], zones: Mapping[str, str]) -> dict[str, Any]:
        """The service with ``binary`` (Nova's name), ``zone``, ``state``, ``status``
        and ``updated_at`` (its last change or heartbeat, whichever is later)."""
        view = dict(service)
        view["binary"] = nova_binary(service["binary"])
        view["zone"] = az.service_zone(self.conf, service, zones)
        up = hosts_db.is_up(service, self.conf.service_down_time)
        view["state"] = "up" if up else "down"
        view["status"] = "disabled" if service["disabled"] else "enabled"
        times = [t for t in (service["updated_at"], service["last_seen_up"]) if t]
        view["updated_at"] = max(times) if times else None
        return view

    def get_all(self, binary: str | None = None, host: str | None = None) -> list[dict[str, Any]]:
        """Services, optionally only one binary (Nova's or our name) and/or host."""
        services = self.store.service_list(
            binary=our_binary(binary) if binary is not None else None, host=host)
        zones = az.host_zones(self.db, {s["host"] for s in services})
        return [self._view(s, zones) for s in services]

    def get(self, service_id: int | str) -> dict[str, Any]:
        """By integer id or uuid. :raises: ServiceNotFound."""
        service = self.store.service_get(service_id)
        return self._view(service, az.host_zones(self.db, [service["host"]]))

    def find(self, host: str, binary: str) -> dict[str, Any]:
        """The service of ``binary`` on ``host``. :raises: HostBinaryNotFound."""
        found = self.store.service_list(binary=our_binary(binary), host=host)
        if not found:
            raise exception.HostBinaryNotFound(host=host, binary=binary)
        return self._view(found[0], az.host_zones(self.db, [host]))

    def update(self, service_id: int | str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Set ``disabled``, ``disabled_reason`` and/or ``forced_down``."""
        service = self.store.service_update(service_id, values)
        return self._view(service, az.host_zones(self.db, [service["host"]]))

    def delete(self, service_id: int | str) -> None:
        """Delete a service (a compute service with its hypervisors and its place in
        aggregates). :raises: ServiceNotFound, ServiceDeleteConflict (servers on it)."""
        service = self.store.service_get(service_id)
        if service["binary"] == hosts_db.COMPUTE_BINARY:
            with self.db.reader() as session:
                hosted = session.scalar(sa.select(sa.func.count(models.Instance.id)).where(
                    models.Instance.host == service["host"], models.Instance.deleted == 0))
            if hosted:
                raise exception.ServiceDeleteConflict()
            aggregates.AggregateService(self.conf, self.db).remove_host_everywhere(
                service["host"])
        self.store.service_delete(service_id)
