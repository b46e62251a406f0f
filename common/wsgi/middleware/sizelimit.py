"""Refuses request bodies larger than a limit, declared or streamed (413)."""
from __future__ import annotations

import re
from typing import Any, Callable

from common import exception

DEFAULT_LIMIT = 114688


class LimitingReader:
    """Wraps wsgi.input and raises once more than ``limit`` bytes were read."""

    def __init__(self, data: Any, limit: int) -> None:
        self.data = data
        self.limit = limit
        self.read_bytes = 0

    def _count(self, chunk: bytes) -> bytes:
        self.read_bytes += len(chunk)
        if self.read_bytes > self.limit:
            raise exception.RequestEntityTooLarge()
        return chunk

    def read(self, size: int = -1) -> bytes:
        return self._count(self.data.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._count(self.data.readline(size))

    def __iter__(self) -> Any:
        for chunk in self.data:
            yield self._count(chunk)


class SizeLimit:
    """``exempt`` is a regular expression of paths whose bodies the app limits
    itself (image uploads, object PUTs)."""

    def __init__(self, app: Any, limit: int, exempt: str | None = None) -> None:
        self.app = app
        self.limit = limit
        self.exempt = re.compile(exempt) if exempt else None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.exempt is not None and self.exempt.match(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        length = environ.get("CONTENT_LENGTH")
        if length:
            try:
                declared = int(length)
            except ValueError:
                raise exception.Invalid("Content-Length is not a number.")
            if declared > self.limit:
                raise exception.RequestEntityTooLarge()
        else:
            environ["wsgi.input"] = LimitingReader(environ["wsgi.input"], self.limit)
        return self.app(environ, start_response)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], SizeLimit]:
    limit = int(local_conf.get("max_request_body_size", DEFAULT_LIMIT))
    exempt = local_conf.get("exempt_path_pattern")
    return lambda app: SizeLimit(app, limit, exempt)
