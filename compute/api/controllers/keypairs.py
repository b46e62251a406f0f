"""``/v2.1/os-keypairs``: a user's key pairs (import, generate, list, show, delete).

From 2.2 key pairs have a ``type`` (``ssh`` or ``x509``), a create answers 201
and a delete 204; from 2.10 an admin names another user (``user_id`` in the
query, or in the body of a create); from 2.35 the list is paged (``limit``,
``marker``: a key pair's name) with a ``keypairs_links`` next link after a full
page.
"""
from __future__ import annotations

from typing import Any

from common.wsgi import pagination
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from compute.api import microversion
from compute.api import views
from compute.api.schemas import keypairs as schema

Request = wsgi_request.Request


class KeypairsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.keypairs = app.keypairs

    @staticmethod
    def _user(req: Request, given: str | None = None) -> str:
        """The user whose key pairs are meant: the caller's, or (2.10) the one named."""
        if microversion.of(req) >= (2, 10):
            named = given if given is not None else req.GET.get("user_id")
            if named:
                return str(named)
        return str(req.context.user_id)

    @staticmethod
    def _target(req: Request, user_id: str) -> dict[str, Any]:
        return {"user_id": user_id, "project_id": req.context.project_id}

    @staticmethod
    def _typed(req: Request, body: dict[str, Any], keypair: dict[str, Any]) -> dict[str, Any]:
        if microversion.of(req) >= (2, 2):
            body["type"] = keypair["type"]
        return body

    def index(self, req: Request) -> Any:
        user_id = self._user(req)
        req.context.can("os_compute_api:os-keypairs:index", self._target(req, user_id))
        paged = microversion.of(req) >= (2, 35)
        limit: int | None = None
        marker: str | None = None
        if paged:
            limit, marker = pagination.limit_and_marker(req.GET,
                                                        self.app.conf.compute_api.max_limit)
        items = self.keypairs.list(user_id, limit=limit, marker=marker)
        body: dict[str, Any] = {
            "keypairs": [{"keypair": self._typed(req, views.keypair_summary(k), k)}
                         for k in items]}
        # As Nova: a next link when the page is full (the limit given, at most max_limit).
        if paged and items and len(items) == limit:
            path = views.Links(req, self.app.conf.api.public_endpoint).versioned
            body["keypairs_links"] = [{"rel": "next", "href": pagination.next_link(
                path + "/os-keypairs", req.GET, items[-1]["name"])}]
        return wsgi_request.json_response(body)

    def show(self, req: Request, name: str) -> Any:
        user_id = self._user(req)
        req.context.can("os_compute_api:os-keypairs:show", self._target(req, user_id))
        keypair = self.keypairs.get(user_id, name)
        return wsgi_request.json_response(
            {"keypair": self._typed(req, views.keypair_detail(keypair), keypair)})

    def create(self, req: Request) -> Any:
        version = microversion.of(req)
        body_schema = (schema.CREATE_V210 if version >= (2, 10)
                       else schema.CREATE_V22 if version >= (2, 2) else schema.CREATE)
        body = validation.validate(req.parsed_json(), body_schema)["keypair"]
        user_id = self._user(req, body.get("user_id"))
        req.context.can("os_compute_api:os-keypairs:create", self._target(req, user_id))
        key_type = body.get("type", "ssh")
        private_key = None
        if "public_key" in body:
            keypair = self.keypairs.import_key(user_id, body["name"], body["public_key"],
                                               key_type)
        else:
            keypair, private_key = self.keypairs.generate(user_id, body["name"], key_type)
        created = self._typed(req, views.keypair_created(keypair, private_key), keypair)
        # 200 before 2.2 (201 after).
        return wsgi_request.json_response({"keypair": created},
                                          status=201 if version >= (2, 2) else 200)

    def delete(self, req: Request, name: str) -> Any:
        user_id = self._user(req)
        req.context.can("os_compute_api:os-keypairs:delete", self._target(req, user_id))
        self.keypairs.delete(user_id, name)
        # 202 before 2.2 (204 after).
        return wsgi_request.empty_response(204 if microversion.of(req) >= (2, 2) else 202)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2.1/os-keypairs", {"GET": self.index, "POST": self.create}),
                ("/v2.1/os-keypairs/{name}", {"GET": self.show, "DELETE": self.delete})]
