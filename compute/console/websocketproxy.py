"""The noVNC proxy: serves noVNC's pages and relays a browser's websocket to a
guest's VNC server on its compute node, once the console token checks out.

A browser opens ``<base_url>?path=%3Ftoken%3D<token>``; noVNC then connects a
websocket to ``/?token=<token>`` (or ``/websockify?token=``). The proxy
validates the token (compute/console/tokens.py), checks that the page's
``Origin`` is the proxy itself (or an allowed origin), opens a TCP connection
to the VNC endpoint the token names and copies bytes both ways: websocket
frames (RFC 6455) from the browser, raw bytes from the VNC server. One thread
per direction per connection; no eventlet.
"""
from __future__ import annotations

import base64
import hashlib
import http.server
import logging
import mimetypes
import os
import socket
import socketserver
import struct
import threading
import urllib.parse
from collections.abc import Callable
from typing import Any

from common import exception as common_exception

LOG = logging.getLogger(__name__)
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_FRAME = 16 * 1024 * 1024
CONNECT_TIMEOUT = 10.0

# (token) -> {"host", "port", ...}; raises common.exception.Unauthorized.
Validator = Callable[[str], dict[str, Any]]


class ClosedError(Exception):
    """The peer closed the websocket or the connection dropped."""


def accept_key(key: str) -> str:
    digest = hashlib.sha1((key + WS_GUID).encode()).digest()
    return base64.b64encode(digest).decode()


def encode_frame(payload: bytes, opcode: int = OP_BINARY, mask: bytes | None = None) -> bytes:
    """One final frame; ``mask`` (4 bytes) only for client-to-server frames."""
    head = bytes([0x80 | opcode])
    length = len(payload)
    mask_bit = 0x80 if mask else 0
    if length < 126:
        head += bytes([mask_bit | length])
    elif length < 1 << 16:
        head += bytes([mask_bit | 126]) + struct.pack("!H", length)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", length)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return head + mask + payload
    return head + payload


def _read_exact(rfile: Any, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = rfile.read(size - len(data))
        if not chunk:
            raise ClosedError()
        data += chunk
    return data


def read_frame(rfile: Any) -> tuple[int, bytes, bool]:
    """``(opcode, payload, fin)`` of the next frame, unmasked."""
    first, second = _read_exact(rfile, 2)
    fin, opcode = bool(first & 0x80), first & 0x0F
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", _read_exact(rfile, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", _read_exact(rfile, 8))[0]
    if length > MAX_FRAME:
        raise ClosedError()
    mask = _read_exact(rfile, 4) if second & 0x80 else None
    payload = _read_exact(rfile, length)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return opcode, payload, fin


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: "ProxyServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
        LOG.info("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self._websocket()
        else:
            self._static()

    # -- noVNC's pages
    def _static(self) -> None:
        root = self.server.web_root
        path = urllib.parse.urlsplit(self.path).path.lstrip("/") or "vnc_lite.html"
        full = os.path.realpath(os.path.join(root, path)) if root else ""
        if not root or not full.startswith(os.path.realpath(root) + os.sep) or \
                not os.path.isfile(full):
            self._plain(404, "Not found: %s\n" % path)
            return
        with open(full, "rb") as src:
            body = src.read()
        self.send_response(200)
        self.send_header("Content-Type", mimetypes.guess_type(full)[0]
                         or "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _plain(self, code: int, text: str) -> None:
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    # -- the websocket
    def _token(self) -> str | None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if query.get("token"):
            return query["token"][0]
        for part in self.headers.get("Cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "token" and value:
                return value
        return None

    def _origin_ok(self) -> bool:
        origin = self.headers.get("Origin")
        if not origin:
            return True  # not a browser (e.g. a CLI client)
        origin_host = urllib.parse.urlsplit(origin).hostname or ""
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
        return origin_host == host or origin_host in self.server.allowed_origins

    def _websocket(self) -> None:
        key = self.headers.get("Sec-WebSocket-Key")
        token = self._token()
        if not key or not token:
            self._plain(400, "A websocket with a console token is expected.\n")
            return
        if not self._origin_ok():
            LOG.warning("Refused a console connection from origin %s", self.headers.get("Origin"))
            self._plain(403, "Origin not allowed.\n")
            return
        try:
            console = self.server.validate(token)
        except common_exception.Error as err:
            LOG.info("Refused a console connection: %s", err)
            self._plain(401, "%s\n" % err)
            return
        try:
            upstream = socket.create_connection((console["host"], int(console["port"])),
                                                timeout=CONNECT_TIMEOUT)
        except OSError as err:
            LOG.warning("Console of %s at %s:%s unreachable: %s", console.get("instance_uuid"),
                        console["host"], console["port"], err)
            self._plain(502, "The console of this server is not reachable.\n")
            return
        upstream.settimeout(None)
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept_key(key))
        offered = [p.strip() for p in self.headers.get("Sec-WebSocket-Protocol", "").split(",")]
        if "binary" in offered:
            self.send_header("Sec-WebSocket-Protocol", "binary")
        self.end_headers()
        self.wfile.flush()
        LOG.info("Console of instance %s opened (%s:%s)", console.get("instance_uuid"),
                 console["host"], console["port"])
        self._relay(upstream)
        self.close_connection = True

    def _relay(self, upstream: socket.socket) -> None:
        lock = threading.Lock()

        def send(payload: bytes, opcode: int = OP_BINARY) -> None:
            with lock:
                self.wfile.write(encode_frame(payload, opcode))
                self.wfile.flush()

        def downstream() -> None:
            try:
                while True:
                    data = upstream.recv(65536)
                    if not data:
                        break
                    send(data)
            except OSError:
                pass
            try:
                send(b"", OP_CLOSE)
            except OSError:
                pass

        reader = threading.Thread(target=downstream, name="vnc-down", daemon=True)
        reader.start()
        partial = b""
        try:
            while True:
                opcode, payload, fin = read_frame(self.rfile)
                if opcode == OP_CLOSE:
                    break
                if opcode == OP_PING:
                    send(payload, OP_PONG)
                    continue
                if opcode == OP_PONG:
                    continue
                partial += payload
                if fin:
                    upstream.sendall(partial)
                    partial = b""
        except (ClosedError, OSError):
            pass
        finally:
            try:
                upstream.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            upstream.close()
            reader.join(5)


class ProxyServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], validate: Validator, web_root: str | None,
                 allowed_origins: list[str] | None = None) -> None:
        self.validate = validate
        self.web_root = web_root if web_root and os.path.isdir(web_root) else None
        self.allowed_origins = list(allowed_origins or [])
        super().__init__(address, ProxyHandler)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="novncproxy", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
