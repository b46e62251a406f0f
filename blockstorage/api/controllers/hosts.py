"""``/v3/{project_id}/os-hosts`` (admins): the hosts of the block storage daemons, and
per host the volumes and snapshots each project keeps there (Cinder's Hosts
extension)."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from common.wsgi import request as wsgi_request
from blockstorage import exception
from blockstorage import rpcapi
from blockstorage.api import views
from blockstorage.api.controllers import services as services_controller
from blockstorage.db import models
from blockstorage.db import services as services_db

Request = wsgi_request.Request


def host_view(service: dict[str, Any], down_time: float) -> dict[str, Any]:
    up = services_db.is_up(service, down_time)
    return {"host_name": service["host"],
            "service": services_controller.CINDER_NAMES.get(service["binary"],
                                                             service["binary"]),
            "zone": service["availability_zone"],
            "service-status": "available" if up else "unavailable",
            "service-state": "disabled" if service["disabled"] else "enabled",
            "last-update": views.time(service["updated_at"] or service["created_at"])}


def _usage(db: Any, host: str) -> list[dict[str, str]]:
    """Volume and snapshot counts and GiB per project on ``host`` (``host`` matches
    ``host``, ``host@backend`` and ``host@backend#pool``), with a ``(total)`` row."""
    on_host = sa.or_(models.Volume.host == host, models.Volume.host.like(host + "@%"),
                     models.Volume.host.like(host + "#%"))
    volumes = (sa.select(models.Volume.project_id, sa.func.count(models.Volume.id),
                         sa.func.coalesce(sa.func.sum(models.Volume.size), 0))
               .where(on_host).group_by(models.Volume.project_id))
    snapshots = (sa.select(models.Snapshot.project_id, sa.func.count(models.Snapshot.id),
                           sa.func.coalesce(sa.func.sum(models.Snapshot.size), 0))
                 .join(models.Volume, models.Volume.id == models.Snapshot.volume_id)
                 .where(on_host).group_by(models.Snapshot.project_id))
    per_project: dict[str, list[int]] = {}
    with db.reader() as session:
        for project, count, size in session.execute(volumes):
            per_project.setdefault(project, [0, 0, 0, 0])[0:2] = [int(count), int(size)]
        for project, count, size in session.execute(snapshots):
            per_project.setdefault(project, [0, 0, 0, 0])[2:4] = [int(count), int(size)]
    totals = [sum(v[i] for v in per_project.values()) for i in range(4)]
    rows = [("(total)", totals)] + sorted(per_project.items())
    return [{"host": host, "project": project, "volume_count": str(v[0]),
             "total_volume_gb": str(v[1]), "snapshot_count": str(v[2]),
             "total_snapshot_gb": str(v[3])} for project, v in rows]


def routes(app: Any) -> list[tuple[str, dict[str, Any]]]:
    store = app.volumes.services

    def index(req: Request) -> Any:
        req.context.can("volume_extension:hosts", {})
        zone = req.GET.get("zone") or req.GET.get("service")
        found = [s for s in store.get_all()
                 if not zone or s["availability_zone"] == zone]
        return wsgi_request.json_response({"hosts": [
            host_view(s, app.conf.service_down_time) for s in found]})

    def show(req: Request, host_name: str) -> Any:
        req.context.can("volume_extension:hosts", {})
        volume_hosts = {s["host"] for s in store.get_all(binary=rpcapi.VOLUME_BINARY)}
        if not any(h == host_name or h.split("@")[0] == host_name for h in volume_hosts):
            raise exception.HostNotFound(host=host_name)
        return wsgi_request.json_response({"host": [
            {"resource": row} for row in _usage(app.db, host_name)]})

    return [("/v3/os-hosts", {"GET": index}),
            ("/v3/os-hosts/{host_name}", {"GET": show})]
