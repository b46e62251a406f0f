"""The one threaded WSGI server every API daemon uses (cheroot, no eventlet)."""
from __future__ import annotations

import logging
import threading
from typing import Any

from cheroot import wsgi as cheroot_wsgi

LOG = logging.getLogger(__name__)


_DRAIN_CHUNK = 1024 * 1024


class DrainInput:
    """Reads away request bodies the app did not read (it failed early, e.g. a
    401 on an upload) in bounded chunks. cheroot would otherwise read the whole
    rest in one call, into memory, to keep the connection alive."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        rfile = environ.get("wsgi.input")
        result = self.app(environ, start_response)
        if rfile is not None and (getattr(rfile, "remaining", 0) or 0) > 0:
            while rfile.read(_DRAIN_CHUNK):
                pass
        return result


class Server:
    """A threaded HTTP server hosting one WSGI app."""

    def __init__(self, app: Any, host: str, port: int, threads: int = 16,
                 name: str = "stratus") -> None:
        self._server = cheroot_wsgi.Server((host, port), DrainInput(app), numthreads=threads,
                                           server_name=name, request_queue_size=128,
                                           timeout=60, shutdown_timeout=5)
        self._thread: threading.Thread | None = None
        self.host = host

    @property
    def port(self) -> int:
        addr = self._server.bind_addr
        return int(addr[1]) if isinstance(addr, tuple) else 0

    def start(self) -> None:
        """Bind and serve in a background thread; returns once listening."""
        self._server.prepare()
        self._thread = threading.Thread(target=self._server.serve, name="wsgi", daemon=True)
        self._thread.start()
        LOG.info("Listening on %(host)s:%(port)s", {"host": self.host, "port": self.port})

    def stop(self) -> None:
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
