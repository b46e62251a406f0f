"""The object store as image store: image data kept in the image service's own account
of the object store (Swift v1 API), as a static large object.

The bytes go into segment objects ``<image_id>-<nnnnn>`` of ``[store]
swift_store_large_object_chunk_size`` MiB each; committing writes the manifest
``<image_id>`` (``?multipart-manifest=put``), which is the image's location
``swift://<container>/<image_id>``. A download is a GET of the manifest (ranges
included); deleting deletes the manifest with its segments. Uploads that never
committed leave segments without a manifest, which ``cleanup_orphans`` removes.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import quote

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from oslo_log import log as logging

from image import exception
from image.store import base

LOG = logging.getLogger(__name__)

SCHEME = "swift"
SERVICE_TYPE = "object-store"
#: Segments of uploads that never committed are removed once this old (seconds).
STALE_AFTER = 6 * 3600
_SEGMENT_DIGITS = 5


def _segment_name(image_id: str, number: int) -> str:
    return "%s-%0*d" % (image_id, _SEGMENT_DIGITS, number)


class _Client:
    """The few Swift v1 calls the store makes, through a keystoneauth Adapter whose
    endpoint is the service's account (``…/v1/AUTH_<project>``)."""

    def __init__(self, make_adapter: Callable[[], ks_adapter.Adapter], container: str) -> None:
        self._make_adapter = make_adapter
        self._adapter: ks_adapter.Adapter | None = None
        self._lock = threading.Lock()
        self.container = container
        self._container_ok = False

    @property
    def adapter(self) -> ks_adapter.Adapter:
        with self._lock:
            if self._adapter is None:
                self._adapter = self._make_adapter()
            return self._adapter

    def path(self, name: str | None = None, container: str | None = None) -> str:
        path = "/" + quote(container or self.container, safe="")
        return path + ("/" + quote(name, safe="") if name else "")

    def call(self, method: str, path: str, ok: tuple[int, ...] = (200, 201, 202, 204),
             **kwargs: Any) -> Any:
        try:
            resp = self.adapter.request(path, method, raise_exc=False, **kwargs)
        except ks_exc.ConnectionError as err:
            raise OSError("object store unreachable: %s" % err) from err
        if resp.status_code not in ok:
            if resp.status_code == 413:
                raise exception.StorageFull(detail="object store refused %s %s: %s" % (
                    method, path, resp.text[:200]))
            raise OSError("object store answered %s %s with %d: %s" % (
                method, path, resp.status_code, resp.text[:200]))
        return resp

    def ensure_container(self) -> None:
        if self._container_ok:
            return
        self.call("PUT", self.path())
        self._container_ok = True

    def refresh_auth(self) -> None:
        """A body-less request first: a token the object store no longer takes (a
        service password reset revokes it) is renewed here, where keystoneauth may
        send the request again, and not during a streamed segment, which it would
        re-send from a consumed body."""
        self.call("HEAD", self.path(), ok=(200, 204))


class SwiftStaged(base.Staged):
    """Segments written; the manifest (the location) is written by :meth:`commit`."""

    def __init__(self, client: _Client, image_id: str, segments: list[dict[str, Any]],
                 size: int) -> None:
        self._client = client
        self.image_id = image_id
        self.segments = segments
        self.size = size
        self.location = "%s://%s/%s" % (SCHEME, client.container, image_id)
        self.committed = False
        self._aborted = False

    def commit(self) -> None:
        """Write the SLO manifest: from now on the image's data is readable.

        :raises: OSError when the object store refuses the manifest.
        """
        if self._aborted:
            raise OSError("staged data was aborted")
        if self.committed:
            return
        headers = {"Content-Type": "application/octet-stream"}
        if not self.segments:  # no data: a plain empty object (SLO segments cannot be empty)
            self._client.call("PUT", self._client.path(self.image_id), data=b"",
                              headers=headers)
        else:
            self._client.call("PUT", self._client.path(self.image_id),
                              data=json.dumps(self.segments).encode(),
                              params={"multipart-manifest": "put"}, headers=headers)
        self.committed = True

    def abort(self) -> None:
        """Delete the segments (no-op once committed). :raises: nothing."""
        if self.committed or self._aborted:
            return
        self._aborted = True
        for segment in self.segments:
            name = segment["path"].split("/", 2)[2]
            try:
                self._client.call("DELETE", self._client.path(name), ok=(204, 404))
            except (OSError, exception.StorageFull) as err:
                LOG.warning("Could not delete segment %(s)s: %(e)s", {"s": name, "e": err})


class _Limited:
    """An iterator over at most ``limit`` bytes of a chunk source, keeping the rest
    (the part of a chunk past the segment boundary) for the next segment."""

    def __init__(self, source: Iterator[bytes], pending: bytearray, limit: int) -> None:
        self._source = source
        self._pending = pending
        self._left = limit
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0
        self.exhausted = False

    def __iter__(self) -> Iterator[bytes]:
        while self._left > 0:
            if not self._pending:
                chunk = next(self._source, None)
                if chunk is None:
                    self.exhausted = True
                    return
                self._pending.extend(chunk)
                continue
            piece = bytes(self._pending[:self._left])
            del self._pending[:len(piece)]
            self._left -= len(piece)
            self.size += len(piece)
            self.md5.update(piece)
            yield piece


class SwiftIterator(base.DataIterator):
    def __init__(self, resp: Any) -> None:
        self._resp = resp
        self._it = resp.iter_content(base.CHUNK_SIZE)

    def __next__(self) -> bytes:
        return bytes(next(self._it))

    def close(self) -> None:
        self._resp.close()


class SwiftStore(base.Store):
    """Image data in the object store, as static large objects."""

    scheme = SCHEME

    def __init__(self, make_adapter: Callable[[], ks_adapter.Adapter], container: str,
                 segment_size: int) -> None:
        self._client = _Client(make_adapter, container)
        self.segment_size = segment_size

    def _name(self, location: str) -> tuple[str, str]:
        prefix = SCHEME + "://"
        if not location.startswith(prefix) or location.count("/") != 3:
            raise exception.DataNotFound(detail="not a %s location: %s" % (SCHEME, location))
        container, name = location[len(prefix):].split("/", 1)
        return container, name

    def add(self, image_id: str, chunks: Iterable[bytes]) -> SwiftStaged:
        """Write ``chunks`` as segments of ``segment_size`` bytes.

        :raises: StorageFull (413 from the object store, e.g. a quota); OSError
            when the object store fails; whatever ``chunks`` raises.
        """
        self._client.ensure_container()
        source = iter(chunks)
        pending = bytearray()
        segments: list[dict[str, Any]] = []
        staged = SwiftStaged(self._client, image_id, segments, 0)
        try:
            while True:
                part = _Limited(source, pending, self.segment_size)
                name = _segment_name(image_id, len(segments) + 1)
                body = iter(part)
                first = next(body, None)
                if first is None:
                    break  # the data ended (exactly at a segment boundary, or was empty)

                def stream(first: bytes | None = first, rest: Iterator[bytes] = body
                           ) -> Iterator[bytes]:
                    if first:
                        yield first
                    yield from rest
                self._client.refresh_auth()
                # No re-sent request after a 401: its body would be what is left.
                resp = self._client.call("PUT", self._client.path(name), data=stream(),
                                         headers={"Content-Type": "application/octet-stream"},
                                         allow_reauth=False)
                etag = part.md5.hexdigest()
                if resp.headers.get("Etag", "").strip('"') != etag:
                    raise OSError("object store stored segment %s with a wrong ETag" % name)
                segments.append({"path": "/%s/%s" % (self._client.container, name),
                                 "etag": etag, "size_bytes": part.size})
                staged.size += part.size
                if part.exhausted:
                    break
        except BaseException:
            staged.abort()
            raise
        return staged

    def get(self, location: str, offset: int = 0, length: int | None = None) -> SwiftIterator:
        container, name = self._name(location)
        headers = {}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            headers["Range"] = "bytes=%d-%s" % (offset, end)
        resp = self._client.call("GET", self._client.path(name, container), ok=(200, 206, 404),
                                 headers=headers, stream=True)
        if resp.status_code == 404:
            resp.close()
            raise exception.DataNotFound(detail="no object %s in the object store" % location)
        return SwiftIterator(resp)

    def delete(self, location: str) -> None:
        """Delete the manifest and its segments; missing data is fine.

        :raises: OSError when the object store fails.
        """
        container, name = self._name(location)
        self._client.call("DELETE", self._client.path(name, container), ok=(200, 204, 404),
                          params={"multipart-manifest": "delete"},
                          headers={"Accept": "application/json"})

    def cleanup_orphans(self) -> int:
        """Delete segments older than STALE_AFTER whose manifest does not exist."""
        removed = 0
        try:
            listing = self._list()
        except (OSError, exception.StorageFull) as err:
            LOG.warning("Could not list the image container: %s", err)
            return 0
        names = {entry["name"] for entry in listing}
        cutoff = time.time() - STALE_AFTER
        for entry in listing:
            image_id, sep, number = entry["name"].rpartition("-")
            if not sep or len(number) != _SEGMENT_DIGITS or image_id in names:
                continue
            if _timestamp(entry.get("last_modified", "")) > cutoff:
                continue
            try:
                self._client.call("DELETE", self._client.path(entry["name"]), ok=(204, 404))
                removed += 1
            except (OSError, exception.StorageFull) as err:
                LOG.warning("Could not delete orphan segment %(s)s: %(e)s",
                            {"s": entry["name"], "e": err})
        return removed

    def _list(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        marker = ""
        while True:
            resp = self._client.call("GET", self._client.path(), ok=(200, 204, 404),
                                     params={"format": "json", "marker": marker})
            page = resp.json() if resp.status_code == 200 else []
            if not page:
                return entries
            entries.extend(page)
            marker = page[-1]["name"]


def _timestamp(iso: str) -> float:
    try:
        return time.mktime(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    except ValueError:
        return time.time()
