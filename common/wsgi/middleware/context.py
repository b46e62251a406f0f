"""Builds the request context from the headers keystonemiddleware's auth_token sets."""
from __future__ import annotations

from typing import Any, Callable

from common import context
from common import exception
from common.wsgi import request as wsgi_request


class ContextFilter:
    def __init__(self, app: Any, allow_anonymous: bool = False) -> None:
        self.app = app
        self.allow_anonymous = allow_anonymous

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_X_IDENTITY_STATUS", "Confirmed") != "Confirmed" \
                and not self.allow_anonymous:
            raise exception.Unauthorized()
        ctx = context.RequestContext.from_environ(environ)
        environ[wsgi_request.CONTEXT_KEY] = ctx
        return self.app(environ, start_response)


def filter_factory(global_conf: dict[str, Any],
                   **local_conf: Any) -> Callable[[Any], ContextFilter]:
    anonymous = local_conf.get("allow_anonymous", "false").lower() == "true"
    return lambda app: ContextFilter(app, anonymous)
