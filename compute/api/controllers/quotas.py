"""``/v2.1/os-quota-sets`` (a project's or a user's limits, the defaults, the
detail with usage; admins change and reset them), ``/v2.1/os-quota-class-sets``
(the defaults, as Nova's ``default`` quota class) and ``/v2.1/limits`` (the
caller's absolute limits and usage).

Microversions: 2.36 drops the network resources, 2.39 ``maxImageMeta``, 2.50
gives quota classes the server group limits instead of the network ones, 2.57
drops the injected file (personality) limits.
"""
from __future__ import annotations

from typing import Any

from common import exception as common_exception
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import quotas as quotas_service
from compute.api import microversion
from compute.api.controllers.services import nova_bool
from compute.api.schemas import quotas as schema

Request = wsgi_request.Request
# The API's name of a resource -> the quota service's (its [quota] option).
_SERVICE_NAME = {"injected_file_path_bytes": "injected_file_path_length"}


def _api_values(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: values[_SERVICE_NAME.get(name, name)] for name in names}


def _quota_set_names(req: Request) -> tuple[tuple[str, ...], dict[str, Any]]:
    version = microversion.of(req)
    if version >= (2, 57):
        return schema.QUOTA_SET_257, schema.UPDATE_257
    if version >= (2, 36):
        return schema.QUOTA_SET_236, schema.UPDATE_236
    return schema.QUOTA_SET, schema.UPDATE


def _values_from_body(body: dict[str, Any]) -> dict[str, int]:
    values = {}
    for name, raw in body.items():
        value = int(raw)
        if not -1 <= value <= schema.MAX_INT:
            raise common_exception.ValidationError(
                field="quota_set.%s" % name,
                detail="must be >= -1 and <= %d" % schema.MAX_INT)
        values[_SERVICE_NAME.get(name, name)] = value
    return values


class QuotaSetsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.quotas = quotas_service.QuotaService(app.conf, app.db)

    @staticmethod
    def _user(req: Request) -> str | None:
        return req.GET.get("user_id") or None

    def show(self, req: Request, project_id: str) -> Any:
        req.context.can("os_compute_api:os-quota-sets:show", {"project_id": project_id})
        names, _ = _quota_set_names(req)
        values = _api_values(self.quotas.limits(project_id, self._user(req)), names)
        return wsgi_request.json_response({"quota_set": dict(values, id=project_id)})

    def defaults(self, req: Request, project_id: str) -> Any:
        req.context.can("os_compute_api:os-quota-sets:defaults", {"project_id": project_id})
        names, _ = _quota_set_names(req)
        values = _api_values(self.quotas.defaults(), names)
        return wsgi_request.json_response({"quota_set": dict(values, id=project_id)})

    def detail(self, req: Request, project_id: str) -> Any:
        req.context.can("os_compute_api:os-quota-sets:detail", {"project_id": project_id})
        names, _ = _quota_set_names(req)
        values = _api_values(self.quotas.detail(project_id, self._user(req)), names)
        return wsgi_request.json_response({"quota_set": dict(values, id=project_id)})

    def update(self, req: Request, project_id: str) -> Any:
        req.context.can("os_compute_api:os-quota-sets:update", {"project_id": project_id})
        names, body_schema = _quota_set_names(req)
        body = dict(validation.validate(req.parsed_json(), body_schema)["quota_set"])
        force = nova_bool(body.pop("force", False))
        values = _values_from_body(body)
        user_id = self._user(req)
        if user_id is not None:
            # A user's limit may not exceed its project's.
            project = self.quotas.limits(project_id)
            for resource, value in values.items():
                maximum = project.get(resource, -1)
                if maximum != -1 and (value == -1 or value > maximum):
                    raise common_exception.Invalid(
                        "Quota limit %s for %s must be less than or equal to %s." % (
                            value, resource, maximum))
        limits = self.quotas.update(project_id, values, user_id=user_id, force=force)
        return wsgi_request.json_response({"quota_set": _api_values(limits, names)})

    def delete(self, req: Request, project_id: str) -> Any:
        req.context.can("os_compute_api:os-quota-sets:delete", {"project_id": project_id})
        self.quotas.delete(project_id, self._user(req))
        return wsgi_request.empty_response(202)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        base = "/v2.1/os-quota-sets/{project_id}"
        return [(base, {"GET": self.show, "PUT": self.update, "DELETE": self.delete}),
                (base + "/defaults", {"GET": self.defaults}),
                (base + "/detail", {"GET": self.detail})]


class QuotaClassSetsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.quotas = quotas_service.QuotaService(app.conf, app.db)

    @staticmethod
    def _names(req: Request) -> tuple[tuple[str, ...], dict[str, Any]]:
        version = microversion.of(req)
        if version >= (2, 57):
            return schema.QUOTA_CLASS_257, schema.CLASS_UPDATE_257
        if version >= (2, 50):
            return schema.QUOTA_CLASS_250, schema.CLASS_UPDATE_250
        return schema.QUOTA_CLASS, schema.CLASS_UPDATE

    @staticmethod
    def _check_id(class_id: str) -> None:
        if not 1 <= len(class_id) <= 255:
            raise common_exception.Invalid("The quota class id must be 1 to 255 characters.")

    def show(self, req: Request, class_id: str) -> Any:
        req.context.can("os_compute_api:os-quota-class-sets:show")
        self._check_id(class_id)
        names, _ = self._names(req)
        values = _api_values(self.quotas.class_limits(class_id), names)
        return wsgi_request.json_response({"quota_class_set": dict(values, id=class_id)})

    def update(self, req: Request, class_id: str) -> Any:
        req.context.can("os_compute_api:os-quota-class-sets:update")
        self._check_id(class_id)
        names, body_schema = self._names(req)
        body = validation.validate(req.parsed_json(), body_schema)["quota_class_set"]
        limits = self.quotas.update_class(class_id, _values_from_body(body))
        return wsgi_request.json_response({"quota_class_set": _api_values(limits, names)})

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/os-quota-class-sets/{class_id}", {"GET": self.show,
                                                          "PUT": self.update})]


class LimitsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.quotas = quotas_service.QuotaService(app.conf, app.db)

    def index(self, req: Request) -> Any:
        req.context.can("os_compute_api:limits")
        project_id = req.context.project_id
        if "tenant_id" in req.GET:
            project_id = req.GET["tenant_id"]
            req.context.can("os_compute_api:limits:other_project",
                            {"project_id": project_id})
        limits = self.quotas.limits(project_id)
        used = self.quotas.usage(project_id)
        version = microversion.of(req)
        absolute: dict[str, int] = {
            "maxServerMeta": limits["metadata_items"],
            "maxTotalInstances": limits["instances"], "maxTotalCores": limits["cores"],
            "maxTotalRAMSize": limits["ram"], "maxTotalKeypairs": limits["key_pairs"],
            "maxServerGroups": limits["server_groups"],
            "maxServerGroupMembers": limits["server_group_members"],
            "totalInstancesUsed": used["instances"], "totalCoresUsed": used["cores"],
            "totalRAMUsed": used["ram"], "totalServerGroupsUsed": used["server_groups"]}
        if version < (2, 57):
            absolute.update(maxPersonality=limits["injected_files"],
                            maxPersonalitySize=limits["injected_file_content_bytes"])
        if version < (2, 39):
            absolute["maxImageMeta"] = limits["metadata_items"]
        if version < (2, 36):
            absolute.update(maxTotalFloatingIps=limits["floating_ips"],
                            maxSecurityGroups=limits["security_groups"],
                            maxSecurityGroupRules=limits["security_group_rules"],
                            totalFloatingIpsUsed=0, totalSecurityGroupsUsed=0)
        return wsgi_request.json_response({"limits": {"absolute": absolute, "rate": []}})

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/limits", {"GET": self.index})]
