"""Server-side copy (Swift's ``copy`` filter): ``COPY`` with ``Destination`` and ``PUT``
with ``X-Copy-From``.

Both become a GET of the source followed by a PUT of the destination whose body streams
from the GET, each through the rest of the pipeline as the client (so the proxy checks
read access on the source and write access on the destination, and SLO/DLO/versioning
apply as for any GET and PUT). Unless ``X-Fresh-Metadata: true``, the source's metadata
is copied and the request's headers win; ``?multipart-manifest=get`` copies a large
object's manifest rather than its content. Copy does not register in ``/info`` (Swift
does not either).
"""
from __future__ import annotations

from typing import Any, Callable
from urllib.parse import quote, unquote

import webob

from objectstore.common.utils import normalize_etag
from objectstore.middleware import segments
from objectstore.middleware.segments import ObjectPath

SOURCE = "COPY"
TRUE_VALUES = ("true", "1", "yes", "on", "t", "y")
#: Source headers copied to the destination (with X-Object-Meta-* and sysmeta).
_COPIED = {"content-encoding", "content-disposition", "x-delete-at"}
#: Request headers that belong to the copy itself, not to the PUT of the destination.
_NOT_FORWARDED = {
    "host", "content-length", "transfer-encoding", "expect", "destination",
    "destination-account", "x-copy-from", "x-copy-from-account", "x-fresh-metadata",
    "range", "if-range", "if-match", "if-none-match", "if-modified-since",
    "if-unmodified-since"}


def _text(status: int, body: str) -> webob.Response:
    return webob.Response(status=status, body=body.encode("utf-8"), content_type="text/plain")


def parse_object_ref(value: str | None) -> tuple[str, str] | None:
    """``container/object`` (URL-encoded, leading slash allowed) -> (container, object)."""
    if not value:
        return None
    container, sep, obj = unquote(value).lstrip("/").partition("/")
    if not sep or not container or not obj:
        return None
    return container, obj


def _account(value: str | None, default: str) -> str | None:
    if value is None:
        return default
    account = unquote(value).strip()
    return account if account and "/" not in account else None


class ServerSideCopy:
    """The copy filter: ``app`` is the rest of the pipeline below it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = segments.object_path(environ)
        method = environ.get("REQUEST_METHOD")
        if path is None or method not in ("COPY", "PUT"):
            return self.app(environ, start_response)
        req = webob.Request(environ)
        if method == "COPY":
            resp = self.handle_copy(req, path)
        elif "X-Copy-From" in req.headers:
            resp = self.handle_put(req, path)
        else:
            return self.app(environ, start_response)
        return resp(environ, start_response)

    def handle_copy(self, req: webob.Request, path: ObjectPath) -> webob.Response:
        ref = parse_object_ref(req.headers.get("Destination"))
        if ref is None:
            return _text(412, "Destination header must be of the form "
                              "<container name>/<object name>")
        account = _account(req.headers.get("Destination-Account"), path.account)
        if account is None:
            return _text(412, "Destination-Account must be an account name")
        return self.copy(req, path, ObjectPath(path.version, account, *ref))

    def handle_put(self, req: webob.Request, path: ObjectPath) -> webob.Response:
        ref = parse_object_ref(req.headers.get("X-Copy-From"))
        if ref is None:
            return _text(412, "X-Copy-From header must be of the form "
                              "<container name>/<object name>")
        account = _account(req.headers.get("X-Copy-From-Account"), path.account)
        if account is None:
            return _text(412, "X-Copy-From-Account must be an account name")
        if req.content_length or "chunked" in req.headers.get("Transfer-Encoding", ""):
            return _text(400, "Copy requests require a zero byte body")
        return self.copy(req, ObjectPath(path.version, account, *ref), path)

    def copy(self, req: webob.Request, src: ObjectPath, dst: ObjectPath) -> webob.Response:
        """GET ``src``, PUT its body and metadata to ``dst``."""
        manifest = req.GET.get("multipart-manifest") == "get"
        source_req = segments.subrequest(
            req.environ, "GET", "/%s/%s/%s/%s" % src,
            "multipart-manifest=get&format=raw" if manifest else "", source=SOURCE)
        source = source_req.get_response(self.app)
        if not 200 <= source.status_int < 300:
            return source
        is_slo = _is_slo(source)
        sink_headers = self.sink_headers(req, source, manifest)
        sink = segments.subrequest(
            req.environ, "PUT", "/%s/%s/%s/%s" % dst,
            "multipart-manifest=put" if manifest and is_slo else "",
            headers=sink_headers, source=SOURCE)
        segments.set_body_stream(sink, source.app_iter, source.content_length)
        try:
            resp = sink.get_response(self.app)
        finally:
            segments.close_iter(source.app_iter)
        if 200 <= resp.status_int < 300:
            resp.headers["X-Copied-From"] = quote("%s/%s" % (src.container, src.obj))
            resp.headers["X-Copied-From-Account"] = quote(src.account)
            if "Last-Modified" in source.headers:
                resp.headers["X-Copied-From-Last-Modified"] = source.headers["Last-Modified"]
            # The answer names the copy's metadata, as Swift's does.
            for name, value in sink_headers.items():
                if name.lower().startswith("x-object-meta-"):
                    resp.headers[name] = value
        return resp

    @staticmethod
    def sink_headers(req: webob.Request, source: webob.Response, manifest: bool
                     ) -> dict[str, str]:
        """The headers of the destination's PUT: the source's metadata (sysmeta always,
        the rest unless ``X-Fresh-Metadata``), then the request's own headers."""
        fresh = req.headers.get("X-Fresh-Metadata", "").lower() in TRUE_VALUES
        is_dlo = "X-Object-Manifest" in source.headers
        headers: dict[str, str] = {}
        for name, value in source.headers.items():
            lname = name.lower()
            if lname.startswith("x-object-sysmeta-slo-"):
                continue  # SLO recomputes its own
            if lname.startswith("x-object-sysmeta-") \
                    or (not fresh and (lname.startswith("x-object-meta-") or lname in _COPIED)) \
                    or (lname == "x-object-manifest" and manifest):
                headers[name] = value
        headers["Content-Type"] = source.headers.get("Content-Type",
                                                     "application/octet-stream")
        if source.status_int == 200 and not _is_slo(source) and (manifest or not is_dlo):
            # the bytes are the object's own: let the destination verify them
            headers["ETag"] = normalize_etag(source.headers.get("ETag")) or ""
            if not headers["ETag"]:
                del headers["ETag"]
        for name, value in req.headers.items():
            if name.lower() not in _NOT_FORWARDED:
                headers[name] = value
        return headers


def _is_slo(resp: webob.Response) -> bool:
    return resp.headers.get("X-Static-Large-Object", "").lower() in TRUE_VALUES


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """Paste: no options."""
    return lambda app: ServerSideCopy(app)
