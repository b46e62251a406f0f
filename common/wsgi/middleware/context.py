"""Builds the request context from the headers keystonemiddleware's auth_token sets.

With ``delay_auth_decision`` in auth_token, requests without a valid token
reach this filter; only paths matching ``public_paths`` (version discovery)
may pass without one.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from common import context
from common import exception
from common.wsgi import request as wsgi_request


class ContextFilter:
    def __init__(self, app: Any, public_paths: str | None = None) -> None:
        self.app = app
        self.public = re.compile(public_paths) if public_paths else None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_X_IDENTITY_STATUS", "Confirmed") != "Confirmed":
            if self.public is None or not self.public.match(environ.get("PATH_INFO", "")):
                raise exception.Unauthorized()
            environ[wsgi_request.CONTEXT_KEY] = context.RequestContext(
                request_id=environ.get("openstack.request_id"), overwrite=True)
        else:
            environ[wsgi_request.CONTEXT_KEY] = context.RequestContext.from_environ(environ)
        return self.app(environ, start_response)


def filter_factory(global_conf: dict[str, Any],
                   **local_conf: Any) -> Callable[[Any], ContextFilter]:
    public = local_conf.get("public_paths")
    return lambda app: ContextFilter(app, public)
