"""Gives every request an id, echoed as X-OpenStack-Request-ID.

An inbound ``X-OpenStack-Request-ID`` of the form ``req-<uuid>`` is kept as the
global request id, so one id can be followed across services. A paste option
``compat_headers`` names legacy headers that carry the same id too (Nova's
``x-compute-request-id``, which clients and Tempest still read).
"""
from __future__ import annotations

import re
import uuid
from typing import Any, Callable

ENV_REQUEST_ID = "openstack.request_id"
ENV_GLOBAL_REQUEST_ID = "openstack.global_request_id"
HEADER = "X-OpenStack-Request-ID"
_VALID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def new_request_id() -> str:
    return "req-" + str(uuid.uuid4())


class RequestId:
    def __init__(self, app: Any, compat_headers: tuple[str, ...] = ()) -> None:
        self.app = app
        self.headers = (HEADER, *compat_headers)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req_id = new_request_id()
        environ[ENV_REQUEST_ID] = req_id
        inbound = environ.get("HTTP_X_OPENSTACK_REQUEST_ID", "")
        if _VALID.fullmatch(inbound):
            environ[ENV_GLOBAL_REQUEST_ID] = inbound

        def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            names = {name.lower() for name, _ in headers}
            for header in self.headers:
                if header.lower() not in names:
                    headers.append((header, req_id))
            return start_response(status, headers, exc_info)

        return self.app(environ, _start)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], RequestId]:
    compat = tuple(h.strip() for h in str(local_conf.get("compat_headers", "")).split(",")
                   if h.strip())

    def _filter(app: Any) -> RequestId:
        return RequestId(app, compat)
    return _filter
