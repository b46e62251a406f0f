"""CORS as Swift does it: preflight ``OPTIONS`` answered from the container's
``X-Container-Meta-Access-Control-*`` settings (and ``[proxy] cors_allow_origin``)
without authentication, and Access-Control headers on the answers to requests with
an ``Origin`` the container allows."""
from __future__ import annotations

from typing import Any, Callable

from objectstore.proxy.controllers.base import Controller, http_response

#: Headers every CORS answer exposes (besides the user metadata it carries).
STANDARD_EXPOSE = ("cache-control", "content-language", "content-type", "expires",
                   "last-modified", "pragma", "etag", "x-timestamp", "x-trans-id",
                   "x-openstack-request-id")


def _cors_info(controller: Controller) -> dict[str, Any]:
    """The container's CORS settings (empty for account requests or missing containers)."""
    if not controller.container:
        return {}
    cinfo = controller.container_info(controller.account, controller.container)
    if cinfo["status"] // 100 != 2:
        return {}
    return dict(cinfo["cors"])


def _allowed_origins(controller: Controller, cors: dict[str, Any]) -> list[str]:
    return (cors.get("allow_origin") or "").split() + controller.app.cors_allow_origin


def options(controller: Controller) -> Any:
    """Answer a (preflight) ``OPTIONS`` request."""
    req = controller.req
    methods = sorted(set(controller.allowed_methods) | {"OPTIONS"})
    allow = ", ".join(methods)
    origin = req.headers.get("Origin")
    method = req.headers.get("Access-Control-Request-Method")
    if not origin or not method:
        return http_response(200, headers={"Allow": allow})
    cors = _cors_info(controller)
    origins = _allowed_origins(controller, cors)
    if ("*" not in origins and origin not in origins) or method not in methods:
        return http_response(401, headers={"Allow": allow})
    headers = {
        "Allow": allow,
        "Access-Control-Allow-Origin": "*" if (cors.get("allow_origin") or "").strip() == "*"
        else origin,
        "Access-Control-Allow-Methods": allow,
    }
    if cors.get("max_age"):
        headers["Access-Control-Max-Age"] = str(cors["max_age"])
    requested = req.headers.get("Access-Control-Request-Headers")
    if requested:
        headers["Access-Control-Allow-Headers"] = requested
    return http_response(200, headers=headers)


def response_headers_hook(controller: Controller
                          ) -> Callable[[list[tuple[str, str]]], list[tuple[str, str]]]:
    """A function giving the Access-Control headers to add to an answer with the
    given headers (none when the container does not allow the request's origin)."""
    def _headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        names = {name.lower() for name, _ in headers}
        if "access-control-allow-origin" in names:
            return []  # a middleware answered CORS itself
        origin = controller.req.headers.get("Origin", "")
        try:
            cors = _cors_info(controller)
        except Exception:  # noqa: BLE001 - a CORS lookup must not break the answer
            return []
        origins = _allowed_origins(controller, cors)
        if controller.app.strict_cors_mode and "*" not in origins and origin not in origins:
            return []
        expose = list(STANDARD_EXPOSE)
        for name, _value in headers:
            lname = name.lower()
            if lname.startswith(("x-object-meta-", "x-container-meta-")) \
                    and lname not in expose:
                expose.append(lname)
        for extra in (cors.get("expose_headers") or "").split() \
                + controller.app.cors_expose_headers:
            if extra.lower() not in expose:
                expose.append(extra.lower())
        allow_origin = origin
        if (cors.get("allow_origin") or "").strip() == "*" \
                and not controller.req.headers.get("X-Auth-Token"):
            allow_origin = "*"
        return [("Access-Control-Allow-Origin", allow_origin),
                ("Access-Control-Expose-Headers", ", ".join(expose))]
    return _headers
