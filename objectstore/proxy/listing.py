"""Account and container listings as clients ask for them: plain text (one name a line),
JSON or XML, chosen by the ``format`` query parameter or the Accept header (as Swift).

The storage servers always answer with JSON entries; the proxy renders them.
"""
from __future__ import annotations

import json
from typing import Any, Mapping
from xml.sax.saxutils import escape, quoteattr

import webob

PLAIN = "text/plain"
JSON = "application/json"
XML = "application/xml"
_FORMATS = {"json": JSON, "xml": XML, "plain": PLAIN, "text": PLAIN}
_OFFERS = [PLAIN, JSON, XML, "text/xml"]

#: The query parameters a listing passes on to the storage server.
LISTING_PARAMS = ("limit", "marker", "end_marker", "prefix", "delimiter", "reverse", "path")

#: The fields of an entry, in the order the XML lists them.
CONTAINER_FIELDS = ("name", "hash", "bytes", "content_type", "last_modified")
ACCOUNT_FIELDS = ("name", "count", "bytes", "last_modified")


class NotAcceptable(Exception):
    """No listing format the client accepts (406)."""


def content_type(req: webob.Request) -> str:
    """The listing media type for ``req`` (``format=`` wins over Accept).

    :raises NotAcceptable: when the Accept header admits none of ours.
    """
    fmt = req.GET.get("format")
    if fmt:
        return _FORMATS.get(fmt.lower().strip(), PLAIN)
    accept = req.headers.get("Accept")
    if not accept:
        return PLAIN
    offers = req.accept.acceptable_offers(_OFFERS)
    if not offers:
        raise NotAcceptable(accept)
    match = offers[0][0]
    return XML if match == "text/xml" else str(match)


def backend_query(req: webob.Request, limit: int) -> dict[str, str]:
    """The listing query for the storage server (always JSON; ``limit`` capped).

    :raises ValueError: with the message of a 412 when ``limit`` is bad.
    """
    query = {k: req.GET[k] for k in LISTING_PARAMS if k in req.GET}
    if "limit" in query:
        try:
            value = int(query["limit"])
        except ValueError:
            raise ValueError("Value of limit must be a positive integer") from None
        if value < 0:
            raise ValueError("Value of limit must be a positive integer")
        if value > limit:
            raise ValueError("Maximum limit is %d" % limit)
    else:
        query["limit"] = str(limit)
    query["format"] = "json"
    return query


def _with_swift_bytes(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    """A large object manifest's row carries its whole size as ``;swift_bytes=N`` in
    its content type (its own size is the manifest's): list N as its bytes."""
    ctype = entry.get("content_type")
    if not isinstance(ctype, str) or ";swift_bytes=" not in ctype:
        return entry
    base, _, size = ctype.rpartition(";swift_bytes=")
    if not size.isdigit():
        return entry
    return dict(entry, content_type=base, bytes=int(size))


def render(entries: list[Mapping[str, Any]], media: str, kind: str, name: str) -> bytes:
    """The body of a listing of ``kind`` (``account`` or ``container``) called ``name``."""
    if kind == "container":
        entries = [_with_swift_bytes(e) for e in entries]
    if media == JSON:
        return json.dumps(list(entries), ensure_ascii=True).encode("utf-8")
    if media == XML:
        return _xml(entries, kind, name).encode("utf-8")
    return "".join(_entry_name(e) + "\n" for e in entries).encode("utf-8", "surrogateescape")


def _entry_name(entry: Mapping[str, Any]) -> str:
    return str(entry["subdir"] if "subdir" in entry else entry.get("name", ""))


def _xml(entries: list[Mapping[str, Any]], kind: str, name: str) -> str:
    item = "object" if kind == "container" else "container"
    fields = CONTAINER_FIELDS if kind == "container" else ACCOUNT_FIELDS
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<%s name=%s>' % (kind, quoteattr(name))]
    for entry in entries:
        if "subdir" in entry:
            sub = escape(str(entry["subdir"]))
            parts.append("<subdir name=%s><name>%s</name></subdir>"
                         % (quoteattr(str(entry["subdir"])), sub))
            continue
        inner = "".join("<%s>%s</%s>" % (f, escape(str(entry[f])), f)
                        for f in fields if f in entry)
        parts.append("<%s>%s</%s>" % (item, inner, item))
    parts.append("</%s>" % kind)
    return "".join(parts)


def needs_rewrite(body: bytes) -> bool:
    """Whether a backend JSON listing holds entries the proxy must change (large object
    manifests carrying ``swift_bytes``)."""
    return b";swift_bytes=" in body


def raw_response(body: bytes, media: str, headers: Mapping[str, str]) -> webob.Response:
    """A JSON listing answer from the backend's bytes as they are (200; an empty
    JSON listing is ``[]``, never 204)."""
    return _answer(200, body, media, headers)


def _answer(status: int, body: bytes, media: str, headers: Mapping[str, str]
            ) -> webob.Response:
    resp = webob.Response(status=status, body=body)
    resp.headers["Content-Type"] = media + "; charset=utf-8"
    resp.headers["Content-Length"] = str(len(body))
    for key, value in headers.items():
        if key.lower() not in ("content-type", "content-length"):
            resp.headers[key] = value
    return resp


def response(entries: list[Mapping[str, Any]], media: str, kind: str, name: str,
             headers: Mapping[str, str], status: int | None = None) -> webob.Response:
    """The listing answer: 204 for an empty plain listing (and HEAD), else 200."""
    body = b"" if status == 204 else render(entries, media, kind, name)
    if status is None:
        status = 204 if (media == PLAIN and not entries) else 200
    if status == 204:
        body = b""
    return _answer(status, body, media, headers)
