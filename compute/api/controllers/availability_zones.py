"""``/v2.1/os-availability-zone`` (the zones servers may be placed in) and
``/detail`` (admins: every zone, the internal one included, with its hosts and
their services)."""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from compute import availability_zones as az

Request = wsgi_request.Request


class AvailabilityZonesController:
    def __init__(self, app: Any) -> None:
        self.app = app

    def index(self, req: Request) -> Any:
        req.context.can("os_compute_api:os-availability-zone:list")
        return wsgi_request.json_response(
            {"availabilityZoneInfo": az.describe(self.app.conf, self.app.db)})

    def detail(self, req: Request) -> Any:
        req.context.can("os_compute_api:os-availability-zone:detail")
        return wsgi_request.json_response(
            {"availabilityZoneInfo": az.describe(self.app.conf, self.app.db, detail=True)})

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/os-availability-zone", {"GET": self.index}),
                ("/v2.1/os-availability-zone/detail", {"GET": self.detail})]
