"""``/v2.1/flavors/{id}/os-extra_specs`` and ``os-flavor-access`` (with the
addTenantAccess/removeTenantAccess actions)."""
from __future__ import annotations

from typing import Any

from common import exception as common_exception
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute import exception
from compute import flavors as flavors_service
from compute.api import views
from compute.api.schemas import flavors as schema

Request = wsgi_request.Request


def _spec_values(specs: dict[str, Any]) -> dict[str, str]:
    """Values as stored: numbers and booleans become strings (Nova checks their length)."""
    found: dict[str, str] = {}
    for key, value in specs.items():
        text = value if isinstance(value, str) else str(value)
        if len(text) > 255:
            raise common_exception.ValidationError(
                field="extra_specs value", detail="is longer than 255 characters")
        found[key] = text
    return found


class FlavorExtrasController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.flavors: flavors_service.FlavorService = app.flavors

    # -- os-extra_specs
    def specs_index(self, req: Request, flavor_id: str) -> Any:
        req.context.can("os_compute_api:os-flavor-extra-specs:index")
        flavor = self.flavors.get(req.context, flavor_id)
        return wsgi_request.json_response({"extra_specs": flavor["extra_specs"]})

    def specs_create(self, req: Request, flavor_id: str) -> Any:
        req.context.can("os_compute_api:os-flavor-extra-specs:create")
        body = validation.validate(req.parsed_json(), schema.EXTRA_SPECS_CREATE)
        self.flavors.set_extra_specs(req.context, flavor_id,
                                     _spec_values(body["extra_specs"]))
        return wsgi_request.json_response(body)

    def spec_show(self, req: Request, flavor_id: str, key: str) -> Any:
        req.context.can("os_compute_api:os-flavor-extra-specs:show")
        specs = self.flavors.get(req.context, flavor_id)["extra_specs"]
        if key not in specs:
            raise exception.FlavorExtraSpecsNotFound(flavor_id=flavor_id, extra_specs_key=key)
        return wsgi_request.json_response({key: specs[key]})

    def spec_update(self, req: Request, flavor_id: str, key: str) -> Any:
        req.context.can("os_compute_api:os-flavor-extra-specs:update")
        body = validation.validate(req.parsed_json(), schema.EXTRA_SPEC_UPDATE)
        if key not in body:
            raise common_exception.Invalid("Request body and URI mismatch")
        self.flavors.set_extra_specs(req.context, flavor_id, _spec_values(body))
        return wsgi_request.json_response(body)

    def spec_delete(self, req: Request, flavor_id: str, key: str) -> Any:
        req.context.can("os_compute_api:os-flavor-extra-specs:delete")
        self.flavors.delete_extra_spec(req.context, flavor_id, key)
        return wsgi_request.empty_response(200)  # Nova answers 200 here (202 for a flavor)

    # -- os-flavor-access
    def access_index(self, req: Request, flavor_id: str) -> Any:
        req.context.can("os_compute_api:os-flavor-access")
        projects = self.flavors.access_list(req.context, flavor_id)
        return wsgi_request.json_response(views.flavor_access(flavor_id, projects))

    def action(self, req: Request, flavor_id: str) -> Any:
        body = req.parsed_json()
        if isinstance(body, dict) and "addTenantAccess" in body:
            req.context.can("os_compute_api:os-flavor-access:add_tenant_access")
        elif isinstance(body, dict) and "removeTenantAccess" in body:
            req.context.can("os_compute_api:os-flavor-access:remove_tenant_access")
        else:
            raise common_exception.Invalid(
                "There is no such action: %s" % (
                    ", ".join(sorted(body)) if isinstance(body, dict) and body else "(none)"))
        body = validation.validate(body, schema.ACTION)
        if "addTenantAccess" in body:
            projects = self.flavors.add_access(req.context, flavor_id,
                                               body["addTenantAccess"]["tenant"])
        else:
            projects = self.flavors.remove_access(req.context, flavor_id,
                                                  body["removeTenantAccess"]["tenant"])
        return wsgi_request.json_response(views.flavor_access(flavor_id, projects))

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        base = "/v2.1/flavors/{flavor_id}"
        return [(base + "/os-extra_specs", {"GET": self.specs_index,
                                            "POST": self.specs_create}),
                (base + "/os-extra_specs/{key}", {"GET": self.spec_show,
                                                  "PUT": self.spec_update,
                                                  "DELETE": self.spec_delete}),
                (base + "/os-flavor-access", {"GET": self.access_index}),
                (base + "/action", {"POST": self.action})]
