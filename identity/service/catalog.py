"""Regions, services, endpoints, and the catalog built from them."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from common import exception as common_exc
from identity import exception
from identity.db import models as M
from identity.service import base

_SERVICE_COLUMNS = {"type", "enabled"}
_ENDPOINT_COLUMNS = {"interface", "region_id", "url", "enabled", "service_id"}
_REGION_COLUMNS = {"description", "parent_region_id"}


class CatalogService:
    def __init__(self, store: base.Store) -> None:
        self.store = store

    # -- regions
    def create_region(self, values: dict[str, Any]) -> M.Region:
        with self.store.writer() as session:
            region_id = values.get("id") or base.new_id()
            if session.get(M.Region, region_id) is not None:
                raise exception.Conflict(type="region",
                                         details="Duplicate ID, %s." % region_id)
            parent = values.get("parent_region_id")
            if parent:
                if session.get(M.Region, parent) is None:
                    raise exception.RegionNotFound(id=parent)
            region = M.Region(id=region_id, description=values.get("description") or "",
                              parent_region_id=parent, extra={})
            base.merge_extra(region, {k: v for k, v in values.items()
                                      if k not in {"id"} | _REGION_COLUMNS}, set())
            session.add(region)
            return region

    def get_region(self, region_id: str) -> M.Region:
        return self.store.get(M.Region, region_id, exception.RegionNotFound)

    def list_regions(self, **filters: Any) -> list[M.Region]:
        return self.store.list(M.Region, filters, M.Region.id)

    def update_region(self, region_id: str, values: dict[str, Any]) -> M.Region:
        with self.store.writer() as session:
            region = base.get_or_404(session, M.Region, region_id, exception.RegionNotFound)
            parent = values.get("parent_region_id")
            if parent:
                if session.get(M.Region, parent) is None:
                    raise exception.RegionNotFound(id=parent)
                if parent in self._subtree(session, region_id):
                    raise common_exc.ValidationError(
                        field="parent_region_id",
                        detail="a region cannot be its own ancestor (%s)" % parent)
            base.merge_extra(region, {k: v for k, v in values.items() if k != "id"},
                             _REGION_COLUMNS)
            return region

    @staticmethod
    def _subtree(session: Any, region_id: str) -> list[str]:
        """The region and its descendants."""
        children: dict[str | None, list[str]] = {}
        for rid, parent in session.execute(sa.select(M.Region.id, M.Region.parent_region_id)):
            children.setdefault(parent, []).append(rid)
        found, pending = [], [region_id]
        while pending:
            rid = pending.pop()
            if rid in found:
                continue
            found.append(rid)
            pending.extend(children.get(rid, []))
        return found

    def delete_region(self, region_id: str) -> None:
        """Delete a region and its child regions, unless any has endpoints."""
        with self.store.writer() as session:
            base.get_or_404(session, M.Region, region_id, exception.RegionNotFound)
            subtree = self._subtree(session, region_id)
            used = session.scalars(sa.select(M.Endpoint.id).where(
                M.Endpoint.region_id.in_(subtree))).first()
            if used is not None:
                raise common_exc.Forbidden("Unable to delete region %s because it or its "
                                           "child regions have associated endpoints." % region_id)
            for rid in reversed(subtree):
                session.delete(session.get(M.Region, rid))
                session.flush()

    # -- services
    def create_service(self, values: dict[str, Any]) -> M.Service:
        with self.store.writer() as session:
            service = M.Service(id=base.new_id(), extra={}, enabled=True)
            base.merge_extra(service, {k: v for k, v in values.items() if k != "id"},
                             _SERVICE_COLUMNS)
            session.add(service)
            return service

    def get_service(self, service_id: str) -> M.Service:
        return self.store.get(M.Service, service_id, exception.ServiceNotFound)

    def list_services(self, type: str | None = None, name: str | None = None) -> list[M.Service]:
        services = self.store.list(M.Service, {"type": type})
        if name is not None:
            services = [s for s in services if (s.extra or {}).get("name") == name]
        return services

    def update_service(self, service_id: str, values: dict[str, Any]) -> M.Service:
        with self.store.writer() as session:
            service = base.get_or_404(session, M.Service, service_id, exception.ServiceNotFound)
            base.merge_extra(service, {k: v for k, v in values.items() if k != "id"},
                             _SERVICE_COLUMNS)
            return service

    def delete_service(self, service_id: str) -> None:
        with self.store.writer() as session:
            service = base.get_or_404(session, M.Service, service_id, exception.ServiceNotFound)
            session.execute(sa.delete(M.Endpoint).where(M.Endpoint.service_id == service_id))
            session.delete(service)

    # -- endpoints
    def _check_endpoint_refs(self, session: Any, values: dict[str, Any],
                             legacy_region: bool = False) -> None:
        if "service_id" in values:
            if session.get(M.Service, values["service_id"]) is None:
                raise common_exc.ValidationError(
                    field="service_id", detail="Could not find service: %s."
                    % values["service_id"])
        region_id = values.get("region_id")
        if region_id and session.get(M.Region, region_id) is None:
            if not legacy_region:
                raise common_exc.ValidationError(
                    field="region_id", detail="Could not find region: %s." % region_id)
            # Older clients name the region in ``region``: it is created for them.
            session.add(M.Region(id=region_id, description="", extra={}))
            session.flush()

    @staticmethod
    def _region_field(values: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Fold the legacy ``region`` field into ``region_id``; say if it was used."""
        values = dict(values)
        legacy = bool(values.get("region")) and not values.get("region_id")
        if legacy:
            values["region_id"] = values["region"]
        values.pop("region", None)
        return values, legacy

    def create_endpoint(self, values: dict[str, Any]) -> M.Endpoint:
        values, legacy = self._region_field(values)
        with self.store.writer() as session:
            self._check_endpoint_refs(session, values, legacy)
            endpoint = M.Endpoint(id=base.new_id(), extra={}, enabled=True)
            base.merge_extra(endpoint, {k: v for k, v in values.items() if k != "id"},
                             _ENDPOINT_COLUMNS)
            session.add(endpoint)
            return endpoint

    def get_endpoint(self, endpoint_id: str) -> M.Endpoint:
        return self.store.get(M.Endpoint, endpoint_id, exception.EndpointNotFound)

    def list_endpoints(self, **filters: Any) -> list[M.Endpoint]:
        return self.store.list(M.Endpoint, filters)

    def update_endpoint(self, endpoint_id: str, values: dict[str, Any]) -> M.Endpoint:
        values, legacy = self._region_field(values)
        with self.store.writer() as session:
            endpoint = base.get_or_404(session, M.Endpoint, endpoint_id,
                                       exception.EndpointNotFound)
            self._check_endpoint_refs(session, values, legacy)
            base.merge_extra(endpoint, {k: v for k, v in values.items() if k != "id"},
                             _ENDPOINT_COLUMNS)
            return endpoint

    def delete_endpoint(self, endpoint_id: str) -> None:
        self.store.delete(M.Endpoint, endpoint_id, exception.EndpointNotFound)

    def catalog(self, project_id: str | None) -> list[dict[str, Any]]:
        """The catalog as tokens carry it: enabled services with enabled endpoints."""
        with self.store.reader() as session:
            services = list(session.scalars(sa.select(M.Service).where(
                M.Service.enabled.is_(True))))
            endpoints = list(session.scalars(sa.select(M.Endpoint).where(
                M.Endpoint.enabled.is_(True))))
        by_service: dict[str, list[dict[str, Any]]] = {}
        for ep in endpoints:
            url = ep.url
            if project_id:
                url = url.replace("%(tenant_id)s", project_id).replace(
                    "%(project_id)s", project_id).replace("$(project_id)s", project_id).replace(
                    "$(tenant_id)s", project_id)
            elif "%(" in url or "$(" in url:
                continue
            by_service.setdefault(ep.service_id, []).append({
                "id": ep.id, "interface": ep.interface, "region": ep.region_id,
                "region_id": ep.region_id, "url": url})
        return [{"endpoints": by_service.get(s.id, []), "id": s.id, "type": s.type,
                 "name": (s.extra or {}).get("name", "")} for s in services]
