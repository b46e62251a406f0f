"""``/v3/{project_id}/os-services``: the block storage daemons (admins): list with
``host``/``binary`` filters, enable, disable, disable with a reason.

Binaries are shown under Cinder's names (``cinder-volume``, ``cinder-scheduler``,
``cinder-backup``) because clients and Tempest filter by them; both spellings are
accepted in requests. Freeze, thaw and failover are not supported (400).
"""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from common.wsgi import validation
from blockstorage import exception
from blockstorage import rpcapi
from blockstorage.api import microversion
from blockstorage.db import services as services_db

Request = wsgi_request.Request
CINDER_NAMES = {rpcapi.VOLUME_BINARY: "cinder-volume",
                rpcapi.SCHEDULER_BINARY: "cinder-scheduler",
                rpcapi.BACKUP_BINARY: "cinder-backup"}
OUR_NAMES = {v: k for k, v in CINDER_NAMES.items()}
UPDATE = {"type": "object",
          "properties": {"host": {"type": "string", "minLength": 1, "maxLength": 255},
                         "binary": {"type": "string", "minLength": 1, "maxLength": 255},
                         "disabled_reason": {"type": ["string", "null"],
                                             "maxLength": 255}},
          "required": ["host", "binary"]}


def our_binary(name: str) -> str:
    return OUR_NAMES.get(name, name)


def service_view(service: dict[str, Any], version: tuple[int, int],
                 down_time: float) -> dict[str, Any]:
    up = services_db.is_up(service, down_time)
    body: dict[str, Any] = {
        "binary": CINDER_NAMES.get(service["binary"], service["binary"]),
        "host": service["host"], "zone": service["availability_zone"],
        "status": "disabled" if service["disabled"] else "enabled",
        "state": "up" if up else "down",
        "updated_at": service["updated_at"] or service["created_at"],
        "disabled_reason": service["disabled_reason"]}
    if service["binary"] == rpcapi.VOLUME_BINARY:
        body.update(frozen=bool(service["frozen"]),
                    replication_status=service["replication_status"] or "disabled",
                    active_backend_id=service["active_backend_id"])
        if version >= (3, 49):
            body["backend_state"] = "up" if up else "down"
    if version >= (3, 7):
        body["cluster"] = service["cluster_name"]
    return body


def routes(app: Any) -> list[tuple[str, dict[str, Any]]]:
    store = app.volumes.services

    def index(req: Request) -> Any:
        req.context.can("volume_extension:services:index", {})
        binary = req.GET.get("binary")
        found = store.get_all(binary=our_binary(binary) if binary else None,
                              host=req.GET.get("host") or None)
        version = microversion.of(req)
        return wsgi_request.json_response({"services": [
            service_view(s, version, app.conf.service_down_time) for s in found]})

    def update(req: Request, action: str) -> Any:
        req.context.can("volume_extension:services:update", {})
        if action not in ("enable", "disable", "disable-log-reason"):
            raise exception.InvalidInput(reason="Unknown action: %s" % action)
        body = validation.validate(req.parsed_json(), UPDATE)
        disabled = action != "enable"
        reason = body.get("disabled_reason") if action == "disable-log-reason" else None
        if action == "disable-log-reason" and not (reason or "").strip():
            raise exception.InvalidInput(reason="Disabled reason contains invalid "
                                                "characters or is too long")
        found = store.set_disabled(body["host"], our_binary(body["binary"]), disabled,
                                   reason)
        answer: dict[str, Any] = {"host": found["host"], "service": body["binary"],
                                  "binary": body["binary"], "disabled": disabled,
                                  "status": "disabled" if disabled else "enabled"}
        if action != "disable":
            answer["disabled_reason"] = found["disabled_reason"]
        return wsgi_request.json_response(answer)

    return [("/v3/os-services", {"GET": index}),
            ("/v3/os-services/{action}", {"PUT": update})]
