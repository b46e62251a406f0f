"""``/v2.1/os-services``: list compute services; enable, disable and force down
(``PUT /os-services/{action}`` with host and binary before 2.53, ``PUT
/os-services/{uuid}`` from 2.53); delete. Admin only."""
from __future__ import annotations

import uuid
from typing import Any

from common import exception as common_exception
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute.api import microversion
from compute.api.schemas import flavors as flavor_schema
from compute.api.schemas import services as schema
from compute.db import hosts as hosts_db
from compute import services as services_api

Request = wsgi_request.Request
NOVA_COMPUTE = hosts_db.NOVA_BINARIES[hosts_db.COMPUTE_BINARY]


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def int_id(value: str) -> int | None:
    """A database id from a URL (None: not one; ids beyond 32 bits never exist)."""
    if not (value.isascii() and value.isdigit()) or int(value) > 0x7FFFFFFF:
        return None
    return int(value)


def nova_bool(value: Any) -> bool:
    return value is True or (isinstance(value, str)
                             and value.lower() in flavor_schema.TRUE_STRINGS)


class ServicesController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.services = services_api.ServiceAPI(app.conf, app.db)

    @staticmethod
    def _view(req: Request, service: dict[str, Any]) -> dict[str, Any]:
        version = microversion.of(req)
        body = {"id": service["uuid"] if version >= (2, 53) else service["id"],
                "binary": service["binary"], "host": service["host"],
                "zone": service["zone"], "status": service["status"],
                "state": service["state"], "updated_at": service["updated_at"],
                "disabled_reason": service["disabled_reason"]}
        if version >= (2, 11):
            body["forced_down"] = service["forced_down"]
        return body

    def index(self, req: Request) -> Any:
        req.context.can("os_compute_api:os-services:list")
        items = self.services.get_all(binary=req.GET.get("binary") or None,
                                      host=req.GET.get("host") or None)
        return wsgi_request.json_response({"services": [self._view(req, s) for s in items]})

    def update(self, req: Request, service_id: str) -> Any:
        req.context.can("os_compute_api:os-services:update")
        if microversion.of(req) >= (2, 53):
            return self._update_253(req, service_id)
        return self._legacy_action(req, service_id)

    def _legacy_action(self, req: Request, action: str) -> Any:
        version = microversion.of(req)
        actions = ("enable", "disable", "disable-log-reason") + (
            ("force-down",) if version >= (2, 11) else ())
        if action not in actions:
            raise common_exception.NotFound("Unknown action")
        body = validation.validate(req.parsed_json(),
                                   schema.UPDATE_211 if version >= (2, 11) else schema.UPDATE)
        host, binary = body["host"], body["binary"]
        service = self.services.find(host, binary)
        result: dict[str, Any] = {"host": host, "binary": binary}
        if action == "force-down":
            if "forced_down" not in body:
                raise common_exception.Invalid("Missing forced_down field")
            forced = nova_bool(body["forced_down"])
            self.services.update(service["id"], {"forced_down": forced})
            result["forced_down"] = forced
        elif action == "enable":
            self.services.update(service["id"], {"disabled": False, "disabled_reason": None})
            result["status"] = "enabled"
        else:
            reason = body.get("disabled_reason")
            if action == "disable-log-reason" and not reason:
                raise common_exception.Invalid("Missing disabled reason field")
            values: dict[str, Any] = {"disabled": True}
            if action == "disable-log-reason":
                values["disabled_reason"] = reason
                result["disabled_reason"] = reason
            self.services.update(service["id"], values)
            result["status"] = "disabled"
        return wsgi_request.json_response({"service": result})

    def _update_253(self, req: Request, service_id: str) -> Any:
        if not is_uuid(service_id):
            raise common_exception.Invalid("Invalid uuid %s" % service_id)
        body = validation.validate(req.parsed_json(), schema.UPDATE_253)
        status, reason = body.get("status"), body.get("disabled_reason")
        if status is None and "forced_down" not in body:
            raise common_exception.Invalid(
                "No updates were requested. Fields 'status' or 'forced_down' should be "
                "specified.")
        if reason is not None and status != "disabled":
            raise common_exception.Invalid(
                "Specifying 'disabled_reason' with status '%s' is invalid." % status)
        service = self.services.get(service_id)
        if service["binary"] != NOVA_COMPUTE:
            raise common_exception.Invalid(
                "Updating a %s service is not supported. Only nova-compute services can "
                "be updated." % service["binary"])
        values: dict[str, Any] = {}
        if status is not None:
            values["disabled"] = status == "disabled"
            values["disabled_reason"] = reason if status == "disabled" else None
        if "forced_down" in body:
            values["forced_down"] = nova_bool(body["forced_down"])
        service = self.services.update(service_id, values)
        return wsgi_request.json_response({"service": self._view(req, service)})

    def delete(self, req: Request, service_id: str) -> Any:
        req.context.can("os_compute_api:os-services:delete")
        key: int | str
        if microversion.of(req) >= (2, 53):
            if not is_uuid(service_id):
                raise common_exception.Invalid("Invalid uuid %s" % service_id)
            key = service_id
        else:
            if not (service_id.isascii() and service_id.isdigit()):
                raise common_exception.Invalid("Invalid service id %s" % service_id)
            found = int_id(service_id)
            if found is None:
                raise hosts_db.ServiceNotFound(service_id=service_id)
            key = found
        self.services.delete(key)
        return wsgi_request.empty_response(204)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/os-services", {"GET": self.index}),
                ("/v2.1/os-services/{service_id}", {"PUT": self.update,
                                                    "DELETE": self.delete})]
