"""stratus-network-metadata-agent: identifies the instance behind a metadata
request and forwards it, signed, to the compute metadata API.

The per-namespace proxies (:mod:`network.agents.metadata.ns_proxy`) send every
guest request to the agent's UNIX socket with ``X-Forwarded-For`` (the guest's
address) and ``X-Neutron-Router-ID`` (or ``X-Neutron-Network-ID``). The agent
asks the server (RPC ``get_ports_for_metadata``) for the ``compute:*`` port with
that address on one of the router's networks; its ``device_id`` is the instance
and its project the tenant. The request then goes to ``[metadata]
nova_metadata_*`` with ``X-Instance-ID``, ``X-Tenant-ID``, ``X-Forwarded-For``
and ``X-Instance-ID-Signature`` (HMAC-SHA256, hex, of the instance id under
``metadata_proxy_shared_secret``), and the answer comes back as Neutron's agent
gives it: 200 with the body, 400/403/404/409/502/503/504 as such, 500 for the
API's own errors and for anything unexpected ("An unknown error has occurred.
Please try your request again."), e.g. the API being unreachable.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import http.server
import os
import socketserver
import ssl
import threading
from collections.abc import Mapping
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from common import context

LOG = logging.getLogger(__name__)

Response = tuple[int, list[tuple[str, str]], bytes]
UNKNOWN_ERROR = "An unknown error has occurred. Please try your request again."
REMOTE_500 = "Remote metadata server experienced an internal server error."
PASSED_THROUGH = {400: "Bad Request", 404: "Not Found", 409: "Conflict",
                  502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
MAX_BODY = 1024 * 1024


def sign(secret: str, instance_id: str) -> str:
    """``X-Instance-ID-Signature``: HMAC-SHA256 (hex) of the instance id."""
    return hmac.new(secret.encode("utf-8"), instance_id.encode("utf-8"),
                    hashlib.sha256).hexdigest()


def _text(status: int, message: str) -> Response:
    body = ("%d %s\n\n%s\n" % (status, http.client.responses.get(status, ""),
                               message)).encode("utf-8")
    return status, [("Content-Type", "text/plain; charset=UTF-8")], body


class MetadataProxy:
    """Handles one request (no HTTP server here: the unit tests call ``handle``)."""

    def __init__(self, conf: cfg.ConfigOpts, plugin_api: Any) -> None:
        self._conf = conf
        self._plugin = plugin_api

    def handle(self, method: str, path: str, headers: Mapping[str, str],
               body: bytes | None) -> Response:
        try:
            return self._handle(method, path, headers, body)
        except Exception:  # the boundary of a request: Neutron's generic answer
            LOG.exception("Unexpected error while serving metadata %s", path)
            return _text(500, UNKNOWN_ERROR)

    def _handle(self, method: str, path: str, headers: Mapping[str, str],
                body: bytes | None) -> Response:
        address = (headers.get("X-Forwarded-For") or "").split(",")[0].strip()
        router_id = headers.get("X-Neutron-Router-ID")
        network_id = headers.get("X-Neutron-Network-ID")
        if not address or not (router_id or network_id):
            return _text(400, "X-Forwarded-For and X-Neutron-Router-ID or "
                              "X-Neutron-Network-ID are required.")
        found = self._instance(address, router_id, network_id)
        if found is None:
            LOG.info("No instance with address %(ip)s behind %(where)s",
                     {"ip": address, "where": router_id or network_id})
            return _text(404, "The resource could not be found.")
        instance_id, project_id = found
        return self._forward(method, path, address, instance_id, project_id, headers, body)

    def _instance(self, address: str, router_id: str | None,
                  network_id: str | None) -> tuple[str, str] | None:
        ctxt = context.admin_context()
        ports = self._plugin.get_ports_for_metadata(ctxt, address, router_id=router_id,
                                                    network_id=network_id)
        for port in ports:
            if str(port.get("device_owner", "")).startswith("compute:") and \
                    port.get("device_id"):
                return str(port["device_id"]), str(port.get("project_id") or "")
        return None

    def _connection(self) -> http.client.HTTPConnection:
        meta = self._conf.metadata
        timeout = float(meta.nova_metadata_timeout)
        if meta.nova_metadata_protocol == "https":
            ctx = ssl.create_default_context(cafile=meta.auth_ca_cert or None)
            if meta.nova_metadata_insecure:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(meta.nova_metadata_host,
                                               meta.nova_metadata_port, timeout=timeout,
                                               context=ctx)
        return http.client.HTTPConnection(meta.nova_metadata_host, meta.nova_metadata_port,
                                          timeout=timeout)

    def _forward(self, method: str, path: str, address: str, instance_id: str,
                 project_id: str, headers: Mapping[str, str],
                 body: bytes | None) -> Response:
        meta = self._conf.metadata
        out = {"X-Forwarded-For": address, "X-Instance-ID": instance_id,
               "X-Tenant-ID": project_id,
               "X-Instance-ID-Signature": sign(meta.metadata_proxy_shared_secret or "",
                                               instance_id)}
        if headers.get("Content-Type"):
            out["Content-Type"] = headers["Content-Type"]
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=out)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        if resp.status == 200:
            kept = [(k, v) for k, v in resp.getheaders() if k.lower() == "content-type"]
            return 200, kept or [("Content-Type", "text/plain; charset=UTF-8")], data
        if resp.status == 403:
            LOG.warning("The remote metadata server responded with Forbidden. This "
                        "response usually occurs when shared secrets do not match.")
            return _text(403, "Access was denied to this resource.")
        if resp.status == 500:
            return _text(500, REMOTE_500)
        if resp.status in PASSED_THROUGH:
            return _text(resp.status, PASSED_THROUGH[resp.status])
        raise RuntimeError("Unexpected response code: %d" % resp.status)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: UnixServer
    protocol_version = "HTTP/1.0"

    def address_string(self) -> str:
        return "unix"  # a UNIX socket has no client address

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib's name)
        LOG.debug("metadata request: " + format, *args)

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's naming)
        self._serve()

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            status, headers, data = _text(413, "Request body too large.")
        else:
            body = self.rfile.read(length) if length else None
            status, headers, data = self.server.proxy.handle(
                self.command, self.path, dict(self.headers.items()), body)
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """One thread per request."""

    daemon_threads = True

    def __init__(self, path: str, proxy: MetadataProxy, backlog: int) -> None:
        self.proxy = proxy
        self.request_queue_size = backlog
        super().__init__(path, _Handler)


class MetadataAgent:
    """The UNIX-socket server and the heartbeat loop of the metadata agent."""

    def __init__(self, conf: cfg.ConfigOpts, plugin_api: Any,
                 report_state: Any = None) -> None:
        self._conf = conf
        self._proxy = MetadataProxy(conf, plugin_api)
        self._report_state = report_state
        self._server: UnixServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    @property
    def socket_path(self) -> str:
        return str(self._conf.metadata.metadata_proxy_socket)

    def start(self) -> None:
        path = self.socket_path
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        if os.path.exists(path):
            os.unlink(path)  # left by a previous run (a live agent holds a lock-free path)
        self._server = UnixServer(path, self._proxy, int(self._conf.metadata.metadata_backlog))
        os.chmod(path, 0o660)
        self._threads = [threading.Thread(target=self._server.serve_forever,
                                          name="metadata-socket", daemon=True)]
        if self._report_state is not None:
            self._threads.append(threading.Thread(target=self._heartbeats, name="heartbeat",
                                                  daemon=True))
        for thread in self._threads:
            thread.start()
        LOG.info("Metadata agent listening on %s", path)

    def _heartbeats(self) -> None:
        failing = False
        while True:
            try:
                self._report_state()
                if failing:
                    LOG.info("Heartbeats recorded again")
                failing = False
            except Exception:
                if not failing:
                    LOG.exception("Recording the heartbeat failed")
                failing = True
            if self._stop.wait(float(self._conf.agent.report_interval)):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            try:
                os.unlink(self.socket_path)
            except FileNotFoundError:
                pass
        for thread in self._threads:
            thread.join(10)
