"""Gives every request an id, echoed as X-OpenStack-Request-ID.

An inbound ``X-OpenStack-Request-ID`` of the form ``req-<uuid>`` is kept as the
global request id, so one id can be followed across services.
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
    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req_id = new_request_id()
        environ[ENV_REQUEST_ID] = req_id
        inbound = environ.get("HTTP_X_OPENSTACK_REQUEST_ID", "")
        if _VALID.fullmatch(inbound):
            environ[ENV_GLOBAL_REQUEST_ID] = inbound

        def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            names = {name.lower() for name, _ in headers}
            if HEADER.lower() not in names:
                headers.append((HEADER, req_id))
            return start_response(status, headers, exc_info)

        return self.app(environ, _start)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], RequestId]:
    return RequestId
