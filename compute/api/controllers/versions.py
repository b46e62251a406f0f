"""Version discovery: ``GET /`` (every version) and ``GET /v2.1`` (this one)."""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from common.wsgi import versions
from compute.api import microversion

Request = wsgi_request.Request
UPDATED = "2013-07-23T11:33:21Z"
MEDIA_TYPE = "application/vnd.openstack.compute+json;version=2.1"


class VersionsController:
    def __init__(self, app: Any) -> None:
        self.app = app

    def _entry(self, req: Request) -> dict[str, Any]:
        base = versions.base_url(req, self.app.conf.api.public_endpoint)
        return {"id": "v2.1", "status": "CURRENT",
                "version": microversion.to_string(microversion.MAX_VERSION),
                "min_version": microversion.to_string(microversion.MIN_VERSION),
                "updated": UPDATED,
                "links": [{"rel": "self", "href": base + "/v2.1/"}]}

    def index(self, req: Request) -> Any:
        return wsgi_request.json_response({"versions": [self._entry(req)]})

    def show(self, req: Request) -> Any:
        entry = self._entry(req)
        entry["links"].append({"rel": "describedby", "type": "text/html",
                               "href": "http://docs.openstack.org/"})
        entry["media-types"] = [{"base": "application/json", "type": MEDIA_TYPE}]
        return wsgi_request.json_response({"version": entry})

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/", {"GET": self.index}), ("/v2.1", {"GET": self.show})]
