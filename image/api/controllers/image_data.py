"""HTTP side of image data: /v2/images/{id}/file, /stage and /import."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import webob

from common import exception as common_exc
from common.wsgi import request as wsgi_request

OCTET_STREAM = "application/octet-stream"
#: Bytes asked of wsgi.input per read: big reads keep Python's per-chunk work
#: (hashing calls, os.write, generator hops) negligible.
READ_SIZE = 4 * 1024 * 1024
#: cheroot's chunked-body reader copies its buffer on every read, so reads of
#: chunked bodies stay near the chunk sizes clients send (64 KiB to 1 MiB).
CHUNKED_READ_SIZE = 1024 * 1024


def body_chunks(req: wsgi_request.Request) -> Iterator[bytes]:
    """The request body, read from ``wsgi.input`` in fixed-size chunks: exactly
    Content-Length bytes, or until the end of a chunked body.

    A short body ends the iteration early (the data service then refuses it as
    truncated).

    :raises: Invalid (400) when the body cannot be read (bad chunked coding,
        client timeout).
    """
    remaining = req.content_length
    if remaining is None and not req.is_body_readable:
        return
    stream = req.body_file_raw
    read = stream.read
    size = READ_SIZE if remaining is not None else CHUNKED_READ_SIZE
    try:
        while remaining is None or remaining > 0:
            chunk = read(size if remaining is None else min(size, remaining))
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk
    except (OSError, ValueError) as err:
        raise common_exc.Invalid("Error reading the request body: %s" % err)


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

    def upload(self, req: wsgi_request.Request, image_id: str) -> webob.Response:
        """PUT /v2/images/{image_id}/file -> 204."""
        _require_octet_stream(req)
        self.app.data.upload(req.context, image_id, body_chunks(req), req.content_length)
        return wsgi_request.empty_response(204)

    def download(self, req: wsgi_request.Request, image_id: str) -> webob.Response:
        """GET /v2/images/{image_id}/file -> 200, 206 (Range) or 204 (no data)."""
        status, headers, body = self.app.data.download(req.context, image_id,
                                                       req.headers.get("Range"))
        if status == 204:
            return wsgi_request.empty_response(204)
        # A headerlist with Content-Length and an iterator: cheroot streams the
        # chunks as they come, without buffering or chunked encoding.
        return webob.Response(status=status, headerlist=list(headers.items()), app_iter=body)

    def stage(self, req: wsgi_request.Request, image_id: str) -> webob.Response:
        """PUT /v2/images/{image_id}/stage -> 204."""
        _require_octet_stream(req)
        self.app.data.stage(req.context, image_id, body_chunks(req), req.content_length)
        return wsgi_request.empty_response(204)

    def import_(self, req: wsgi_request.Request, image_id: str) -> webob.Response:
        """POST /v2/images/{image_id}/import -> 202 (the import runs in the background)."""
        self.app.data.import_(req.context, image_id, req.parsed_json())
        return wsgi_request.empty_response(202)
