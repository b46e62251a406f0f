"""The proxy server: the WSGI application at the end of the proxy pipeline.

It parses ``/v1/<account>[/<container>[/<object>]]``, checks names against the
constraints, picks the controller of the path's shape and calls the handler named
after the verb. Every answer gets ``X-Trans-Id`` (also as ``X-Openstack-Request-Id``)
and, for CORS requests a container allows, the Access-Control headers.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import webob
from oslo_config import cfg

from common import service
from objectstore.common import constraints, registry, utils
from objectstore.common.ring import ring as ring_mod
from objectstore.proxy import info
from objectstore.proxy.controllers import cors
from objectstore.proxy.controllers.account import AccountController
from objectstore.proxy.controllers.base import Controller, ErrorLimiter, http_response
from objectstore.proxy.controllers.container import ContainerController
from objectstore.proxy.controllers.obj import ObjectController

LOG = logging.getLogger(__name__)

VALID_API_VERSIONS = ("v1", "v1.0")
SWIFT_VERSION = "2.34.0"


class SharedInfo:
    """Container infos (and info answers) shared by all requests for a few seconds (a
    write through this proxy drops its entry at once)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, dict[str, Any]]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, value: dict[str, Any], ttl: float | None = None) -> None:
        ttl = self.ttl if ttl is None else ttl
        if ttl <= 0:
            return
        with self._lock:
            if len(self._entries) > 10000:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + ttl, value)

    def drop(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


class Application:
    """The proxy: routes client requests to the storage nodes of the rings."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        opts = conf.proxy
        utils.set_hash_path_salt(conf.objectstore.hash_path_prefix,
                                 conf.objectstore.hash_path_suffix)
        self.swift_dir = conf.objectstore.swift_dir
        self.ring_check_interval = conf.objectstore.ring_check_interval
        self._rings: dict[str, ring_mod.Ring] = {}
        self._rings_lock = threading.Lock()
        self.limiter = ErrorLimiter(opts.error_suppression_limit,
                                    opts.error_suppression_interval)
        self.pool = ThreadPoolExecutor(max_workers=opts.max_workers,
                                       thread_name_prefix="proxy-backend")
        self.conn_timeout = opts.conn_timeout
        self.node_timeout = opts.node_timeout
        self.recoverable_node_timeout = opts.recoverable_node_timeout or opts.node_timeout
        self.object_chunk_size = opts.object_chunk_size
        self.client_chunk_size = opts.client_chunk_size
        self.account_autocreate = opts.account_autocreate
        self.allow_account_management = opts.allow_account_management
        self.cors_allow_origin = list(opts.cors_allow_origin)
        self.cors_expose_headers = list(opts.cors_expose_headers)
        self.strict_cors_mode = opts.strict_cors_mode
        self.expose_info = opts.expose_info
        self.shared_info = SharedInfo(opts.recheck_container_existence)
        #: answers to the filters' info subrequests, by path (info.INFO_REQUEST)
        self.info_answers = SharedInfo(opts.recheck_container_existence)
        self.recheck_account_existence = opts.recheck_account_existence
        self.limits = constraints.limits(conf)
        self._register_info()

    def _register_info(self) -> None:
        registry.register_swift_info(
            "swift", version=SWIFT_VERSION, valid_api_versions=list(VALID_API_VERSIONS),
            strict_cors_mode=self.strict_cors_mode,
            policies=[{"name": "Policy-0", "default": True}],
            account_autocreate=self.account_autocreate,
            allow_account_management=self.allow_account_management,
            extra_header_count=0, **self.limits)

    # -- rings ------------------------------------------------------------------------

    def get_ring(self, name: str) -> ring_mod.Ring:
        """The ring ``name``, loaded once and then kept current by the Ring itself.

        :raises RingLoadError: when the ring file is missing (answered with 503).
        """
        ring = self._rings.get(name)
        if ring is None:
            with self._rings_lock:
                ring = self._rings.get(name)
                if ring is None:
                    ring = ring_mod.Ring(self.swift_dir, name,
                                         reload_interval=self.ring_check_interval)
                    self._rings[name] = ring
        return ring

    @property
    def account_ring(self) -> ring_mod.Ring:
        return self.get_ring("account")

    @property
    def container_ring(self) -> ring_mod.Ring:
        return self.get_ring("container")

    @property
    def object_ring(self) -> ring_mod.Ring:
        return self.get_ring("object")

    # -- requests ---------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        trans_id = environ.get("swift.trans_id")
        if not trans_id:
            trans_id = "tx%s-%010x" % (uuid.uuid4().hex[:21], int(time.time()))
            environ["swift.trans_id"] = trans_id
        req = webob.Request(environ)
        extra: Callable[[list[tuple[str, str]]], list[tuple[str, str]]] | None = None
        try:
            controller, answer = self.handle_request(req)
        except ring_mod.RingLoadError as err:
            LOG.error("ring not available: %s (txn %s)", err, trans_id)
            controller, answer = None, http_response(503)
        if controller is not None and req.headers.get("Origin") \
                and req.method != "OPTIONS":
            extra = cors.response_headers_hook(controller)
        return _AddHeaders(answer, trans_id, extra)(environ, start_response)

    def handle_request(self, req: webob.Request) -> tuple[Controller | None, Any]:
        """The controller for the request (None for /info and errors) and its answer."""
        path = info.from_wsgi_str(req.environ.get("PATH_INFO", "/"))
        if not constraints.check_utf8(path):
            return None, http_response(412, "Invalid UTF8 or contains NULL")
        if path == "/info":
            return None, self.handle_info(req)
        try:
            version, account, container, obj = utils.split_path(path, 1, 4, True)
        except ValueError:
            return None, http_response(404)
        if version not in VALID_API_VERSIONS:
            return None, http_response(400, "Invalid path")
        if not account or (obj and not container):
            return None, http_response(404)
        error = self._check_names(account, container, obj)
        if error:
            return None, http_response(400, error)
        controller_cls: type[Controller] = (
            ObjectController if obj else ContainerController if container
            else AccountController)
        controller = controller_cls(self, req, account, container, obj)
        if req.method == "OPTIONS":
            return controller, cors.options(controller)
        if req.method not in controller.allowed_methods:
            allow = ", ".join(sorted(controller.allowed_methods + ("OPTIONS",)))
            return controller, http_response(405, headers={"Allow": allow})
        return controller, getattr(controller, req.method)()

    def _check_names(self, account: str, container: str | None, obj: str | None) -> str | None:
        checks = [(account, "max_account_name_length", "Account"),
                  (container, "max_container_name_length", "Container"),
                  (obj, "max_object_name_length", "Object")]
        for name, limit, what in checks:
            if name is not None:
                error = constraints.check_name(name, self.limits[limit], what)
                if error:
                    return error
        return None

    def handle_info(self, req: webob.Request) -> webob.Response:
        """``GET /info``: what the cluster offers (registry)."""
        if req.method == "OPTIONS":
            return http_response(200, headers={"Allow": "GET, HEAD, OPTIONS"})
        if req.method not in ("GET", "HEAD"):
            return http_response(405, headers={"Allow": "GET, HEAD, OPTIONS"})
        if not self.expose_info:
            return http_response(403)
        body = json.dumps(registry.get_swift_info(), sort_keys=True).encode()
        resp = webob.Response(body=body, content_type="application/json", charset="UTF-8")
        return resp


class _AddHeaders:
    """Wraps an answer (any WSGI app) to add the transaction id (and CORS) headers."""

    def __init__(self, app: Any, trans_id: str,
                 extra: Callable[[list[tuple[str, str]]], list[tuple[str, str]]] | None
                 ) -> None:
        self.app = app
        self.trans_id = trans_id
        self.extra = extra

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            names = {name.lower() for name, _ in headers}
            headers = list(headers)
            if "x-trans-id" not in names:
                headers.append(("X-Trans-Id", self.trans_id))
            if "x-openstack-request-id" not in names:
                headers.append(("X-Openstack-Request-Id", self.trans_id))
            if self.extra is not None:
                headers.extend(self.extra(headers))
            return start_response(status, headers, exc_info)
        return self.app(environ, _start)


def app_factory(global_conf: dict[str, Any], **local_conf: Any) -> Application:
    """Paste entry point (``objectstore.proxy.server:app_factory``)."""
    return Application(service.conf_from_global(global_conf))
