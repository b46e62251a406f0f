"""Dynamic large objects (Swift's DLO), a filter of the proxy pipeline.

An object with ``X-Object-Manifest: <container>/<prefix>`` (URL-encoded) stands for the
objects of ``<container>`` whose names start with ``<prefix>``, in name order. A GET or
HEAD of it lists them (as the client, page after page) and answers their concatenation:
Content-Length the sum, ETag ``"<md5 of the segment ETags>"``, ranges served from the
segments. ``?multipart-manifest=get`` answers the manifest object itself. A PUT with a
malformed ``X-Object-Manifest`` is refused (400).
"""
from __future__ import annotations

import json
from typing import Any, Callable
from urllib.parse import quote, unquote

import webob

from objectstore.common.registry import register_swift_info
from objectstore.middleware import segments
from objectstore.middleware.segments import ObjectPath, Segment

SOURCE = "DLO"
MANIFEST_HEADER = "X-Object-Manifest"


def parse_manifest(value: str) -> tuple[str, str] | None:
    """``container/prefix`` (URL-encoded) -> (container, prefix), or None when bad."""
    text = unquote(value.strip())
    container, sep, prefix = text.lstrip("/").partition("/")
    if not sep or not container or "?" in value or "&" in value:
        return None
    return container, prefix


class DynamicLargeObject:
    """The DLO filter: ``app`` is the rest of the pipeline below it."""

    def __init__(self, app: Any, max_segments: int = 10000) -> None:
        self.app = app
        self.max_segments = max_segments

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = segments.object_path(environ)
        if path is None:
            return self.app(environ, start_response)
        req = webob.Request(environ)
        if req.method == "PUT" and MANIFEST_HEADER in req.headers:
            if parse_manifest(req.headers[MANIFEST_HEADER]) is None:
                return webob.Response(
                    status=400, content_type="text/plain",
                    body=b"X-Object-Manifest must be in the format container/prefix"
                )(environ, start_response)
        elif req.method in ("GET", "HEAD") \
                and req.GET.get("multipart-manifest") != "get":
            return self.get(req, path)(environ, start_response)
        return self.app(environ, start_response)

    def get(self, req: webob.Request, path: ObjectPath) -> webob.Response:
        resp = req.get_response(self.app)
        meta = resp
        if MANIFEST_HEADER not in resp.headers:
            if not segments.maybe_hidden_manifest(req, resp):
                return resp
            meta = segments.subrequest(
                req.environ, "HEAD", "/%s/%s/%s/%s" % path, "multipart-manifest=get",
                source=SOURCE).get_response(self.app)
            if MANIFEST_HEADER not in meta.headers or meta.status_int != 200:
                return resp
        segments.close_iter(resp.app_iter)
        target = parse_manifest(meta.headers[MANIFEST_HEADER])
        if target is None:
            return meta
        listed = self._list_segments(req, path, *target)
        if isinstance(listed, webob.Response):
            return listed
        total = sum(seg.length for seg in listed)
        etag = segments.etag_of_etags(seg.etag or "" for seg in listed)
        reader = segments.SegmentReader(req.environ, self.app, SOURCE, check_etags=False)
        return segments.large_object_response(
            req, segments.manifest_headers(meta), total, etag,
            lambda start, stop: reader.read(listed, start, stop))

    def _list_segments(self, req: webob.Request, path: ObjectPath, container: str,
                       prefix: str) -> list[Segment] | webob.Response:
        """The segments under ``container/prefix`` in name order (all pages, listed as
        the client), or the listing's error answer."""
        found: list[Segment] = []
        marker = ""
        base = "/%s/%s/%s" % (path.version, path.account, container)
        while True:
            query = "format=json&prefix=%s&marker=%s" % (quote(prefix), quote(marker))
            resp = segments.subrequest(req.environ, "GET", base, query,
                                       source=SOURCE).get_response(self.app)
            if resp.status_int == 404:
                return found
            if resp.status_int not in (200, 204):
                return resp
            page = json.loads(resp.body) if resp.status_int == 200 and resp.body else []
            if not page:
                return found
            for entry in page:
                found.append(Segment("%s/%s" % (base, entry["name"]), entry.get("hash"),
                                     0, int(entry["bytes"])))
            if len(found) > self.max_segments:
                return webob.Response(
                    status=409, content_type="text/plain",
                    body=b"Too many segments (more than %d)" % self.max_segments)
            marker = page[-1]["name"]


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """Paste: option ``max_segments`` (10000), the most segments one DLO may have."""
    max_segments = int(local_conf.get("max_segments", 10000))
    register_swift_info("dlo", max_segments=max_segments)
    return lambda app: DynamicLargeObject(app, max_segments)
