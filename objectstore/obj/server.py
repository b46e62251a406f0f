"""The object server (port 6200): the backend protocol of objectstore/README.md.

``create_app(conf)`` returns the WSGI application; the daemon serves it with
``common.wsgi.server.Server``. Requests are ``<VERB> /<device>/<partition>/<a>/<c>/<o>``
(PATH_INFO is already percent-decoded by the WSGI server) and
``REPLICATE /<device>/<partition>[/<suffixes>]``.

Extra backend headers honoured besides the README's:
``X-Backend-Container-Update-Override-{Size,Etag,Content-Type}`` (also as
``X-Object-Sysmeta-Container-Update-Override-*``) replace the values of the container
update (SLO reports the manifest's total size); ``X-Backend-Etag-Is-At`` and
``X-Backend-Ignore-Range-If-Metadata-Present`` on GET (see :mod:`.reading`).
"""
from __future__ import annotations

import concurrent.futures
import json
import logging
import os
import time
from typing import Any, Callable, Iterable, Iterator

import webob
from oslo_config import cfg

from objectstore.common import body, constraints, utils
from objectstore.common.utils import Timestamp, normalize_etag
from objectstore.obj import diskfile, expiring, ondisk, reading, updates

LOG = logging.getLogger(__name__)

#: Headers a PUT or POST stores besides X-Object-Meta-* (Swift's allowed_headers).
_ALLOWED = {"content-disposition", "content-encoding", "x-delete-at", "x-object-manifest",
            "x-static-large-object", "cache-control", "content-language", "expires",
            "x-robots-tag"}
#: Threads running the background fdatasyncs of uploads in progress.
SYNC_THREADS = 4
_OVERRIDE_PREFIXES = ("x-backend-container-update-override-",
                      "x-object-sysmeta-container-update-override-")


class HTTPError(Exception):
    """Ends a request with a short plain answer."""

    def __init__(self, status: int | str, body: str = "",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.response = webob.Response(status=status, body=body.encode("utf-8"),
                                       headerlist=[("Content-Type", "text/plain")])
        for key, value in (headers or {}).items():
            self.response.headers[key] = value


def _header_items(req: webob.Request) -> dict[str, str]:
    """The request's headers as a dict, made once per request for the helpers that go
    through all of them (webob's view rebuilds every name on each pass)."""
    items: dict[str, str] | None = req.environ.get("objectstore.header_items")
    if items is None:
        items = req.environ["objectstore.header_items"] = dict(req.headers.items())
    return items


def _backend_ts(timestamp: Timestamp | None) -> dict[str, str]:
    return {"X-Backend-Timestamp": timestamp.internal} if timestamp is not None else {}


class ObjectServer:
    """The WSGI application (one instance serves every thread)."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        opts = conf.object_server
        self.devices = conf.objectstore.devices
        self.mount_check = conf.objectstore.mount_check
        self.disk_chunk_size = opts.disk_chunk_size
        self.network_chunk_size = opts.network_chunk_size
        self.sync_every = opts.mb_per_sync * 1024 * 1024
        # The background fdatasyncs of large uploads (DiskFileWriter): a few at a
        # time keep the disk busy; an upload never waits for a turn (a sync still
        # queued when it ends is dropped).
        self.sync_pool = concurrent.futures.ThreadPoolExecutor(
            SYNC_THREADS, thread_name_prefix="object-sync")
        self.conn_timeout = opts.conn_timeout
        self.node_timeout = opts.node_timeout
        self.reclaim_age = opts.reclaim_age
        self.handlers: dict[str, Callable[[webob.Request], webob.Response]] = {
            "GET": self.do_get, "HEAD": self.do_get, "PUT": self.do_put,
            "POST": self.do_post, "DELETE": self.do_delete, "REPLICATE": self.do_replicate}

    def close(self) -> None:
        """Stop the background sync threads (once the server stopped serving)."""
        self.sync_pool.shutdown(wait=True)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        req = webob.Request(environ)
        handler = self.handlers.get(req.method)
        try:
            if handler is None:
                raise HTTPError(405, "Method not allowed")
            resp = handler(req)
        except HTTPError as exc:
            resp = exc.response
        except diskfile.DiskFileNoSpace:
            resp = HTTPError(507, "No space left on device").response
        except diskfile.XattrNotSupported:
            LOG.error("Device of %s does not keep xattrs", environ.get("PATH_INFO"))
            resp = HTTPError(507, "Device does not support xattrs").response
        except Exception:
            LOG.exception("Error handling %s %s", req.method, environ.get("PATH_INFO"))
            resp = HTTPError(500, "Internal server error").response
        return resp(environ, start_response)

    # -- request parsing ----------------------------------------------------------------

    def _path(self, req: webob.Request, minsegs: int, maxsegs: int) -> list[str | None]:
        try:
            path = req.environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
            parts = utils.split_path(path, minsegs, maxsegs, rest_with_last=True)
        except (ValueError, UnicodeError):
            raise HTTPError(400, "Invalid path")
        device, partition = parts[0], parts[1]
        if device in (".", "..") or not (partition or "").isdigit():
            raise HTTPError(400, "Invalid device or partition")
        return parts

    def _device_path(self, device: str) -> str:
        path = os.path.join(self.devices, device)
        if (self.mount_check and not os.path.ismount(path)) or not os.path.isdir(path):
            raise HTTPError(507, "%s is not mounted" % device)
        return path

    def _object(self, req: webob.Request) -> tuple[diskfile.DiskFile, str, str, str]:
        device, partition, account, container, obj = self._path(req, 5, 5)
        assert device and partition and account and container and obj
        device_path = self._device_path(device)
        df = diskfile.DiskFile(device_path, partition, account, container, obj,
                               chunk_size=self.disk_chunk_size)
        return df, account, container, obj

    @staticmethod
    def _timestamp(req: webob.Request) -> Timestamp:
        try:
            return Timestamp(req.headers["X-Timestamp"])
        except (KeyError, ValueError, TypeError):
            raise HTTPError(400, "Missing or bad X-Timestamp")

    @staticmethod
    def _replication(req: webob.Request) -> bool:
        return (req.headers.get("X-Backend-Replication") or "").lower() in ("true", "1", "yes")

    @staticmethod
    def _delete_at(req: webob.Request, replication: bool) -> int | None:
        value = req.headers.get("X-Delete-At")
        if not value:
            return None
        try:
            delete_at = int(value)
        except ValueError:
            raise HTTPError(400, "Non-integer X-Delete-At")
        if delete_at < time.time() and not replication:
            raise HTTPError(400, "X-Delete-At in past")
        return delete_at

    def _check_metadata(self, req: webob.Request, obj: str) -> None:
        error = constraints.check_name(
            obj, self.conf.constraints.max_object_name_length, "Object") or \
            constraints.check_metadata(self.conf, _header_items(req), "object")
        if error:
            raise HTTPError(400, error)

    @staticmethod
    def _request_metadata(req: webob.Request, post: bool) -> dict[str, str]:
        """What of the request's headers a PUT (or POST) stores."""
        meta = {}
        for key, value in _header_items(req).items():
            lkey = key.lower()
            if post and ondisk.is_data_only_key(key):
                continue
            if lkey.startswith(("x-object-meta-", "x-object-transient-sysmeta-",
                                "x-object-sysmeta-")) or lkey in _ALLOWED:
                meta[key] = value
        if req.headers.get("Content-Type"):
            meta["Content-Type"] = req.headers["Content-Type"]
        if not meta.get("X-Delete-At"):
            meta.pop("X-Delete-At", None)
        return meta

    def _read_body(self, req: webob.Request, content_length: int | None
                   ) -> Iterator[memoryview | bytes]:
        """The request body in network_chunk_size pieces (to EOF when chunked); each
        piece is valid until the next is asked for (see :mod:`.body`)."""
        chunks = body.iter_body(req.environ, content_length, self.network_chunk_size)
        while True:
            try:
                chunk = next(chunks, None)
            except (OSError, ValueError):
                raise HTTPError(408, "Request body timed out")
            except body.BodyShort:
                raise HTTPError("499 Client Disconnect", "Body shorter than Content-Length")
            if chunk is None:
                return
            yield chunk

    def _update_container(self, df: diskfile.DiskFile, req: webob.Request, op: str,
                          names: tuple[str, str, str], headers: dict[str, str]) -> None:
        for key, value in _header_items(req).items():
            lkey = key.lower()
            for prefix in _OVERRIDE_PREFIXES:
                if lkey.startswith(prefix):
                    headers["X-" + key[len(prefix):].title()] = value
        updates.container_update(df.device_path, op, *names, request_headers=req.headers,
                                 update_headers=headers, conn_timeout=self.conn_timeout,
                                 node_timeout=self.node_timeout, fsync=df.fsync)

    # -- verbs --------------------------------------------------------------------------

    def do_get(self, req: webob.Request) -> webob.Response:
        df, _a, _c, _o = self._object(req)
        try:
            df.open(ignore_expiry=self._replication(req))
        except diskfile.DiskFileNotExist as exc:
            raise HTTPError(404, "Not found", _backend_ts(exc.timestamp))
        return reading.respond(df, req)

    def _existing(self, df: diskfile.DiskFile) -> tuple[dict[str, str] | None,
                                                        Timestamp | None, bool]:
        """(metadata or None, timestamp of the newest .data/.ts, expired?)."""
        try:
            metadata = df.open(ignore_expiry=True)
        except diskfile.DiskFileNotExist as exc:
            return None, exc.timestamp, False
        df.close()
        delete_at = metadata.get("X-Delete-At")
        expired = bool(delete_at) and int(delete_at or 0) <= time.time()
        return metadata, df.data_timestamp, expired

    def do_put(self, req: webob.Request) -> webob.Response:
        df, account, container, obj = self._object(req)
        timestamp = self._timestamp(req)
        replication = self._replication(req)
        self._check_metadata(req, obj)
        chunked = "chunked" in (req.headers.get("Transfer-Encoding") or "").lower()
        content_length = None if chunked else req.content_length
        if content_length is None and not chunked:
            raise HTTPError(411, "Missing Content-Length")
        max_size = self.conf.constraints.max_file_size
        if content_length is not None and content_length > max_size:
            raise HTTPError(413, "Object too large")
        delete_at = self._delete_at(req, replication)
        existing, existing_ts, expired = self._existing(df)
        if existing_ts is not None and existing_ts >= timestamp:
            raise HTTPError(409, "A newer object exists", _backend_ts(existing_ts))
        if req.headers.get("If-None-Match", "").strip() == "*" and existing is not None \
                and not expired:
            raise HTTPError(412, "Object exists")
        with df.writer(content_length, self.sync_every, self.sync_pool) as writer:
            for chunk in self._read_body(req, content_length):
                writer.write(chunk)
                if writer.bytes_written > max_size:
                    raise HTTPError(413, "Object too large")
            etag = writer.etag
            wanted = normalize_etag(req.headers.get("ETag"))
            if wanted and wanted.lower() != etag:
                raise HTTPError(422, "ETag does not match the body")
            metadata = self._request_metadata(req, post=False)
            metadata.setdefault("Content-Type", "application/octet-stream")
            metadata.update({"name": df.name or "", "X-Timestamp": timestamp.internal,
                             "Content-Length": str(writer.bytes_written), "ETag": etag})
            writer.put(metadata)
        if delete_at is not None or (existing or {}).get("X-Delete-At"):
            # Without an X-Delete-At before or now there is no row to change (the
            # expirer drops a stale one: its X-If-Delete-At gets 412), and opening
            # the index would cost every PUT on a device that has one.
            expiring.set_entry(df.device_path, account, container, obj, delete_at,
                               timestamp.internal)
        if not replication:
            self._update_container(df, req, "PUT", (account, container, obj), {
                "X-Timestamp": timestamp.internal, "X-Size": metadata["Content-Length"],
                "X-Content-Type": metadata["Content-Type"], "X-Etag": etag})
        return webob.Response(status=201, headerlist=[
            ("Content-Type", "text/plain"), ("ETag", etag)])

    def do_post(self, req: webob.Request) -> webob.Response:
        df, account, container, obj = self._object(req)
        timestamp = self._timestamp(req)
        replication = self._replication(req)
        self._check_metadata(req, obj)
        delete_at = self._delete_at(req, replication)
        try:
            old = df.open(ignore_expiry=replication)
        except diskfile.DiskFileNotExist as exc:
            raise HTTPError(404, "Not found", _backend_ts(exc.timestamp))
        df.close()
        if df.timestamp is not None and df.timestamp >= timestamp:
            raise HTTPError(409, "Newer metadata exists", _backend_ts(df.timestamp))
        metadata = self._request_metadata(req, post=True)
        metadata["X-Timestamp"] = timestamp.internal
        df.write_meta(metadata)
        old_delete_at = old.get("X-Delete-At")
        if (int(old_delete_at) if old_delete_at else None) != delete_at:
            expiring.set_entry(df.device_path, account, container, obj, delete_at,
                               timestamp.internal)
        return webob.Response(status=202, headerlist=[("Content-Type", "text/plain")])

    def do_delete(self, req: webob.Request) -> webob.Response:
        df, account, container, obj = self._object(req)
        timestamp = self._timestamp(req)
        existing, existing_ts, expired = self._existing(df)
        if_delete_at = req.headers.get("X-If-Delete-At")
        if if_delete_at is not None:
            try:
                wanted = int(if_delete_at)
            except ValueError:
                raise HTTPError(400, "Bad X-If-Delete-At")
            if existing is None or int(existing.get("X-Delete-At") or 0) != wanted:
                raise HTTPError(412, "X-If-Delete-At does not match", _backend_ts(existing_ts))
            expired = False  # the expirer deleting what is due
        if existing_ts is not None and existing_ts >= timestamp:
            raise HTTPError(409, "A newer object exists", _backend_ts(existing_ts))
        df.write_tombstone(timestamp)
        expiring.remove(df.device_path, account, container, obj)
        if not self._replication(req):
            self._update_container(df, req, "DELETE", (account, container, obj),
                                   {"X-Timestamp": timestamp.internal})
        if existing is None or expired:
            raise HTTPError(404, "Not found")
        return webob.Response(status=204, headerlist=[])

    def do_replicate(self, req: webob.Request) -> webob.Response:
        device, partition, suffixes = self._path(req, 2, 3)
        assert device and partition
        device_path = self._device_path(device)
        body = req.body
        if body:
            try:
                wanted = json.loads(body)["list"]
                if not isinstance(wanted, list):
                    raise TypeError("list expected")
            except (ValueError, KeyError, TypeError):
                raise HTTPError(400, 'Body must be {"list": [suffix, ...]}')
            result: Any = diskfile.suffix_inventory(device_path, partition,
                                                    [str(s) for s in wanted])
        else:
            recalculate = [s for s in (suffixes or "").split("-") if s]
            result = diskfile.get_hashes(device_path, partition, recalculate,
                                         reclaim_age=self.reclaim_age)
        return webob.Response(status=200, headerlist=[("Content-Type", "application/json")],
                              body=json.dumps(result, sort_keys=True).encode())


def _check_devices(conf: cfg.ConfigOpts) -> None:
    """Every device directory must keep user xattrs (or the metadata would be lost)."""
    root = conf.objectstore.devices
    if not os.path.isdir(root):
        return
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if not os.path.isdir(path):
            continue
        if conf.objectstore.mount_check and not os.path.ismount(path):
            LOG.warning("Device %s is not mounted; it stays unused until it is", path)
            continue
        diskfile.check_xattr_support(path)


def create_app(conf: cfg.ConfigOpts) -> ObjectServer:
    """The object server WSGI app.

    :raises diskfile.XattrNotSupported: (a RuntimeError) when a device directory does
        not support user xattrs; the message names it and says what to use instead.
    """
    utils.set_hash_path_salt(conf.objectstore.hash_path_prefix,
                             conf.objectstore.hash_path_suffix)
    _check_devices(conf)
    return ObjectServer(conf)
