"""The fault filter: the one place exceptions become HTTP error responses.

Each service names its OpenStack error format in api-paste.ini
(``format = keystone|nova|neutron|glance``).
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable

import webob
import webob.exc

from common import exception
from common import rpc

LOG = logging.getLogger(__name__)
_UNAVAILABLE = rpc.UNAVAILABLE
_GENERIC = "An unexpected error prevented the server from fulfilling your request."

# Nova/Cinder name the fault body by status code.
_NOVA_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden",
               404: "itemNotFound", 405: "badMethod", 406: "notAcceptable",
               409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
               429: "overLimit", 501: "notImplemented", 503: "serviceUnavailable"}


def _keystone(code: int, title: str, message: str, name: str) -> tuple[str, bytes]:
    body = {"error": {"code": code, "title": title, "message": message}}
    return "application/json", json.dumps(body).encode()


def _nova(code: int, title: str, message: str, name: str) -> tuple[str, bytes]:
    key = _NOVA_NAMES.get(code, "computeFault")
    return "application/json", json.dumps({key: {"code": code, "message": message}}).encode()


def _neutron(code: int, title: str, message: str, name: str) -> tuple[str, bytes]:
    body = {"NeutronError": {"type": name, "message": message, "detail": ""}}
    return "application/json", json.dumps(body).encode()


def _glance(code: int, title: str, message: str, name: str) -> tuple[str, bytes]:
    text = "%d %s\n\n%s\n\n   " % (code, title, message)
    return "text/plain", text.encode()


FORMATTERS: dict[str, Callable[[int, str, str, str], tuple[str, bytes]]] = {
    "keystone": _keystone, "nova": _nova, "neutron": _neutron, "glance": _glance}


def error_response(fmt: str, err: BaseException) -> webob.Response:
    """Render ``err`` in format ``fmt``; unexpected errors become a generic 500."""
    if isinstance(err, _UNAVAILABLE):
        # A daemon behind this API did not answer over RPC: the service is
        # unavailable for now, which is not a bug in the request or the server.
        err = exception.ServiceUnavailable(reason="a backend service did not answer in time")
    if isinstance(err, exception.Error):
        code, title, name = err.code, err.title, type(err).__name__
        message = err.message if err.safe else _GENERIC
        headers = dict(err.headers)
    elif isinstance(err, webob.exc.HTTPException):
        code, title, name = err.code, err.title, type(err).__name__
        message = err.detail or err.explanation
        headers = {}
    else:
        code, title, name, headers = 500, "Internal Server Error", "InternalError", {}
        message = _GENERIC
    ctype, body = FORMATTERS[fmt](code, title, message, name)
    resp = webob.Response(status=code, body=body, content_type=ctype, charset="UTF-8")
    for key, value in headers.items():
        resp.headers[key] = value
    return resp


class FaultFilter:
    """Catches every exception below it and answers in the service's format."""

    def __init__(self, app: Any, fmt: str = "keystone") -> None:
        if fmt not in FORMATTERS:
            raise ValueError("unknown fault format %r" % fmt)
        self.app = app
        self.fmt = fmt

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        try:
            return self.app(environ, start_response)
        except UnicodeDecodeError:
            # webob decodes the path and query lazily: bad percent-escapes land here.
            err = exception.Invalid("The request URL is not valid UTF-8.")
            return error_response(self.fmt, err)(environ, start_response)
        except Exception as err:  # the one boundary that swallows: log once
            if isinstance(err, _UNAVAILABLE):
                LOG.warning("%(method)s %(path)s: backend did not answer: %(err)s",
                            {"method": environ.get("REQUEST_METHOD"),
                             "path": environ.get("PATH_INFO"), "err": err})
            elif isinstance(err, exception.Error) and err.code < 500:
                LOG.info("%(method)s %(path)s -> %(code)s: %(msg)s",
                         {"method": environ.get("REQUEST_METHOD"),
                          "path": environ.get("PATH_INFO"), "code": err.code,
                          "msg": err.message})
            elif isinstance(err, webob.exc.HTTPException) and err.code < 500:
                pass
            else:
                LOG.exception("Unexpected error serving %(method)s %(path)s",
                              {"method": environ.get("REQUEST_METHOD"),
                               "path": environ.get("PATH_INFO")})
            resp = error_response(self.fmt, err)
            if resp.status_int == 401 and self.fmt == "keystone":
                # Keystone names itself on a 401, so a client knows where to authenticate.
                resp.headers["WWW-Authenticate"] = 'Keystone uri="%s"' % _host_url(environ)
            return resp(environ, start_response)


def _host_url(environ: dict[str, Any]) -> str:
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or "%s:%s" % (environ.get("SERVER_NAME", "localhost"),
                                                  environ.get("SERVER_PORT", "80"))
    return "%s://%s" % (scheme, host)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], FaultFilter]:
    fmt = local_conf.get("format", "keystone")
    return lambda app: FaultFilter(app, fmt)
