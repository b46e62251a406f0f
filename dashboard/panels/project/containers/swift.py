"""The Swift v1 calls the Containers panel makes, through the openstacksdk
object-store proxy (``conn.object_store``, a keystoneauth adapter on the
account's endpoint).

The proxy's resource methods join names into URLs unquoted and strip their
slashes, which breaks names holding ``?``, ``%``, ``#`` or a trailing ``/``
(folder markers), so every call here builds its own quoted path.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import re
from typing import Any, BinaryIO, Iterator
from urllib.parse import quote

from openstack import exceptions as sdk_exc

PUBLIC_ACL = ".r:*,.rlistings"
FOLDER_TYPE = "application/directory"
MAX_CONTAINER_NAME = 256
MAX_OBJECT_NAME = 1024
CHUNK = 64 * 1024
_HEAD_WORKERS = 20


def quote_path(container: str, name: str | None = None) -> str:
    """``container[/name]`` percent-encoded for a URL path (``.`` and ``..``
    segments too, so no client collapses them)."""
    path = quote(container, safe="")
    if name is not None:
        parts = [quote(p, safe="") for p in name.split("/")]
        parts = [p.replace(".", "%2E") if p in (".", "..") else p for p in parts]
        path += "/" + "/".join(parts)
    return path


def is_public(read_acl: str | None) -> bool:
    return ".r:*" in [part.strip() for part in (read_acl or "").split(",")]


class NotEmpty(sdk_exc.SDKException):
    """A container or folder that still holds objects (its text is the message)."""


def _details(resp: Any) -> str:
    """Swift's error body (one line of HTML, or plain text) as a sentence."""
    try:
        text = resp.text or ""
    except (AttributeError, ValueError, RuntimeError):
        text = ""
    parts = [p.strip() for p in re.split(r"<[^>]*>", text[:2000]) if p.strip()]
    return ": ".join(dict.fromkeys(parts)) or str(getattr(resp, "reason", "") or "")


def _check(resp: Any) -> Any:
    """``resp``, or the SDK's error for it, carrying Swift's message as plain text
    (the shared error formatter would otherwise show the raw HTML body)."""
    try:
        sdk_exc.raise_from_response(resp)
    except sdk_exc.HttpException as err:
        plain = type(err)(message=err.message, details=_details(resp) or err.details)
        plain.status_code = err.status_code
        raise plain from None
    return resp


@dataclasses.dataclass
class Container:
    name: str
    count: int = 0
    bytes: int = 0
    public: bool = False
    read_acl: str = ""


@dataclasses.dataclass
class Entry:
    """A row of a container listing: an object, or a pseudo-folder (``subdir``)."""
    name: str
    folder: bool = False
    bytes: int | None = None
    content_type: str = ""
    last_modified: str = ""
    public_url: str = ""

    @property
    def label(self) -> str:
        """The last segment of the name (a folder keeps its ``/``)."""
        base = self.name[:-1] if self.folder else self.name
        return base.rsplit("/", 1)[-1] + ("/" if self.folder else "")


def container_meta(conn: Any, container: str) -> Container:
    """HEAD the container: counts and read ACL (404 when it does not exist)."""
    resp = _check(conn.object_store.head(quote_path(container)))
    headers = resp.headers
    acl = headers.get("X-Container-Read") or ""
    return Container(name=container, count=int(headers.get("X-Container-Object-Count") or 0),
                     bytes=int(headers.get("X-Container-Bytes-Used") or 0),
                     public=is_public(acl), read_acl=acl)


def containers(conn: Any, limit: int, marker: str = "") -> list[Container]:
    """One page of the account listing, each container's read ACL filled in.

    The account listing does not carry ACLs, so the page's containers are
    HEADed concurrently (a few at a time).
    """
    params: dict[str, Any] = {"format": "json", "limit": limit}
    if marker:
        params["marker"] = marker
    resp = _check(conn.object_store.get("", params=params,
                                        headers={"Accept": "application/json"}))
    found = [Container(name=e["name"], count=int(e.get("count") or 0),
                       bytes=int(e.get("bytes") or 0)) for e in resp.json()]
    if not found:
        return found

    def acl(item: Container) -> Container:
        try:
            meta = container_meta(conn, item.name)
        except sdk_exc.NotFoundException:      # deleted meanwhile
            return item
        item.public, item.read_acl = meta.public, meta.read_acl
        return item

    with concurrent.futures.ThreadPoolExecutor(min(_HEAD_WORKERS, len(found))) as pool:
        return list(pool.map(acl, found))


def create_container(conn: Any, container: str, public: bool) -> None:
    headers = {"Content-Length": "0"}
    if public:
        headers["X-Container-Read"] = PUBLIC_ACL
    _check(conn.object_store.put(quote_path(container), headers=headers))


def set_public(conn: Any, container: str, public: bool) -> None:
    """Make the container readable (and listable) by anyone, or private again."""
    headers = ({"X-Container-Read": PUBLIC_ACL} if public
               else {"X-Remove-Container-Read": "1"})
    _check(conn.object_store.post(quote_path(container), headers=headers))


def delete_container(conn: Any, container: str) -> None:
    _check(conn.object_store.delete(quote_path(container)))


def listing(conn: Any, container: str, prefix: str, limit: int, marker: str = "",
            delimiter: str = "/") -> list[Entry]:
    """Objects and pseudo-folders directly under ``prefix``."""
    params: dict[str, Any] = {"format": "json", "limit": limit, "prefix": prefix}
    if delimiter:
        params["delimiter"] = delimiter
    if marker:
        params["marker"] = marker
    resp = _check(conn.object_store.get(quote_path(container), params=params,
                                        headers={"Accept": "application/json"}))
    out = []
    for item in resp.json():
        if "subdir" in item:
            out.append(Entry(name=item["subdir"], folder=True))
        else:
            out.append(Entry(name=item["name"], bytes=int(item.get("bytes") or 0),
                             content_type=item.get("content_type") or "",
                             last_modified=item.get("last_modified") or ""))
    return out


def public_url(conn: Any, container: str, name: str | None = None) -> str:
    """The anonymous URL of an object (or of the container's listing)."""
    endpoint = str(conn.object_store.get_endpoint()).rstrip("/")
    return "%s/%s" % (endpoint, quote_path(container, name))


def upload(conn: Any, container: str, name: str, data: BinaryIO, size: int,
           content_type: str) -> None:
    """PUT ``data`` (a file object, read by the HTTP client as it sends)."""
    headers = {"Content-Length": str(size),
               "Content-Type": content_type or "application/octet-stream"}
    _check(conn.object_store.put(quote_path(container, name), data=data, headers=headers))


def create_folder(conn: Any, container: str, name: str) -> None:
    """The zero-byte marker object ``name`` (which ends with ``/``)."""
    _check(conn.object_store.put(quote_path(container, name), data=b"",
                                 headers={"Content-Length": "0",
                                          "Content-Type": FOLDER_TYPE}))


def delete_object(conn: Any, container: str, name: str) -> None:
    _check(conn.object_store.delete(quote_path(container, name)))


@dataclasses.dataclass
class Download:
    chunks: Iterator[bytes]
    content_type: str
    length: str | None


def download(conn: Any, container: str, name: str) -> Download:
    """GET the object as a stream: chunks are read from Swift as they are sent on."""
    resp = _check(conn.object_store.get(quote_path(container, name), stream=True))

    def chunks() -> Iterator[bytes]:
        try:
            yield from resp.iter_content(CHUNK)
        finally:
            resp.close()

    return Download(chunks=chunks(),
                    content_type=resp.headers.get("Content-Type") or "application/octet-stream",
                    length=resp.headers.get("Content-Length"))
