"""The metadata API (stratus-compute-metadata, port 8775): what guests read about
themselves, through the network service's metadata agent.

The agent names the instance in ``X-Instance-ID`` and its project in
``X-Tenant-ID``, passes the guest's address in ``X-Forwarded-For`` and signs the
instance id (``X-Instance-ID-Signature``: HMAC-SHA256, hex, under ``[metadata]
metadata_proxy_shared_secret``). As Nova's metadata API: 400 without
``X-Instance-ID`` or ``X-Tenant-ID``, 403 when the signature is missing or
wrong, 404 when the instance does not exist or is another project's, 404 for a
path with no document. ``GET /`` (the version list) and ``/healthcheck`` need
no headers.

The documents of one instance are built once and reused for
``[metadata] metadata_cache_expiration`` seconds: a booting guest reads a dozen
paths in a row.
"""
from __future__ import annotations

import collections
import hashlib
import hmac
import http.client
import threading
import time
from typing import Any, Callable, Protocol

import webob
import webob.dec
from oslo_config import cfg
from oslo_log import log as logging

from common.db import engine
from common.wsgi.middleware import healthcheck
from common.wsgi.middleware import request_id
from compute import exception
from compute import server_bdm
from compute.metadata import content

LOG = logging.getLogger(__name__)
MAX_CACHED = 1024
# The password exists from the second OpenStack version (2013-04-04) on.
_PASSWORD_PATHS = frozenset("openstack/%s/password" % v
                            for v in content.OPENSTACK_VERSIONS[1:] + (content.LATEST,))


class Store(Protocol):
    """What the app needs of :class:`compute.db.instances.InstanceStore` (its
    database too: the tagged block devices are read from it)."""

    db: engine.Database

    def get(self, instance_uuid: str, read_deleted: bool = False) -> dict[str, Any]: ...

    def update(self, instance_uuid: str, values: Any, expected_task_state: Any = ...,
               expected_vm_state: Any = None) -> dict[str, Any]: ...


def sign(secret: str, instance_id: str) -> str:
    """``X-Instance-ID-Signature`` for ``instance_id``."""
    return hmac.new(secret.encode("utf-8"), instance_id.encode("utf-8"),
                    hashlib.sha256).hexdigest()


class MetadataCache:
    """Built documents per instance for ``ttl`` seconds (thread-safe, bounded)."""

    def __init__(self, ttl: float, max_entries: int = MAX_CACHED,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._items: collections.OrderedDict[str, tuple[float, content.InstanceMetadata]] = \
            collections.OrderedDict()

    def get(self, instance_uuid: str) -> content.InstanceMetadata | None:
        if self.ttl <= 0:
            return None
        with self._lock:
            found = self._items.get(instance_uuid)
            if found is None:
                return None
            if self._clock() >= found[0]:
                del self._items[instance_uuid]
                return None
            return found[1]

    def put(self, md: content.InstanceMetadata) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._items[md.uuid] = (self._clock() + self.ttl, md)
            self._items.move_to_end(md.uuid)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def invalidate(self, instance_uuid: str) -> None:
        with self._lock:
            self._items.pop(instance_uuid, None)


def _text(status: int, message: str = "") -> webob.Response:
    title = http.client.responses.get(status, "")
    body = "%d %s\n\n%s\n" % (status, title, message or title)
    return webob.Response(status=status, body=body.encode("utf-8"),
                          content_type="text/plain", charset="UTF-8")


class MetadataApp:
    """The WSGI app (wrap it with :func:`build_app` for the health check and
    request ids)."""

    def __init__(self, conf: cfg.ConfigOpts, store: Store,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.conf = conf
        self.store = store
        self.cache = MetadataCache(float(conf.metadata.metadata_cache_expiration), clock=clock)

    def metadata_for(self, instance_uuid: str) -> content.InstanceMetadata:
        """The (cached) documents of a live instance. :raises: InstanceNotFound."""
        md = self.cache.get(instance_uuid)
        if md is None:
            instance = self.store.get(instance_uuid)
            md = content.instance_metadata(
                self.conf, instance,
                block_devices=server_bdm.tagged_block_devices(self.store.db, instance_uuid))
            self.cache.put(md)
        return md

    @webob.dec.wsgify
    def __call__(self, req: webob.Request) -> webob.Response:
        try:
            return self._serve(req)
        except Exception:  # the boundary of a request: one logged 500
            LOG.exception("Unexpected error while serving metadata %s", req.path_info)
            return _text(500, "An unknown error has occurred. Please try your request again.")

    def _serve(self, req: webob.Request) -> webob.Response:
        tokens = content.split_path(req.path_info)
        if not tokens:
            return self._document(req, content.root_listing())
        found = self._authorized(req)
        if isinstance(found, webob.Response):
            return found
        path = "/".join(tokens)
        if path in _PASSWORD_PATHS and req.method not in ("GET", "HEAD"):
            return self._password(req, found)
        if req.method not in ("GET", "HEAD"):
            return _text(405, "The method is not allowed for this path.")
        try:
            doc = found.lookup(path)
        except content.InvalidPath:
            return _text(404, "The resource could not be found.")
        return self._document(req, doc)

    @staticmethod
    def _document(req: webob.Request, doc: content.Document) -> webob.Response:
        resp = webob.Response(status=200, body=doc.body, content_type=doc.content_type)
        if doc.content_type.startswith("text/"):
            resp.charset = "UTF-8"
        return resp

    def _authorized(self, req: webob.Request) -> content.InstanceMetadata | webob.Response:
        instance_id = req.headers.get("X-Instance-ID")
        tenant_id = req.headers.get("X-Tenant-ID")
        signature = req.headers.get("X-Instance-ID-Signature") or ""
        remote = req.headers.get("X-Forwarded-For") or req.remote_addr or "?"
        if not instance_id:
            return _text(400, "X-Instance-ID header is missing from request.")
        if tenant_id is None:
            return _text(400, "X-Tenant-ID header is missing from request.")
        expected = sign(self.conf.metadata.metadata_proxy_shared_secret or "", instance_id)
        if not hmac.compare_digest(expected.encode("utf-8"),
                                   signature.encode("utf-8", "replace")):
            LOG.warning("X-Instance-ID-Signature: %(sig)s does not match the expected "
                        "value for instance %(id)s; request from %(ip)s",
                        {"sig": signature[:64], "id": instance_id, "ip": remote})
            return _text(403, "Invalid proxy request signature.")
        try:
            md = self.metadata_for(instance_id)
        except exception.InstanceNotFound:
            LOG.info("Metadata requested for unknown instance %(id)s from %(ip)s",
                     {"id": instance_id, "ip": remote})
            return _text(404, "The resource could not be found.")
        if md.project_id != tenant_id:
            LOG.warning("Tenant_id %(tenant)s does not match tenant_id of instance "
                        "%(id)s (request from %(ip)s)",
                        {"tenant": tenant_id, "id": instance_id, "ip": remote})
            return _text(404, "The resource could not be found.")
        return md

    def _password(self, req: webob.Request, md: content.InstanceMetadata) -> webob.Response:
        """POST: store the guest's encrypted password once (409 when one is set)."""
        if req.method != "POST":
            return _text(400, "The password can only be read (GET) or set (POST).")
        length = req.content_length
        if length is not None and length > content.MAX_PASSWORD_SIZE:
            return _text(400, "Request is too large.")
        body = req.body_file.read(content.MAX_PASSWORD_SIZE + 1)
        if len(body) > content.MAX_PASSWORD_SIZE:
            return _text(400, "Request is too large.")
        try:
            password = body.decode("utf-8")
        except UnicodeDecodeError:
            return _text(400, "The password must be text.")
        try:
            instance = self.store.get(md.uuid)  # fresh: the cache may be behind
            sysmeta = dict(instance.get("system_metadata") or {})
            if content.password_from_system_metadata(sysmeta):
                return _text(409, "A password is already set for this instance.")
            sysmeta.update(content.password_to_system_metadata(password))
            self.store.update(md.uuid, {"system_metadata": sysmeta})
        except exception.InstanceNotFound:
            return _text(404, "The resource could not be found.")
        finally:
            self.cache.invalidate(md.uuid)
        return webob.Response(status=200, body=b"", content_type="text/plain",
                              charset="UTF-8")


def build_app(conf: cfg.ConfigOpts, store: Store) -> Any:
    """The served app: request ids, ``/healthcheck``, then :class:`MetadataApp`."""
    return request_id.RequestId(healthcheck.Healthcheck(MetadataApp(conf, store)))
