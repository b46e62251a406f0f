"""GET and HEAD answers of the object server: headers, conditionals and ranges.

Conditionals follow RFC 7232 order: If-Match (else If-Unmodified-Since) -> 412;
If-None-Match (else If-Modified-Since) -> 304. ``X-Backend-Etag-Is-At`` (a comma list
of metadata names, e.g. ``X-Object-Sysmeta-Slo-Etag``) makes the first of them that
the object has the ETag the conditionals compare with, so middleware can match a
manifest's logical ETag. ``X-Backend-Ignore-Range-If-Metadata-Present`` (comma list)
serves the whole body when the object has any of those metadata (SLO manifests).
"""
from __future__ import annotations

import calendar
import email.utils
import math
from typing import Any, Iterator

import webob

from objectstore.common import ranges
from objectstore.common.utils import normalize_etag
from objectstore.obj.diskfile import DiskFile

#: Metadata shown as response headers besides X-Object-Meta-* and sysmeta.
_SHOWN = ("content-type", "content-disposition", "content-encoding", "x-delete-at",
          "x-object-manifest", "x-static-large-object", "cache-control", "content-language",
          "expires", "x-robots-tag", "etag")
_SHOWN_PREFIXES = ("x-object-meta-", "x-object-sysmeta-", "x-object-transient-sysmeta-")


def http_date(seconds: float) -> str:
    return email.utils.formatdate(seconds, usegmt=True)


def _parse_http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_tz(value)
    except (TypeError, ValueError):
        return None
    if parsed is None:
        return None
    return float(calendar.timegm(parsed[:9]) - (parsed[9] or 0))


def object_headers(df: DiskFile) -> list[tuple[str, str]]:
    """The headers describing an open object (without Content-Length)."""
    meta = df.metadata
    headers = [(key, value) for key, value in meta.items()
               if key.lower() in _SHOWN or key.lower().startswith(_SHOWN_PREFIXES)]
    if "Content-Type" not in meta:
        headers.append(("Content-Type", "application/octet-stream"))
    assert df.timestamp is not None and df.data_timestamp is not None
    stamp = meta.get("X-Timestamp", df.timestamp.internal)
    headers += [
        ("X-Timestamp", stamp),
        ("X-Backend-Timestamp", df.timestamp.internal),
        ("X-Backend-Data-Timestamp", df.data_timestamp.internal),
        ("Last-Modified", http_date(math.ceil(float(stamp.split("_")[0])))),
        ("Accept-Ranges", "bytes"),
    ]
    return headers


def _etag_for_match(df: DiskFile, req: webob.Request) -> str:
    for name in (req.headers.get("X-Backend-Etag-Is-At") or "").split(","):
        name = name.strip()
        for key, value in df.metadata.items():
            if name and key.lower() == name.lower():
                return normalize_etag(value) or ""
    return df.metadata.get("ETag", "")


def _etag_list(value: str) -> list[str]:
    return [normalize_etag(item) or "" for item in value.split(",") if item.strip()]


def check_conditions(df: DiskFile, req: webob.Request) -> int | None:
    """412 or 304 when a conditional header says so (GET/HEAD), else None."""
    etag = _etag_for_match(df, req)
    last_modified = math.ceil(float(df.metadata.get("X-Timestamp", "0").split("_")[0]))
    if_match = req.headers.get("If-Match")
    if if_match is not None:
        tags = _etag_list(if_match)
        if "*" not in tags and etag not in tags:
            return 412
    else:
        since = _parse_http_date(req.headers.get("If-Unmodified-Since"))
        if since is not None and last_modified > since:
            return 412
    if_none_match = req.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = _etag_list(if_none_match)
        if "*" in tags or etag in tags:
            return 304
    else:
        since = _parse_http_date(req.headers.get("If-Modified-Since"))
        if since is not None and last_modified <= since:
            return 304
    return None


class _Body:
    """A response body that closes the object when the server is done with it."""

    def __init__(self, df: DiskFile, chunks: Iterator[bytes]) -> None:
        self.df = df
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()
        self.df.close()


def _ignore_range(df: DiskFile, req: webob.Request) -> bool:
    names = req.headers.get("X-Backend-Ignore-Range-If-Metadata-Present") or ""
    wanted = {n.strip().lower() for n in names.split(",") if n.strip()}
    return any(key.lower() in wanted for key in df.metadata)


def respond(df: DiskFile, req: webob.Request) -> webob.Response:
    """The answer to a GET or HEAD of an open object (closes it unless a body streams)."""
    headers = object_headers(df)
    length = df.content_length
    status = check_conditions(df, req)
    if status is not None:
        df.close()
        if status == 304:
            return webob.Response(status=304, headerlist=[
                (k, v) for k, v in headers if k.lower() != "content-type"])
        return webob.Response(status=412, headerlist=[("Content-Type", "text/plain")],
                              body=b"Precondition Failed")
    byte_ranges = None if _ignore_range(df, req) else \
        ranges.parse_range(req.headers.get("Range"), length)
    if byte_ranges == []:
        df.close()
        return webob.Response(status=416, headerlist=[
            ("Content-Type", "text/plain"),
            ("Content-Range", ranges.unsatisfiable_content_range(length)),
            ("X-Backend-Timestamp", df.timestamp.internal if df.timestamp else "")],
            body=b"Requested Range Not Satisfiable")
    kwargs: dict[str, Any]
    if byte_ranges is None:
        kwargs = {"status": 200, "length": length, "chunks": df.iter_all()}
    elif len(byte_ranges) == 1:
        start, stop = byte_ranges[0]
        headers.append(("Content-Range", ranges.content_range(start, stop, length)))
        kwargs = {"status": 206, "length": stop - start, "chunks": df.iter_range(start, stop)}
    else:
        boundary = ranges.make_boundary()
        ctype = dict(headers).get("Content-Type", "application/octet-stream")
        headers = [(k, v) for k, v in headers if k != "Content-Type"]
        headers.append(("Content-Type", ranges.multipart_content_type(boundary)))
        kwargs = {"status": 206,
                  "length": ranges.multipart_length(byte_ranges, length, ctype, boundary),
                  "chunks": ranges.iter_multipart_byteranges(
                      byte_ranges, length, ctype, boundary, df.iter_range)}
    headers.append(("Content-Length", str(kwargs["length"])))
    if req.method == "HEAD":
        df.close()
        return webob.Response(status=kwargs["status"], headerlist=headers, app_iter=[])
    return webob.Response(status=kwargs["status"], headerlist=headers,
                          app_iter=_Body(df, kwargs["chunks"]))
