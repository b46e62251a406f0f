"""A route table dispatcher: (path template, {METHOD: action}) -> controller action."""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable

import webob

from common import exception
from common.wsgi import request as wsgi_request

Action = Callable[..., webob.Response]
_VAR = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")


def _compile(template: str, strict: bool = False) -> re.Pattern[str]:
    pattern = ""
    pos = 0
    for match in _VAR.finditer(template):
        pattern += re.escape(template[pos:match.start()])
        pattern += "(?P<%s>[^/]+)" % match.group(1)
        pos = match.end()
    pattern += re.escape(template[pos:])
    return re.compile("^" + pattern + ("$" if strict else "/?$"))


class Router:
    """WSGI app dispatching by a route table.

    ``routes`` is an iterable of ``(template, {METHOD: callable})``; a callable
    takes ``(req, **path_vars)`` and returns a WebOb response. HEAD falls back
    to GET with the body dropped.
    """

    def __init__(self, routes: Iterable[tuple[str, dict[str, Action]]],
                 before: Callable[[wsgi_request.Request], None] | None = None,
                 strict_slashes: bool = False) -> None:
        self._static: dict[str, dict[str, Action]] = {}
        self._dynamic: list[tuple[re.Pattern[str], dict[str, Action]]] = []
        self._strict = strict_slashes
        for template, methods in routes:
            if "{" in template:
                self._dynamic.append((_compile(template, strict_slashes), methods))
            else:
                self._static[template.rstrip("/") or "/"] = methods
        self._before = before

    def _match(self, path: str) -> tuple[dict[str, Action], dict[str, str]] | None:
        key = path if self._strict else (path.rstrip("/") or "/")
        if key in self._static:
            return self._static[key], {}
        for pattern, methods in self._dynamic:
            found = pattern.match(path)
            if found:
                return methods, found.groupdict()
        return None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = wsgi_request.Request(environ)
        found = self._match(req.path_info or "/")
        if found is None:
            raise exception.NotFound("The resource could not be found.")
        methods, params = found
        method = req.method
        action = methods.get(method)
        if action is None and method == "HEAD" and "GET" in methods:
            action = methods["GET"]
        if action is None:
            err = exception.MethodNotAllowed(method=method)
            allowed = sorted(set(methods) | ({"HEAD"} if "GET" in methods else set()))
            err.headers = {"Allow": ", ".join(allowed)}
            raise err
        if self._before is not None:
            self._before(req)
        resp = action(req, **params)
        return resp(environ, start_response)
