"""What SLO and DLO share: reading a large object's bytes from its segments.

A large object is an ordered list of :class:`Segment` (an object, or a byte range of
one). :class:`SegmentReader` yields the bytes of any range of the whole by GETting only
the segments that overlap it, each with a ``Range`` header, through the pipeline below
the caller (so authorization applies to every segment). A segment whose ETag is not
the expected one, that answers an error or comes back short ends the body early: the
client sees fewer bytes than ``Content-Length`` promised, as with Swift.

:func:`large_object_response` turns a segment list into the client's answer:
conditional headers against the large object's ETag and Last-Modified, a single range
(206), several (``multipart/byteranges``) or none; the first segment is fetched before
the status line is sent so that a broken manifest gets ``409 Conflict``.
"""
from __future__ import annotations

import dataclasses
import email.utils
import hashlib
import logging
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, NamedTuple

import webob

from objectstore.common import ranges
from objectstore.common.utils import normalize_etag, split_path
from objectstore.proxy import info

LOG = logging.getLogger(__name__)

#: Nested manifests (an SLO segment that is itself an SLO) deeper than this are refused.
MAX_NESTING_DEPTH = 10


class SegmentError(Exception):
    """A segment could not be read as the manifest describes it."""


@dataclasses.dataclass
class Segment:
    """``length`` bytes starting at ``offset`` of the object at ``path`` (``/v1/a/c/o``,
    unquoted). ``etag`` is the ETag the object must still have (None: not checked);
    ``nested`` marks a segment that is itself a manifest (expanded when read)."""

    path: str
    etag: str | None
    offset: int
    length: int
    nested: bool = False


class ObjectPath(NamedTuple):
    version: str
    account: str
    container: str
    obj: str


def object_path(environ: dict[str, Any]) -> ObjectPath | None:
    """The parts of an object request's path, or None for any other path."""
    try:
        path = info.from_wsgi_str(environ.get("PATH_INFO", "/"))
        version, account, container, obj = split_path(path, 1, 4, rest_with_last=True)
    except ValueError:
        return None
    if not (version and account and container and obj):
        return None
    return ObjectPath(version, account, container, obj)


def subrequest(environ: dict[str, Any], method: str, path: str, query: str = "",
               headers: dict[str, str] | None = None, source: str | None = None,
               pre_authed: bool = False, body: bytes | None = None) -> webob.Request:
    """:func:`info.make_subrequest` with the query string kept apart from the path (an
    object name may contain ``?``)."""
    req = info.make_subrequest(environ, method, None, headers, body, source, pre_authed)
    req.environ["PATH_INFO"] = info.to_wsgi_str(path)
    req.environ["QUERY_STRING"] = query
    return req


def etag_of_etags(etags: Iterable[str]) -> str:
    """The ETag of a large object: the md5 of its segments' ETags put together."""
    digest = hashlib.md5(usedforsecurity=False)
    for etag in etags:
        digest.update(etag.encode("ascii", "replace"))
    return digest.hexdigest()


def close_iter(app_iter: Any) -> None:
    """Close a WSGI body iterator (releasing its connection) if it can be closed."""
    close = getattr(app_iter, "close", None)
    if close is not None:
        close()


class IterReader:
    """A file-like ``read()`` over an iterator of bytes: streams a GET's body into a
    PUT subrequest's ``wsgi.input`` (copy, versioned writes)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._source = chunks
        self._iter = iter(chunks)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._iter, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)

    def close(self) -> None:
        close_iter(self._source)


def set_body_stream(req: webob.Request, chunks: Iterable[bytes], length: int | None) -> None:
    """Make ``chunks`` the body of the subrequest ``req`` (chunked when ``length`` is
    unknown)."""
    req.environ["wsgi.input"] = IterReader(chunks)
    req.environ.pop("HTTP_TRANSFER_ENCODING", None)
    if length is None:
        req.environ.pop("CONTENT_LENGTH", None)
        req.environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    else:
        req.environ["CONTENT_LENGTH"] = str(length)


class SegmentReader:
    """Reads byte ranges of a large object from its segments.

    ``expand(segment, depth)`` lists the segments of a nested manifest (SLO only);
    ``check_etags`` is False for DLO, whose listing may lag behind the objects.
    """

    def __init__(self, environ: dict[str, Any], app: Any, source: str,
                 expand: Callable[[Segment, int], list[Segment]] | None = None,
                 check_etags: bool = True) -> None:
        self.environ = environ
        self.app = app
        self.source = source
        self.expand = expand
        self.check_etags = check_etags

    def read(self, segments: list[Segment], start: int, stop: int,
             depth: int = 0) -> Iterator[bytes]:
        """The bytes ``[start, stop)`` of the concatenation of ``segments``."""
        position = 0
        for seg in segments:
            seg_start, seg_stop = position, position + seg.length
            position = seg_stop
            if seg_stop <= start or seg.length == 0:
                continue
            if seg_start >= stop:
                break
            first = max(start, seg_start) - seg_start
            last = min(stop, seg_stop) - seg_start
            if seg.nested:
                if self.expand is None or depth >= MAX_NESTING_DEPTH:
                    raise SegmentError("%s: manifests nested too deep" % seg.path)
                inner = self.expand(seg, depth + 1)
                yield from self.read(inner, seg.offset + first, seg.offset + last, depth + 1)
            else:
                yield from self._read_object(seg, seg.offset + first, seg.offset + last)

    def _read_object(self, seg: Segment, start: int, stop: int) -> Iterator[bytes]:
        """Bytes ``[start, stop)`` of one segment object, checked."""
        req = subrequest(self.environ, "GET", seg.path, "",
                         {"Range": "bytes=%d-%d" % (start, stop - 1)}, self.source)
        resp = req.get_response(self.app)
        try:
            skip = self._check_response(seg, resp, start)
            wanted = stop - start
            for chunk in resp.app_iter:
                if skip:
                    dropped = min(skip, len(chunk))
                    chunk, skip = chunk[dropped:], skip - dropped
                chunk = chunk[:wanted]
                if chunk:
                    wanted -= len(chunk)
                    yield chunk
                if not wanted:
                    break
            if wanted:
                raise SegmentError("%s: %d bytes short" % (seg.path, wanted))
        finally:
            close_iter(resp.app_iter)

    def _check_response(self, seg: Segment, resp: webob.Response, start: int) -> int:
        """How many leading bytes of ``resp`` to drop; raises when it is not usable."""
        if resp.status_int not in (200, 206):
            raise SegmentError("%s: %s" % (seg.path, resp.status))
        if self.check_etags and seg.etag \
                and normalize_etag(resp.headers.get("ETag")) != normalize_etag(seg.etag):
            raise SegmentError("%s: ETag changed" % seg.path)
        if resp.status_int == 200:
            return start
        try:
            got_start, _stop, _length = ranges.parse_content_range(
                resp.headers.get("Content-Range", ""))
        except ValueError:
            raise SegmentError("%s: bad Content-Range" % seg.path)
        if got_start != start:
            raise SegmentError("%s: wrong range" % seg.path)
        return 0


def _etag_list_matches(value: str, etag: str) -> bool:
    """True when an If-Match/If-None-Match value names ``etag`` (or is ``*``)."""
    for item in value.split(","):
        item = item.strip()
        if item == "*" or normalize_etag(item) == etag:
            return True
    return False


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def check_conditions(req: webob.Request, etag: str, last_modified: str | None) -> int | None:
    """304 or 412 when the request's conditional headers say so, else None."""
    modified = _http_date(last_modified)
    if_match = req.headers.get("If-Match")
    if if_match is not None and not _etag_list_matches(if_match, etag):
        return 412
    since = _http_date(req.headers.get("If-Unmodified-Since"))
    if if_match is None and since and modified and modified > since:
        return 412
    if_none = req.headers.get("If-None-Match")
    if if_none is not None:
        return 304 if _etag_list_matches(if_none, etag) else None
    since = _http_date(req.headers.get("If-Modified-Since"))
    if since and modified and modified <= since:
        return 304
    return None


#: Headers of the request that make a manifest's own answer useless (the object server
#: applies them to the manifest, not to the large object).
CONDITIONAL_HEADERS = ("Range", "If-Match", "If-None-Match", "If-Modified-Since",
                       "If-Unmodified-Since", "If-Range")


def maybe_hidden_manifest(req: webob.Request, resp: webob.Response) -> bool:
    """True when ``resp`` may be the manifest's answer to conditions meant for the large
    object (a 304/412/416 that does not say what the object is): worth a plain HEAD."""
    return resp.status_int in (304, 412, 416) and any(
        name in req.headers for name in CONDITIONAL_HEADERS)


def _status_response(status: int, headers: dict[str, str]) -> webob.Response:
    resp = webob.Response(status=status)
    for name, value in headers.items():
        resp.headers[name] = value
    resp.content_length = 0
    return resp


class _PrimedBody:
    """The body of a large object after its first chunk was read; later failures only
    end the body (the status line is sent already)."""

    def __init__(self, first: bytes | None, rest: Iterator[bytes]) -> None:
        self.first = first
        self.rest = rest

    def __iter__(self) -> Iterator[bytes]:
        if self.first:
            yield self.first
        try:
            yield from self.rest
        except SegmentError as exc:
            LOG.error("large object body cut short: %s", exc)

    def close(self) -> None:
        close_iter(self.rest)


def _prime(body: Iterator[bytes]) -> _PrimedBody | None:
    """Read the first chunk; None when the first segment is already broken."""
    try:
        first = next(body, None)
    except SegmentError as exc:
        LOG.error("large object not readable: %s", exc)
        return None
    return _PrimedBody(first, body)


def large_object_response(req: webob.Request, headers: dict[str, str], total: int,
                          etag: str, read: Callable[[int, int], Iterator[bytes]]
                          ) -> webob.Response:
    """The answer to a GET/HEAD of a large object of ``total`` bytes.

    ``headers`` are the manifest's headers to pass on (Content-Type among them);
    ``read(start, stop)`` yields bytes of the object.
    """
    headers = dict(headers)
    headers["ETag"] = '"%s"' % etag
    headers["Accept-Ranges"] = "bytes"
    status = check_conditions(req, etag, headers.get("Last-Modified"))
    if status:
        return _status_response(status, headers)
    wanted = ranges.parse_range(req.headers.get("Range"), total)
    if wanted == []:
        headers["Content-Range"] = ranges.unsatisfiable_content_range(total)
        return _status_response(416, headers)
    resp = webob.Response(status=200 if wanted is None else 206)
    if wanted is None:
        wanted = [(0, total)]
        length = total
        body_iter: Iterator[bytes] = read(0, total)
    elif len(wanted) == 1:
        start, stop = wanted[0]
        headers["Content-Range"] = ranges.content_range(start, stop, total)
        length = stop - start
        body_iter = read(start, stop)
    else:
        ctype = headers.get("Content-Type", "application/octet-stream")
        boundary = ranges.make_boundary()
        headers["Content-Type"] = ranges.multipart_content_type(boundary)
        length = ranges.multipart_length(wanted, total, ctype, boundary)
        body_iter = ranges.iter_multipart_byteranges(wanted, total, ctype, boundary, read)
    for name, value in headers.items():
        resp.headers[name] = value
    if req.method == "HEAD":
        close_iter(body_iter)
        resp.app_iter = []
    else:
        primed = _prime(body_iter)
        if primed is None:
            return webob.Response(status=409, body=b"Object segments are not valid.\n",
                                  content_type="text/plain")
        resp.app_iter = primed
    resp.content_length = length
    return resp


#: Response headers not passed from a manifest's answer to the large object's.
DROPPED_HEADERS = {"content-length", "etag", "content-range", "accept-ranges",
                   "transfer-encoding", "connection"}


def manifest_headers(resp: webob.Response, drop_prefixes: tuple[str, ...] = ()) -> dict[str, str]:
    """The headers of a manifest's answer worth keeping in the large object's."""
    return {name: value for name, value in resp.headers.items()
            if name.lower() not in DROPPED_HEADERS
            and not name.lower().startswith(drop_prefixes)}
