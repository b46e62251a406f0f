"""``/v2.1/os-keypairs``: a user's key pairs (import, generate, list, show, delete)."""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute.api import views
from compute.api.schemas import keypairs as schema

Request = wsgi_request.Request


class KeypairsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.keypairs = app.keypairs

    @staticmethod
    def _target(req: Request) -> dict[str, Any]:
        # At 2.1 a caller only ever works on their own key pairs (user_id
        # in the query and body arrive with 2.10).
        return {"user_id": req.context.user_id, "project_id": req.context.project_id}

    def index(self, req: Request) -> Any:
        req.context.can("os_compute_api:os-keypairs:index", self._target(req))
        items = self.keypairs.list(req.context.user_id)
        return wsgi_request.json_response(
            {"keypairs": [{"keypair": views.keypair_summary(k)} for k in items]})

    def show(self, req: Request, name: str) -> Any:
        req.context.can("os_compute_api:os-keypairs:show", self._target(req))
        keypair = self.keypairs.get(req.context.user_id, name)
        return wsgi_request.json_response({"keypair": views.keypair_detail(keypair)})

    def create(self, req: Request) -> Any:
        req.context.can("os_compute_api:os-keypairs:create", self._target(req))
        body = validation.validate(req.parsed_json(), schema.CREATE)["keypair"]
        user_id = req.context.user_id
        private_key = None
        if "public_key" in body:
            keypair = self.keypairs.import_key(user_id, body["name"], body["public_key"])
        else:
            keypair, private_key = self.keypairs.generate(user_id, body["name"])
        # 200 before 2.2 (201 after).
        return wsgi_request.json_response(
            {"keypair": views.keypair_created(keypair, private_key)}, status=200)

    def delete(self, req: Request, name: str) -> Any:
        req.context.can("os_compute_api:os-keypairs:delete", self._target(req))
        self.keypairs.delete(req.context.user_id, name)
        # 202 before 2.2 (204 after).
        return wsgi_request.empty_response(202)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/os-keypairs", {"GET": self.index, "POST": self.create}),
                ("/v2.1/os-keypairs/{name}", {"GET": self.show, "DELETE": self.delete})]
