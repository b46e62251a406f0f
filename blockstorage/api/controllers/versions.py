"""Version discovery: ``GET /`` (300, every version) and ``GET /v3/`` (this one).

Only v3.0 is listed: Tempest's show-version test fetches each listed major
version, and the v2 API is not served.
"""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from common.wsgi import versions
from blockstorage.api import microversion

Request = wsgi_request.Request
UPDATED = "2023-08-31T00:00:00Z"
MEDIA_TYPE = "application/vnd.openstack.volume+json;version=3"


def _entry(app: Any, req: Request) -> dict[str, Any]:
    base = versions.base_url(req, app.conf.api.public_endpoint)
    return {"id": "v3.0", "status": "CURRENT",
            "version": microversion.to_string(microversion.MAX_VERSION),
            "min_version": microversion.to_string(microversion.MIN_VERSION),
            "updated": UPDATED,
            "links": [{"rel": "describedby", "type": "text/html",
                       "href": "https://docs.openstack.org/"},
                      {"rel": "self", "href": base + "/v3/"}],
            "media-types": [{"base": "application/json", "type": MEDIA_TYPE}]}


def routes(app: Any) -> list[tuple[str, dict[str, Any]]]:
    def index(req: Request) -> Any:
        return wsgi_request.json_response({"versions": [_entry(app, req)]}, status=300)

    def show(req: Request) -> Any:
        return wsgi_request.json_response({"versions": [_entry(app, req)]})

    return [("/", {"GET": index}), ("/v3", {"GET": show})]
