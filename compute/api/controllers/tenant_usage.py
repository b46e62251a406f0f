"""``/v2.1/os-simple-tenant-usage``: every project's usage over a period (admins;
``detailed=1`` adds each server) and one project's (its members too).
``start`` and ``end`` default to now; 2.40 pages the servers with
``limit``/``marker`` and adds ``tenant_usages_links``/``tenant_usage_links``
(before, at most ``max_limit`` servers count, without a link).
"""
from __future__ import annotations

from typing import Any

from common import exception as common_exception
from common.db import models as base_models
from common.wsgi import pagination
from common.wsgi import request as wsgi_request
from compute import usage as usage_service
from compute.api import microversion
from compute.api import views
from compute.api.schemas import flavors as flavor_schema

Request = wsgi_request.Request


class TenantUsageController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.usage = usage_service.UsageService(app.db)

    def _usage(self, req: Request, project_id: str | None
               ) -> tuple[list[dict[str, Any]], list[dict[str, str]] | None]:
        now = base_models.utcnow()
        start = usage_service.parse_time(req.GET.get("start"), now)
        stop = usage_service.parse_time(req.GET.get("end"), now)
        if start > stop:
            raise common_exception.Invalid(
                "Invalid start time. The start time cannot occur after the end time.")
        # Before 2.40 the servers are cut at max_limit silently, as in Nova.
        limit: int = self.app.conf.compute_api.max_limit
        marker: str | None = None
        paged = microversion.of(req) >= (2, 40)
        if paged:
            limit, marker = pagination.limit_and_marker(req.GET, limit)
        tenants = self.usage.get(start, stop, project_id, limit=limit, marker=marker)
        servers = [s for t in tenants for s in t["server_usages"]]
        links = None
        if paged and servers and len(servers) == limit:
            base = views.Links(req, self.app.conf.api.public_endpoint).versioned
            path = base + "/os-simple-tenant-usage" + (
                "/" + project_id if project_id is not None else "")
            links = [{"rel": "next", "href": pagination.next_link(
                path, req.GET, servers[-1]["instance_id"])}]
        return tenants, links

    def index(self, req: Request) -> Any:
        req.context.can("os_compute_api:os-simple-tenant-usage:list")
        tenants, links = self._usage(req, None)
        # Nova looks for "1"; clients that send a boolean's name are understood too.
        if (req.GET.get("detailed") or "0").lower() not in flavor_schema.TRUE_STRINGS:
            for tenant in tenants:
                del tenant["server_usages"]
        body: dict[str, Any] = {"tenant_usages": tenants}
        if links is not None:
            body["tenant_usages_links"] = links
        return wsgi_request.json_response(body)

    def show(self, req: Request, project_id: str) -> Any:
        req.context.can("os_compute_api:os-simple-tenant-usage:show",
                        {"project_id": project_id})
        tenants, links = self._usage(req, project_id)
        body: dict[str, Any] = {"tenant_usage": tenants[0] if tenants else {}}
        if links is not None:
            body["tenant_usage_links"] = links
        return wsgi_request.json_response(body)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/os-simple-tenant-usage", {"GET": self.index}),
                ("/v2.1/os-simple-tenant-usage/{project_id}", {"GET": self.show})]
