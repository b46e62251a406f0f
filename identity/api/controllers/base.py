"""What every identity controller shares: auth check, policy, body parsing, URLs."""
from __future__ import annotations

from typing import Any

from common import exception as common_exc
from common.wsgi import request as wsgi_request
from common.wsgi import validation
from common.wsgi import versions
from identity.api import views

Request = wsgi_request.Request


class Controller:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.conf = app.conf

    def base(self, req: Request) -> str:
        return versions.base_url(req, self.conf.api.public_endpoint)

    @staticmethod
    def authenticated(req: Request) -> Any:
        ctx = req.context
        if ctx is None or not ctx.user_id:
            raise common_exc.Unauthorized()
        return ctx

    def authorize(self, req: Request, action: str, target: dict[str, Any] | None = None) -> Any:
        """Require a valid token and policy ``action`` on ``target``.

        :raises: Unauthorized (401) without a valid token, PolicyNotAuthorized (403).
        """
        ctx = self.authenticated(req)
        ctx.can(action, target or {})
        return ctx

    @staticmethod
    def body(req: Request, key: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``key`` object of the JSON body, validated against ``schema``."""
        data = req.parsed_json()
        if not isinstance(data, dict) or not isinstance(data.get(key), dict):
            raise common_exc.ValidationError(field=key, detail="'%s' is a required property"
                                             % key)
        if schema is not None:
            validation.validate(data[key], schema)
        return dict(data[key])

    def collection(self, req: Request, name: str, items: list[dict[str, Any]]) -> Any:
        return wsgi_request.json_response(views.collection(
            self.base(req), req.path_info, req.query_string, name, items))

    @staticmethod
    def filters(req: Request, *names: str) -> dict[str, Any]:
        """Equality filters from the query string; ``enabled`` is read as a boolean."""
        out: dict[str, Any] = {}
        for name in names:
            if name == "enabled":
                if "enabled" in req.GET:
                    out["enabled"] = req.param_bool("enabled")
            elif name in req.GET:
                out[name] = req.GET[name]
        return out


json_response = wsgi_request.json_response
empty_response = wsgi_request.empty_response
