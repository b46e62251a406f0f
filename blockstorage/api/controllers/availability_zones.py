"""``GET /v3/{project_id}/os-availability-zone``: the zones of the enabled volume
services, each available when one of its services is up."""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from blockstorage import rpcapi
from blockstorage.db import services as services_db

Request = wsgi_request.Request


def routes(app: Any) -> list[tuple[str, dict[str, Any]]]:
    def index(req: Request) -> Any:
        zones: dict[str, bool] = {}
        down_time = app.conf.service_down_time
        for service in app.volumes.services.get_all(binary=rpcapi.VOLUME_BINARY,
                                                    disabled=False):
            zone = service["availability_zone"]
            zones[zone] = zones.get(zone, False) or services_db.is_up(service, down_time)
        info = [{"zoneName": name, "zoneState": {"available": up}}
                for name, up in sorted(zones.items())]
        return wsgi_request.json_response({"availabilityZoneInfo": info})

    return [("/v3/os-availability-zone", {"GET": index})]
