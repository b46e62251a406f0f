"""Version discovery: GET / (300) and GET /v3."""
from __future__ import annotations

from typing import Any

from common.wsgi import versions
from identity.api.controllers import base

MEDIA_TYPE = "application/vnd.openstack.identity-v3+json"
V3_ID, V3_UPDATED = "v3.14", "2020-04-07T00:00:00Z"


class VersionsController(base.Controller):
    def _entry(self, req: base.Request) -> dict[str, Any]:
        return versions.version_entry(self.base(req), V3_ID, "/v3/", "stable", V3_UPDATED,
                                      MEDIA_TYPE)

    def index(self, req: base.Request) -> Any:
        return base.json_response({"versions": {"values": [self._entry(req)]}}, status=300)

    def v3(self, req: base.Request) -> Any:
        return base.json_response({"version": self._entry(req)})

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/", {"GET": self.index}), ("/v3", {"GET": self.v3})]
