"""``/v3/{project_id}/os-quota-sets/{target}``: a project's limits (``?usage=true``
with usage), its defaults; admins change (PUT) and reset (DELETE) them."""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from common.wsgi import validation
from blockstorage import exception
from blockstorage.api.controllers import volumes as volumes_controller

Request = wsgi_request.Request
UPDATE = {"type": "object",
          "properties": {"quota_set": {"type": "object"}},
          "required": ["quota_set"]}


def routes(app: Any) -> list[tuple[str, dict[str, Any]]]:
    engine = app.quotas

    def show(req: Request, target: str) -> Any:
        req.context.can("volume_extension:quotas:show", {"project_id": target})
        usage = volumes_controller.boolean(req.GET.get("usage", "false"))
        return wsgi_request.json_response({"quota_set": engine.show(target, usage=usage)})

    def defaults(req: Request, target: str) -> Any:
        req.context.can("volume_extension:quotas:show", {"project_id": target})
        return wsgi_request.json_response({"quota_set": dict(engine.defaults(), id=target)})

    def update(req: Request, target: str) -> Any:
        req.context.can("volume_extension:quotas:update", {"project_id": target})
        values = dict(validation.validate(req.parsed_json(), UPDATE)["quota_set"])
        values.pop("tenant_id", None)
        values.pop("id", None)
        skip = values.pop("skip_validation", True)
        if not isinstance(skip, bool):
            skip = volumes_controller.boolean(str(skip))
        if not values:
            raise exception.InvalidInput(reason="No quota set values were given.")
        limits = engine.update(target, values, skip_validation=skip)
        return wsgi_request.json_response({"quota_set": limits})

    def delete(req: Request, target: str) -> Any:
        req.context.can("volume_extension:quotas:delete", {"project_id": target})
        engine.delete(target)
        return wsgi_request.empty_response(200)

    return [("/v3/os-quota-sets/{target}", {"GET": show, "PUT": update, "DELETE": delete}),
            ("/v3/os-quota-sets/{target}/defaults", {"GET": defaults})]
