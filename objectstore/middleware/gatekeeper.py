"""Keeps clients out of the proxy's internal headers: strips ``X-Backend-*`` and the
system metadata (``X-{Account,Container,Object}-Sysmeta-*``,
``X-Object-Transient-Sysmeta-*``) from client requests, and the same from the
answers, so only middleware below this filter sets and reads them."""
from __future__ import annotations

import re
from typing import Any, Callable

_INTERNAL = re.compile(r"^(x-backend-|x-(account|container|object)-sysmeta-|"
                       r"x-object-transient-sysmeta-)", re.IGNORECASE)
_INTERNAL_ENV = re.compile(r"^HTTP_X_(BACKEND_|(ACCOUNT|CONTAINER|OBJECT)_SYSMETA_|"
                           r"OBJECT_TRANSIENT_SYSMETA_)")


class Gatekeeper:
    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        for key in [k for k in environ if _INTERNAL_ENV.match(k)]:
            del environ[key]

        def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(name, value) for name, value in headers if not _INTERNAL.match(name)]
            return start_response(status, kept, exc_info)

        return self.app(environ, _start)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any
                   ) -> Callable[[Any], Gatekeeper]:
    return Gatekeeper
