"""What the account and the container server share: request dispatch, device checks,
metadata headers, listing parameters and database replication (``REPLICATE`` and the
whole-database ``PUT``), as README.md "Backend protocol" describes."""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import sqlite3
import uuid
from typing import Any, Callable, Mapping
from urllib.parse import parse_qs

import webob
import webob.exc
from oslo_config import cfg

from objectstore.common import constraints, db, db_conns
from objectstore.common.utils import Timestamp, hash_path, set_hash_path_salt, split_path

LOG = logging.getLogger(__name__)

_TRUE = {"true", "1", "yes", "on", "t", "y"}
_CHUNK = 65536
#: SQLite messages that mean the file itself is damaged (quarantine it).
_DAMAGED = ("malformed", "not a database", "file is encrypted", "no such table")


@dataclasses.dataclass
class Target:
    """The parsed path of one request."""

    device: str
    partition: str
    account: str
    container: str | None = None
    obj: str | None = None


@dataclasses.dataclass
class ListingParams:
    """The listing query of a GET (``limit`` already checked against the maximum)."""

    limit: int
    marker: str = ""
    end_marker: str = ""
    prefix: str = ""
    delimiter: str = ""
    reverse: bool = False
    path: str | None = None


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


def req_timestamp(req: webob.Request, header: str = "X-Timestamp") -> Timestamp:
    """The request's timestamp header.

    :raises webob.exc.HTTPBadRequest: when it is missing or not a timestamp.
    """
    value = req.headers.get(header)
    try:
        return Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise webob.exc.HTTPBadRequest(body="Missing or bad %s header" % header)


def metadata_from_headers(req: webob.Request, prefixes: tuple[str, ...],
                          names: frozenset[str], timestamp: Timestamp) -> dict[str, list[str]]:
    """``{header: [value, timestamp]}`` of the metadata headers a request carries.

    ``X-Remove-<name>`` (any value) stands for an empty ``<name>``: a removal.
    """
    updates: dict[str, list[str]] = {}
    for key, value in req.headers.items():
        lkey = key.lower()
        if lkey.startswith("x-remove-"):
            key, value = "X-" + key[len("x-remove-"):], ""
            lkey = key.lower()
        if lkey in names or any(lkey.startswith(p) and len(lkey) > len(p) for p in prefixes):
            updates[key.title()] = [value, timestamp.internal]
    return updates


def metadata_headers(metadata: Mapping[str, list[str]]) -> dict[str, str]:
    """Response headers of the stored metadata (removed items left out)."""
    return {key: value for key, (value, _stamp) in metadata.items() if value != ""}


def listing_params(req: webob.Request, max_limit: int) -> ListingParams:
    """Parse ``limit``, ``marker``, ``end_marker``, ``prefix``, ``delimiter``,
    ``reverse`` and ``path``.

    :raises webob.exc.HTTPPreconditionFailed: ``limit`` above ``max_limit``.
    :raises webob.exc.HTTPBadRequest: a value that is not UTF-8 or holds NUL.
    """
    query = parse_qs(req.environ.get("QUERY_STRING", ""), keep_blank_values=True,
                     errors="surrogateescape")
    values: dict[str, str] = {}
    for name in ("limit", "marker", "end_marker", "prefix", "delimiter", "reverse", "path"):
        if name in query:
            value = query[name][0]
            if value and not constraints.check_utf8(value):
                raise webob.exc.HTTPBadRequest(body="Invalid UTF8 or contains NULL")
            values[name] = value
    limit = max_limit
    given = values.get("limit", "")
    if given.isdigit():
        limit = int(given)
        if limit > max_limit:
            raise webob.exc.HTTPPreconditionFailed(body="Maximum limit is %d" % max_limit)
    return ListingParams(limit=limit, marker=values.get("marker", ""),
                         end_marker=values.get("end_marker", ""),
                         prefix=values.get("prefix", ""),
                         delimiter=values.get("delimiter", ""),
                         reverse=is_true(values.get("reverse")), path=values.get("path"))


def respond(status: int, body: str = "", headers: Mapping[str, str] | None = None,
            ) -> webob.Response:
    """A plain response (webob.exc would add an HTML body to 2xx answers)."""
    resp = webob.Response(status=status, headers=dict(headers or {}))
    resp.content_type = "text/plain"
    resp.charset = "utf-8"
    resp.text = body
    return resp


def json_response(body: str, headers: Mapping[str, str], status: int = 200) -> webob.Response:
    resp = webob.Response(status=status, headers=dict(headers))
    resp.content_type = "application/json"
    resp.charset = "utf-8"
    resp.text = body
    return resp


def timestamp_headers(info: Mapping[str, Any]) -> dict[str, str]:
    """``X-Timestamp`` (created), ``X-PUT-Timestamp`` and the ``X-Backend-*`` ones."""
    put, delete = Timestamp(info["put_timestamp"]), Timestamp(info["delete_timestamp"])
    return {
        "X-Timestamp": Timestamp(info["created_at"]).normal,
        "X-PUT-Timestamp": put.normal,
        "X-Backend-Timestamp": max(put, delete).internal,
        "X-Backend-Put-Timestamp": put.internal,
        "X-Backend-Delete-Timestamp": delete.internal,
    }


class DbServer:
    """The WSGI app base of the account and container servers.

    Subclasses set ``kind``, ``group`` and ``broker_class``, parse their paths in
    :meth:`target` and implement ``GET``, ``HEAD``, ``PUT``, ``POST``, ``DELETE``
    taking ``(req, target)``.
    """

    kind = ""
    group = ""
    broker_class: type[db.DatabaseBroker] = db.DatabaseBroker

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        set_hash_path_salt(conf.objectstore.hash_path_prefix, conf.objectstore.hash_path_suffix)
        self.devices = conf.objectstore.devices
        self.mount_check = conf.objectstore.mount_check
        self.busy_timeout = float(conf[self.group].db_busy_timeout)
        self.connections = db_conns.ConnectionCache(conf[self.group].db_cached_connections)

    def close(self) -> None:
        """Close the kept database connections (tests, shutdown)."""
        self.connections.clear()

    # -- dispatch --------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        req = webob.Request(environ)
        environ["objectstore.brokers"] = []
        reuse = False  # a connection that saw an unexpected error is closed, not kept
        try:
            resp = self.dispatch(req)
            reuse = True
        except webob.exc.HTTPException as exc:
            resp = exc
            reuse = True
        except sqlite3.DatabaseError as exc:
            resp = self._database_error(req, exc)
        except Exception:
            LOG.exception("%(method)s %(path)s failed",
                          {"method": req.method, "path": req.path_info})
            resp = webob.exc.HTTPInternalServerError()
        finally:
            for broker in environ.pop("objectstore.brokers"):
                broker.close(reuse=reuse)
        return resp(environ, start_response)

    def dispatch(self, req: webob.Request) -> webob.Response:
        path = req.environ.get("PATH_INFO", "").encode("latin-1").decode(
            "utf-8", "surrogateescape")
        if req.method == "REPLICATE" or (
                req.method == "PUT" and is_true(req.headers.get("X-Backend-Replication"))):
            try:
                device, partition, hash_ = split_path(path, 3, 3)
            except ValueError:
                raise webob.exc.HTTPBadRequest(body="Bad replication path")
            assert device and partition and hash_
            self.check_device(device)
            path_ = db.db_path(self.devices, device, self.kind, partition, hash_)
            if req.method == "PUT":
                return self.replicated_db(req, device, path_)
            return self.replicate(req, self.open_broker(req, path_))
        handler = getattr(self, req.method, None) if req.method in (
            "GET", "HEAD", "PUT", "POST", "DELETE") else None
        if handler is None:
            return webob.exc.HTTPMethodNotAllowed()
        target = self.target(path)
        self.check_device(target.device)
        return handler(req, target)

    def target(self, path: str) -> Target:
        """Parse ``/d/p/a[/c[/o]]`` (subclasses)."""
        raise NotImplementedError

    def check_device(self, device: str) -> None:
        """:raises webob.exc.HTTPInsufficientStorage: the device is missing (or not
        mounted with ``mount_check``)."""
        devpath = os.path.join(self.devices, device)
        if device in (".", "..") or "/" in device or not os.path.isdir(devpath) or (
                self.mount_check and not os.path.ismount(devpath)):
            raise webob.exc.HTTPInsufficientStorage(body="%s is not mounted" % device)

    def broker(self, req: webob.Request, target: Target) -> Any:
        """The broker of the request's account or container (closed after the request)."""
        container = target.container if self.kind == "container" else None
        hash_ = hash_path(target.account, container)
        path = db.db_path(self.devices, target.device, self.kind, target.partition, hash_)
        return self.open_broker(req, path, target.account, container)

    def open_broker(self, req: webob.Request, path: str, account: str | None = None,
                    container: str | None = None) -> Any:
        broker = self.broker_class(path, account, container, timeout=self.busy_timeout,
                                   cache=self.connections)
        req.environ["objectstore.brokers"].append(broker)
        req.environ["objectstore.db_path"] = path
        return broker

    def _database_error(self, req: webob.Request, exc: sqlite3.DatabaseError) -> webob.Response:
        path = req.environ.get("objectstore.db_path")
        if path and any(word in str(exc) for word in _DAMAGED) and os.path.exists(path):
            for broker in req.environ["objectstore.brokers"]:
                broker.close(reuse=False)
            moved = db.quarantine_db(path, self.kind)
            LOG.error("Quarantined %(path)s to %(moved)s: %(exc)s",
                      {"path": path, "moved": moved, "exc": exc})
        else:
            LOG.error("Database error on %(path)s: %(exc)s", {"path": path, "exc": exc})
        return webob.exc.HTTPInternalServerError()

    # -- shared request pieces -------------------------------------------------

    def check_metadata(self, req: webob.Request, target: str) -> None:
        """:raises webob.exc.HTTPBadRequest: the metadata headers break the limits."""
        error = constraints.check_metadata(self.conf, req.headers, target)
        if error:
            raise webob.exc.HTTPBadRequest(body=error)

    def check_name(self, name: str, what: str) -> None:
        limit = self.conf.constraints["max_%s_name_length" % what.lower()]
        error = constraints.check_name(name, limit, what)
        if error:
            raise webob.exc.HTTPBadRequest(body=error)

    # -- replication -----------------------------------------------------------

    def replicate(self, req: webob.Request, broker: db.DatabaseBroker) -> webob.Response:
        """``REPLICATE /d/p/<hash>`` with ``[op, args…]`` (README "Backend protocol")."""
        try:
            op, *args = json.loads(req.body or b"null")
        except (ValueError, TypeError):
            return webob.exc.HTTPBadRequest(body="Body must be a JSON list [op, args...]")
        if not broker.exists():
            return webob.exc.HTTPNotFound()
        if op == "sync" and args and isinstance(args[0], dict):
            return self._replicate_sync(broker, args[0])
        if op == "merge_items" and args and isinstance(args[0], list):
            broker.merge_items(args[0], args[1] if len(args) > 1 else None)
            return respond(202)
        if op == "merge_syncs" and args and isinstance(args[0], list):
            broker.merge_syncs(args[0])
            return respond(202)
        return webob.exc.HTTPBadRequest(body="Unknown REPLICATE operation")

    def _replicate_sync(self, broker: db.DatabaseBroker,
                        remote: Mapping[str, Any]) -> webob.Response:
        """Take the remote's timestamps and metadata, answer with our state and how far
        we already hold the remote's rows."""
        broker.merge_timestamps(remote.get("created_at") or Timestamp.now().internal,
                                remote.get("put_timestamp") or db.ZERO,
                                remote.get("delete_timestamp") or db.ZERO)
        if remote.get("metadata"):
            meta = remote["metadata"]
            broker.update_metadata(json.loads(meta) if isinstance(meta, str) else meta)
        info = broker.get_replication_info()
        info["point"] = broker.get_sync(str(remote.get("id", "")))
        return json_response(json.dumps(info), {})

    def replicated_db(self, req: webob.Request, device: str, path: str) -> webob.Response:
        """``PUT /d/p/<hash>`` with ``X-Backend-Replication: true``: a whole database.

        The file lands in ``<device>/tmp``, must open as a database of our kind,
        gets its own id, and is linked into place only when no database is there
        (409 otherwise: the replicator then merges rows instead).
        """
        if os.path.exists(path):
            return webob.exc.HTTPConflict(body="Database exists")
        tmp_dir = os.path.join(self.devices, device, "tmp")
        os.makedirs(tmp_dir, exist_ok=True)
        tmp = os.path.join(tmp_dir, uuid.uuid4().hex + ".db")
        try:
            self._receive(req, tmp)
            broker = self.broker_class(tmp, tmp_dir=tmp_dir, timeout=self.busy_timeout)
            try:
                conn = broker.conn()
                if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise sqlite3.DatabaseError("quick_check failed")
                conn.execute("PRAGMA journal_mode = WAL")
                broker.newid(broker.get_info()["id"])
            except sqlite3.DatabaseError as exc:
                return webob.exc.HTTPBadRequest(body="Not a usable database: %s" % exc)
            finally:
                broker.close()
            os.makedirs(os.path.dirname(path), exist_ok=True)
            try:
                os.link(tmp, path)
            except FileExistsError:
                return webob.exc.HTTPConflict(body="Database exists")
        finally:
            for name in (tmp, tmp + "-wal", tmp + "-shm"):
                if os.path.exists(name):
                    os.unlink(name)
        return respond(201)

    @staticmethod
    def _receive(req: webob.Request, dest: str) -> None:
        stream = req.body_file_seekable if req.content_length is None else req.body_file
        remaining = req.content_length
        with open(dest, "wb") as out:
            while remaining is None or remaining > 0:
                chunk = stream.read(_CHUNK if remaining is None else min(_CHUNK, remaining))
                if not chunk:
                    break
                out.write(chunk)
                if remaining is not None:
                    remaining -= len(chunk)
            out.flush()
            os.fsync(out.fileno())
