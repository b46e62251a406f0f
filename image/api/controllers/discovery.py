"""Version discovery, /v2/info/* and /v2/schemas/*."""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from common.wsgi import versions
from image.api.schemas import image as image_schema

Request = wsgi_request.Request
# Claim only what is implemented: 2.12 adds /v2/images/{id}/tasks (served here at
# every version); 2.13 onwards (among them the cache API, /v2/info/usage and the
# locations API) are not implemented.
MINORS = 12


class DiscoveryController:
    def __init__(self, app: Any) -> None:
        self.app = app

    def versions(self, req: Request) -> Any:
        base = versions.base_url(req, self.app.conf.api.public_endpoint)
        values = [{"id": "v2.%d" % minor,
                   "status": "CURRENT" if minor == MINORS else "SUPPORTED",
                   "links": [{"rel": "self", "href": base + "/v2/"}]}
                  for minor in range(MINORS, -1, -1)]
        # Glance answers GET / with 300 Multiple Choices and GET /versions with 200.
        status = 200 if req.path_info.rstrip("/") == "/versions" else 300
        return wsgi_request.json_response({"versions": values}, status=status)

    def import_info(self, req: Request) -> Any:
        return wsgi_request.json_response({"import-methods": {
            "description": "Import methods available.", "type": "array",
            "value": ["glance-direct"]}})

    def stores_info(self, req: Request) -> Any:
        return wsgi_request.json_response({"stores": [
            {"id": "file", "description": "Filesystem store", "default": True}]})

    def schema(self, name: str) -> Any:
        def action(req: Request) -> Any:
            return wsgi_request.json_response(image_schema.SCHEMAS[name](self.app.conf))
        return action

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/", {"GET": self.versions}), ("/versions", {"GET": self.versions}),
                ("/v2/info/import", {"GET": self.import_info}),
                ("/v2/info/stores", {"GET": self.stores_info}),
                *[("/v2/schemas/" + name, {"GET": self.schema(name)})
                  for name in image_schema.SCHEMAS]]
