"""An in-memory stand-in for the object store proxy (the app below SLO/DLO/copy/VW).

It answers ``/v1/<account>[/<container>[/<object>]]`` as the real proxy does on the
wire, closely enough for middleware unit tests: containers with metadata and JSON or
plain listings (prefix, marker, end_marker, limit, reverse), objects with metadata,
Range (single and multiple), If-Match/If-None-Match, ETag checks on PUT, and the
``swift.authorize`` callback with ``req.acl`` set from the container's ACLs.
Every request is recorded in :attr:`FakeSwift.calls`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from typing import Any

import webob
import webob.exc

from objectstore.common import ranges
from objectstore.common.utils import Timestamp, normalize_etag, split_path
from objectstore.proxy import info

#: Object headers the fake stores with an object (besides X-Object-Meta-*/Sysmeta-*).
_OBJECT_HEADERS = ("content-type", "content-encoding", "content-disposition", "x-delete-at",
                   "x-static-large-object", "x-object-manifest")
_CONTAINER_HEADERS = ("x-container-read", "x-container-write", "x-versions-location",
                      "x-history-location")


@dataclasses.dataclass
class FakeObject:
    body: bytes
    headers: dict[str, str]
    timestamp: Timestamp

    @property
    def etag(self) -> str:
        return hashlib.md5(self.body, usedforsecurity=False).hexdigest()


@dataclasses.dataclass
class Call:
    method: str
    path: str
    query: str
    source: str | None
    headers: dict[str, str]


def acl_authorize(req: webob.Request) -> Any:
    """A ``swift.authorize`` for tests: ``REMOTE_USER`` ``owner`` may do anything, other
    users what the container ACL (a comma-separated list of user names) lets them."""
    user = req.environ.get("REMOTE_USER")
    if user == "owner":
        return None
    if req.acl and user in [item.strip() for item in req.acl.split(",")]:
        return None
    return webob.exc.HTTPForbidden()


class FakeSwift:
    def __init__(self, listing_limit: int = 10000) -> None:
        self.containers: dict[tuple[str, str], dict[str, str]] = {}
        self.objects: dict[tuple[str, str, str], FakeObject] = {}
        self.calls: list[Call] = []
        self.listing_limit = listing_limit
        self._last = 0.0

    # -- helpers for tests ----------------------------------------------------------

    def add_container(self, account: str, container: str, **headers: str) -> None:
        self.containers[(account, container)] = {
            k.replace("_", "-").lower(): v for k, v in headers.items()}

    def add_object(self, account: str, container: str, obj: str, body: bytes,
                   headers: dict[str, str] | None = None) -> FakeObject:
        self.containers.setdefault((account, container), {})
        stored = {"content-type": "application/octet-stream"}
        stored.update({k.lower(): v for k, v in (headers or {}).items()})
        item = FakeObject(body, stored, self._now())
        self.objects[(account, container, obj)] = item
        return item

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def _now(self) -> Timestamp:
        now = max(time.time(), self._last + 0.00001)
        self._last = now
        return Timestamp(now)

    # -- WSGI -----------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = webob.Request(environ)
        path = info.from_wsgi_str(environ["PATH_INFO"])
        self.calls.append(Call(req.method, path, environ.get("QUERY_STRING", ""),
                               environ.get("swift.source"), dict(req.headers)))
        try:
            _v, account, container, obj = split_path(path, 2, 4, rest_with_last=True)
        except ValueError:
            return webob.exc.HTTPNotFound()(environ, start_response)
        assert account is not None
        denied = self._authorize(req, account, container, obj)
        if denied is not None:
            return denied(environ, start_response)
        if obj:
            assert container is not None
            resp = self._object(req, account, container, obj)
        elif container:
            resp = self._container(req, account, container)
        else:
            resp = webob.Response(status=204)
        return resp(environ, start_response)

    def _authorize(self, req: webob.Request, account: str, container: str | None,
                   obj: str | None) -> Any:
        authorize = req.environ.get("swift.authorize")
        if authorize is None:
            return None
        meta = self.containers.get((account, container or ""), {})
        if container and req.method in ("GET", "HEAD"):
            req.acl = meta.get("x-container-read")
        elif obj:
            req.acl = meta.get("x-container-write")
        else:
            req.acl = None
        return authorize(req)

    # -- containers -----------------------------------------------------------------

    def _container(self, req: webob.Request, account: str, container: str) -> webob.Response:
        key = (account, container)
        if req.method in ("PUT", "POST"):
            if req.method == "POST" and key not in self.containers:
                return webob.Response(status=404)
            status = 202 if key in self.containers else 201
            meta = self.containers.setdefault(key, {})
            for name, value in req.headers.items():
                lname = name.lower()
                if lname.startswith(("x-container-meta-", "x-container-sysmeta-")) \
                        or lname in _CONTAINER_HEADERS:
                    if value:
                        meta[lname] = value
                    else:
                        meta.pop(lname, None)
            return webob.Response(status=204 if req.method == "POST" else status)
        if key not in self.containers:
            return webob.Response(status=404)
        if req.method == "DELETE":
            if any(k[:2] == key for k in self.objects):
                return webob.Response(status=409)
            del self.containers[key]
            return webob.Response(status=204)
        return self._listing(req, account, container)

    def _listing(self, req: webob.Request, account: str, container: str) -> webob.Response:
        names = sorted(o for (a, c, o) in self.objects if (a, c) == (account, container))
        params = req.GET
        prefix, marker = params.get("prefix", ""), params.get("marker", "")
        end_marker = params.get("end_marker")
        names = [n for n in names if n.startswith(prefix) and n > marker
                 and (not end_marker or n < end_marker)]
        if params.get("reverse") in ("1", "true", "on"):
            names.reverse()
        limit = min(int(params.get("limit", self.listing_limit)), self.listing_limit)
        names = names[:limit]
        headers = {"X-Container-Object-Count": str(sum(
            1 for k in self.objects if k[:2] == (account, container)))}
        for name, value in self.containers[(account, container)].items():
            headers[name.title()] = value
        resp = webob.Response(status=204 if req.method == "HEAD" else 200)
        resp.headers.update(headers)
        if req.method == "HEAD":
            return resp
        if params.get("format") == "json":
            entries = []
            for name in names:
                item = self.objects[(account, container, name)]
                entries.append({"name": name, "hash": item.etag, "bytes": len(item.body),
                                "content_type": item.headers["content-type"],
                                "last_modified": item.timestamp.isoformat})
            resp.content_type = "application/json"
            resp.body = json.dumps(entries).encode("utf-8")
        elif names:
            resp.content_type = "text/plain"
            resp.body = "".join(n + "\n" for n in names).encode("utf-8")
        else:
            resp.status = 204
        return resp

    # -- objects --------------------------------------------------------------------

    def _object(self, req: webob.Request, account: str, container: str, obj: str
                ) -> webob.Response:
        key = (account, container, obj)
        if (account, container) not in self.containers:
            return webob.Response(status=404)
        if req.method == "PUT":
            return self._put(req, key)
        item = self.objects.get(key)
        if item is None:
            return webob.Response(status=404)
        if req.method == "DELETE":
            del self.objects[key]
            return webob.Response(status=204)
        if req.method == "POST":
            kept = {k: v for k, v in item.headers.items() if not k.startswith("x-object-meta-")}
            for name, value in req.headers.items():
                if name.lower().startswith("x-object-meta-") or name.lower() == "content-type":
                    kept[name.lower()] = value
            item.headers = kept
            return webob.Response(status=202)
        if req.method in ("GET", "HEAD"):
            return self._get(req, item)
        return webob.Response(status=405)

    def _put(self, req: webob.Request, key: tuple[str, str, str]) -> webob.Response:
        stream = req.environ["wsgi.input"]
        length = req.content_length
        body = stream.read(length) if length is not None else stream.read()
        if req.headers.get("If-None-Match") == "*" and key in self.objects:
            return webob.Response(status=412)
        etag = hashlib.md5(body, usedforsecurity=False).hexdigest()
        wanted = normalize_etag(req.headers.get("ETag"))
        if wanted and wanted != etag:
            return webob.Response(status=422)
        headers = {"content-type": "application/octet-stream"}
        for name, value in req.headers.items():
            lname = name.lower()
            if lname in _OBJECT_HEADERS or lname.startswith(("x-object-meta-",
                                                             "x-object-sysmeta-")):
                headers[lname] = value
        item = FakeObject(body, headers, self._now())
        self.objects[key] = item
        resp = webob.Response(status=201)
        resp.headers["ETag"] = etag
        resp.headers["Last-Modified"] = _http_date(item.timestamp)
        return resp

    def _get(self, req: webob.Request, item: FakeObject) -> webob.Response:
        resp = webob.Response()
        resp.headers["ETag"] = item.etag
        resp.headers["Last-Modified"] = _http_date(item.timestamp)
        if_match = req.headers.get("If-Match")
        if if_match and not _names(if_match, item.etag):
            resp.status = 412
            return resp
        if_none = req.headers.get("If-None-Match")
        if if_none and _names(if_none, item.etag):
            resp.status = 304
            return resp
        for name, value in item.headers.items():
            resp.headers[name.title()] = value
        resp.headers["X-Timestamp"] = item.timestamp.normal
        resp.headers["Accept-Ranges"] = "bytes"
        length = len(item.body)
        wanted = ranges.parse_range(req.headers.get("Range"), length)
        if wanted == []:
            resp.status = 416
            resp.headers["Content-Range"] = ranges.unsatisfiable_content_range(length)
            resp.content_length = 0
            return resp
        if wanted is None:
            body = item.body
        elif len(wanted) == 1:
            start, stop = wanted[0]
            resp.status = 206
            resp.headers["Content-Range"] = ranges.content_range(start, stop, length)
            body = item.body[start:stop]
        else:
            resp.status = 206
            boundary = ranges.make_boundary()
            body = b"".join(ranges.iter_multipart_byteranges(
                wanted, length, item.headers["content-type"], boundary,
                lambda a, b: iter([item.body[a:b]])))
            resp.headers["Content-Type"] = ranges.multipart_content_type(boundary)
        resp.app_iter = [] if req.method == "HEAD" else [body]
        resp.content_length = len(body)
        return resp


def _names(value: str, etag: str) -> bool:
    return any(item.strip() == "*" or normalize_etag(item) == etag
               for item in value.split(","))


def _http_date(ts: Timestamp) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(int(ts)))
