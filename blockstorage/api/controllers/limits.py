"""``GET /v3/{project_id}/limits``: the caller's absolute limits and usage (no
rate limits). From 3.39 an admin may ask for another project's (``project_id``)."""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from blockstorage import volumes as volumes_service
from blockstorage.api import microversion

Request = wsgi_request.Request


def routes(app: Any) -> list[tuple[str, dict[str, Any]]]:
    def index(req: Request) -> Any:
        ctxt = req.context
        project = ctxt.project_id
        asked = req.GET.get("project_id")
        if asked and microversion.at_least(req, 39) and volumes_service.is_admin(ctxt):
            project = asked
        ctxt.can("limits_extension:used_limits", {"project_id": project})
        absolute = app.quotas.absolute_limits(project)
        return wsgi_request.json_response({"limits": {"rate": [], "absolute": absolute}})

    return [("/v3/limits", {"GET": index})]
