"""Answers ``GET /healthcheck`` before authentication, for load balancers and installers."""
from __future__ import annotations

from typing import Any, Callable


class Healthcheck:
    def __init__(self, app: Any, path: str = "/healthcheck") -> None:
        self.app = app
        self.path = path

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == self.path \
                and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            body = b"OK"
            start_response("200 OK", [("Content-Type", "text/plain"),
                                      ("Content-Length", str(len(body)))])
            return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]
        return self.app(environ, start_response)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Healthcheck]:
    path = local_conf.get("path", "/healthcheck")
    return lambda app: Healthcheck(app, path)
