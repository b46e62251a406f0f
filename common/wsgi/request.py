"""Request and response helpers shared by every API."""
from __future__ import annotations

import json
from typing import Any

import webob

from common import exception

CONTEXT_KEY = "stratus.context"
JSON_TYPE = "application/json"


class Request(webob.Request):
    """A WebOb request that knows its context and parses JSON bodies."""

    @property
    def context(self) -> Any:
        return self.environ.get(CONTEXT_KEY)

    def json_body_or_empty(self) -> Any:
        if not self.body:
            return {}
        return self.parsed_json()

    def parsed_json(self) -> Any:
        """Parse the body as JSON.

        :raises: MalformedBody when the body is absent or not JSON.
        """
        ctype = (self.content_type or "").lower()
        if ctype and not (ctype.endswith("json") or ctype == "text/plain"):
            raise exception.UnsupportedMediaType(content_type=ctype)
        if not self.body:
            raise exception.MalformedBody(detail="a JSON body is required")
        return loads(self.body)

    def param_bool(self, name: str, default: bool | None = None) -> bool | None:
        """Read a query parameter the OpenStack way ('true', '1', 'yes' or bare)."""
        if name not in self.GET:
            return default
        value = self.GET[name].strip().lower()
        if value in ("", "1", "true", "yes", "on", "t", "y"):
            return True
        if value in ("0", "false", "no", "off", "f", "n"):
            return False
        raise exception.ValidationError(field=name, detail="expected a boolean")


def loads(raw: bytes) -> Any:
    """Parse a JSON request body.

    :raises: MalformedBody for invalid JSON, absurd nesting, or strings that
        are not valid Unicode (lone surrogates), which no database can store.
    """
    try:
        data = json.loads(raw)
        json.dumps(data, ensure_ascii=False).encode("utf-8")
        return data
    except RecursionError:
        raise exception.MalformedBody(detail="the JSON is nested too deeply")
    except (ValueError, UnicodeError) as err:
        raise exception.MalformedBody(detail=str(err))


def json_response(body: Any, status: int = 200,
                  headers: dict[str, str] | None = None) -> webob.Response:
    resp = webob.Response(status=status, content_type=JSON_TYPE, charset="UTF-8")
    if body is not None:
        resp.body = json.dumps(body, separators=(",", ":")).encode("utf-8")
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def empty_response(status: int = 204, headers: dict[str, str] | None = None) -> webob.Response:
    resp = webob.Response(status=status)
    resp.content_type = None
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp
