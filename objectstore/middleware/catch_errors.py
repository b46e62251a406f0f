"""The outermost filter of the proxy pipeline: an unexpected exception anywhere below
becomes one logged 500 (with the transaction id) instead of a traceback, and every
request gets its transaction id (``swift.trans_id``) before anything else runs, and
every answer carries it (``X-Trans-Id``, ``X-Openstack-Request-Id``)."""
from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Callable, Iterable, Iterator

LOG = logging.getLogger(__name__)

_BODY = (b"<html><h1>Internal Error</h1><p>The server has either erred or is incapable "
         b"of performing the requested operation.</p></html>")


def new_trans_id() -> str:
    """``tx<21 hex>-<10 hex of the time>``, as Swift's transaction ids look."""
    return "tx%s-%010x" % (uuid.uuid4().hex[:21], int(time.time()))


class CatchErrors:
    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        trans_id = environ.get("swift.trans_id") or new_trans_id()
        environ["swift.trans_id"] = trans_id
        state = {"started": False}

        def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            # Answers made above the proxy (bulk, tempurl, auth) carry the id too.
            state["started"] = True
            present = {name.lower() for name, _value in headers}
            headers = list(headers)
            for name in ("X-Trans-Id", "X-Openstack-Request-Id"):
                if name.lower() not in present:
                    headers.append((name, trans_id))
            return start_response(status, headers, exc_info)

        try:
            result = self.app(environ, _start)
        except Exception:  # noqa: BLE001 - the last line of defence
            LOG.exception("ERROR unhandled exception in %s %s (txn: %s)",
                          environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), trans_id)
            return self._error(environ, start_response, trans_id)
        return self._guard(result, environ, start_response, trans_id, state)

    @staticmethod
    def _error(environ: dict[str, Any], start_response: Any, trans_id: str) -> list[bytes]:
        headers = [("Content-Type", "text/html; charset=UTF-8"),
                   ("Content-Length", str(len(_BODY))), ("X-Trans-Id", trans_id),
                   ("X-Openstack-Request-Id", trans_id)]
        start_response("500 Internal Error", headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [_BODY]

    @classmethod
    def _guard(cls, result: Iterable[bytes], environ: dict[str, Any], start_response: Any,
               trans_id: str, state: dict[str, bool]) -> Iterator[bytes]:
        """Stream the body. An error before the answer started still becomes a 500;
        later it can only be logged, and re-raised so the server cuts the connection."""
        try:
            yield from result
        except Exception:
            LOG.exception("ERROR while sending the body of %s %s (txn: %s)",
                          environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), trans_id)
            if state["started"]:
                raise
            yield from cls._error(environ, start_response, trans_id)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


def filter_factory(global_conf: dict[str, Any], **local_conf: Any
                   ) -> Callable[[Any], CatchErrors]:
    return CatchErrors
