"""HTTP side of image data: /v2/images/{id}/file, /stage and /import."""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import webob

from common import exception as common_exc
from common.wsgi import request as wsgi_request

OCTET_STREAM = "application/octet-stream"
#: Bytes asked of wsgi.input per read: big reads keep Python's per-chunk work
#: (hashing calls, os.write, generator hops) negligible.
READ_SIZE = 4 * 1024 * 1024
#: cheroot's chunked-body reader copies its buffer on every read, so reads of
#: chunked bodies stay near the chunk sizes clients send.
CHUNKED_READ_SIZE = 1024 * 1024


class RequestBody:
    """The request body, read from ``wsgi.input`` in fixed-size chunks: exactly
    Content-Length bytes, or until the end of a chunked body. A short body ends
    the iteration early (the data service then refuses it as truncated)."""

    def __init__(self, req: wsgi_request.Request) -> None:
        self.remaining = req.content_length
        self._readable = self.remaining is not None or bool(req.is_body_readable)
        self._read = req.body_file_raw.read
        self._size = READ_SIZE if self.remaining is not None else CHUNKED_READ_SIZE

    def __iter__(self) -> Iterator[bytes]:
        """:raises: Invalid (400) when the body cannot be read (bad chunked
        coding, client timeout)."""
        if not self._readable:
            return
        try:
            while self.remaining is None or self.remaining > 0:
                size = self._size if self.remaining is None else min(self._size,
                                                                     self.remaining)
                chunk = self._read(size)
                if not chunk:
                    self._readable = False
                    return
                if self.remaining is not None:
                    self.remaining -= len(chunk)
                yield chunk
        except (OSError, ValueError) as err:
            self._readable = False
            raise common_exc.Invalid("Error reading the request body: %s" % err)

    def discard(self, limit: int) -> None:
        """Read and drop the rest of the body (at most ``limit`` bytes). After an
        early error cheroot would otherwise read the whole rest of a sized body
        into memory before answering. :raises: nothing."""
        try:
            for chunk in self:
                limit -= len(chunk)
                if limit <= 0:
                    return
        except common_exc.Invalid:
            pass

    @contextlib.contextmanager
    def discarded_on_error(self, limit: int) -> Iterator[None]:
        """Discard what is left of the body when the block fails, except on 413:
        cheroot closes the connection then."""
        try:
            yield
        except Exception as err:
            if getattr(err, "code", None) != 413:
                self.discard(limit)
            raise


def _require_octet_stream(req: wsgi_request.Request) -> None:
    ctype = (req.content_type or "").lower()
    if ctype != OCTET_STREAM:
        raise common_exc.UnsupportedMediaType(content_type=ctype or "(none)")


class ImageDataController:
    """Upload, download, stage and import of image data."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def routes(self) -> list[tuple[str, dict[str, Callable[..., webob.Response]]]]:
        return [
            ("/v2/images/{image_id}/file", {"PUT": self.upload, "GET": self.download}),
            ("/v2/images/{image_id}/stage", {"PUT": self.stage}),
            ("/v2/images/{image_id}/import", {"POST": self.import_}),
        ]

    def _receive(self, req: wsgi_request.Request, image_id: str,
                 action: Callable[..., Any]) -> webob.Response:
        body = RequestBody(req)
        with body.discarded_on_error(self.app.conf.image.image_size_cap):
            _require_octet_stream(req)
            action(req.context, image_id, body, req.content_length)
        return wsgi_request.empty_response(204)

    def upload(self, req: wsgi_request.Request, image_id: str) -> webob.Response:
        """PUT /v2/images/{image_id}/file -> 204."""
        return self._receive(req, image_id, self.app.data.upload)

    def stage(self, req: wsgi_request.Request, image_id: str) -> webob.Response:
        """PUT /v2/images/{image_id}/stage -> 204."""
        return self._receive(req, image_id, self.app.data.stage)

    def download(self, req: wsgi_request.Request, image_id: str) -> webob.Response:
        """GET /v2/images/{image_id}/file -> 200, 206 (Range) or 204 (no data)."""
        status, headers, body = self.app.data.download(req.context, image_id,
                                                       req.headers.get("Range"))
        if status == 204:
            return wsgi_request.empty_response(204)
        # A headerlist with Content-Length and an iterator: cheroot streams the
        # chunks as they come, without buffering or chunked encoding.
        return webob.Response(status=status, headerlist=list(headers.items()), app_iter=body)

    def import_(self, req: wsgi_request.Request, image_id: str) -> webob.Response:
        """POST /v2/images/{image_id}/import -> 202 (the import runs in the background)."""
        self.app.data.import_(req.context, image_id, req.parsed_json())
        return wsgi_request.empty_response(202)
