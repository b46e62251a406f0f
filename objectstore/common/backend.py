"""The client side of the backend protocol: HTTP from the proxy and the daemons to the
storage servers (README.md, "Backend protocol").

Connections are kept alive between requests (:data:`POOL`): a new TCP connection per
request cost the proxy, the object servers (container updates) and the servers that
accept them more CPU than a small object's whole write. A connection goes back to the
pool only when its answer was read to the end and the server did not say it would
close it; a pooled one is reused only when it has been idle for less than
:data:`MAX_IDLE` seconds (well below the servers' own keep-alive timeout) and
nothing is readable on it (a server that restarted or closed it has sent EOF).
"""
from __future__ import annotations

import collections
import http.client
import json
import select
import socket
import threading
import time
from typing import Any, Iterator, Mapping
from urllib.parse import quote, urlencode

#: Seconds to wait for the TCP connection.
CONN_TIMEOUT = 0.5
#: Seconds to wait for each answer (and each chunk) once connected.
NODE_TIMEOUT = 10.0

#: What makes a node count as failed (connection refused, timeouts, resets, bad answers).
NODE_ERRORS = (OSError, socket.timeout, http.client.HTTPException)
#: How a kept connection that the server closed fails a request sent on it.
_CLOSED_UNANSWERED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
#: Seconds an idle connection stays in the pool. Short: a host that vanished without
#: closing its connections (power loss) leaves kept ones that look open, and a request
#: on one waits for node_timeout where a new connection fails after conn_timeout; under
#: load connections are reused within milliseconds anyway. (The storage servers close
#: idle ones after 60 seconds.)
MAX_IDLE = 5.0
#: Idle connections kept per server (ip, port).
MAX_PER_SERVER = 64


class ConnectionPool:
    """Idle keep-alive connections to the storage servers, by ``(ip, port)``."""

    def __init__(self, max_per_server: int = MAX_PER_SERVER, max_idle: float = MAX_IDLE
                 ) -> None:
        self.max_per_server = max_per_server
        self.max_idle = max_idle
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, int],
                         collections.deque[tuple[float, http.client.HTTPConnection]]] = {}

    def get(self, ip: str, port: int) -> http.client.HTTPConnection | None:
        """A usable idle connection to ``ip:port``, or None (stale ones are closed)."""
        now = time.monotonic()
        while True:
            with self._lock:
                idle = self._idle.get((ip, port))
                if not idle:
                    return None
                since, conn = idle.pop()
            if now - since < self.max_idle and _idle_and_open(conn):
                return conn
            conn.close()

    def put(self, ip: str, port: int, conn: http.client.HTTPConnection) -> None:
        """Keep ``conn`` (its last answer read to the end) for the next request."""
        now = time.monotonic()
        dropped = []
        with self._lock:
            idle = self._idle.setdefault((ip, port), collections.deque())
            while idle and (len(idle) >= self.max_per_server
                            or now - idle[0][0] >= self.max_idle):
                dropped.append(idle.popleft()[1])
            if self.max_per_server > 0:
                idle.append((now, conn))
            else:
                dropped.append(conn)
        for old in dropped:
            old.close()

    def clear(self) -> None:
        """Close every idle connection."""
        with self._lock:
            conns = [conn for idle in self._idle.values() for _since, conn in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()


def _idle_and_open(conn: http.client.HTTPConnection) -> bool:
    """Whether nothing is readable on an idle connection: EOF (the server closed it)
    or stray bytes make it unusable."""
    sock = conn.sock
    if sock is None:
        return False
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return not poller.poll(0)
    except (OSError, ValueError):
        return False


#: The connections of this process.
POOL = ConnectionPool()


def backend_path(device: str, partition: int | str, account: str | None = None,
                 container: str | None = None, obj: str | None = None) -> str:
    """``/<device>/<partition>[/a[/c[/o]]]``, quoted."""
    def q(part: str, safe: str = "") -> str:
        return quote(part.encode("utf-8", "surrogateescape"), safe=safe)

    path = "/" + q(device) + "/" + str(partition)
    for part in (account, container):
        if part is not None:
            path += "/" + q(part)
    if obj is not None:
        path += "/" + q(obj, safe="/")
    return path


class Response:
    """A backend answer: status, headers (case-insensitive lookups) and the body stream.

    :meth:`close` hands the connection back to :data:`POOL` when the answer was read to
    the end (else closes it); close every answer.
    """

    def __init__(self, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse) -> None:
        self.conn = conn
        self.resp = resp
        self.status = resp.status
        self.reason = resp.reason
        self.headers = resp.headers

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self.resp.getheader(name, default)

    def read(self, amt: int | None = None) -> bytes:
        return self.resp.read(amt)

    def iter_body(self, chunk_size: int = 65536) -> Iterator[bytes]:
        try:
            while True:
                chunk = self.resp.read(chunk_size)
                if not chunk:
                    return
                yield chunk
        finally:
            self.close()

    def json(self) -> Any:
        return json.loads(self.read() or b"null")

    def close(self, reuse: bool = True) -> None:
        """Done with the answer; the connection goes back to the pool (unless not
        ``reuse``) when the answer was read to the end."""
        resp, conn = self.resp, self.conn
        if resp.length == 0 and not resp.isclosed():
            resp.read()  # HEAD, 204, 304 or an empty body: nothing left to read
        reusable = reuse and resp.isclosed() and not resp.will_close and \
            conn.sock is not None
        resp.close()
        if reusable:
            POOL.put(conn.host, conn.port, conn)
        else:
            conn.close()


def connect(ip: str, port: int, device: str, partition: int | str, method: str, path: str,
            headers: Mapping[str, str] | None = None, query: Mapping[str, str] | str | None = None,
            conn_timeout: float = CONN_TIMEOUT, node_timeout: float = NODE_TIMEOUT,
            ) -> http.client.HTTPConnection:
    """Open a request to a storage server and send its headers; the caller sends the
    body (``conn.send``) and reads the answer with :func:`get_response`.

    ``path`` is the unquoted ``/a[/c[/o]]`` part after device and partition.

    :raises: one of :data:`NODE_ERRORS` when the node cannot be reached.
    """
    return _open(ip, int(port), method, _url(device, partition, path, query), headers,
                 conn_timeout, node_timeout)[0]


def connect_kept(ip: str, port: int, device: str, partition: int | str, method: str,
                 path: str, headers: Mapping[str, str] | None = None,
                 node_timeout: float = NODE_TIMEOUT) -> http.client.HTTPConnection | None:
    """:func:`connect` on a kept connection only (None when there is none that works):
    it cannot block on connecting, so callers need no thread for it."""
    kept = POOL.get(_pool_host(ip), int(port))
    if kept is None:
        return None
    try:
        return _send_headers(kept, node_timeout, method, _url(device, partition, path, None),
                             headers)
    except NODE_ERRORS:
        return None


def _pool_host(ip: str) -> str:
    """``ip`` as HTTPConnection keeps it (without IPv6 brackets): the pool's key."""
    return ip[1:-1] if ip.startswith("[") and ip.endswith("]") else ip


def _url(device: str, partition: int | str, path: str,
         query: Mapping[str, str] | str | None) -> str:
    url = backend_path(device, partition, *_split(path))
    if query:
        url += "?" + (query if isinstance(query, str) else urlencode(query))
    return url


def _open(ip: str, port: int, method: str, url: str, headers: Mapping[str, str] | None,
          conn_timeout: float, node_timeout: float, pooled: bool = True,
          ) -> tuple[http.client.HTTPConnection, bool]:
    """:func:`connect` with the quoted ``url``; also whether the connection was a kept
    one (which the server may have closed just now)."""
    kept = POOL.get(_pool_host(ip), port) if pooled else None
    if kept is not None:
        try:
            return _send_headers(kept, node_timeout, method, url, headers), True
        except NODE_ERRORS:
            pass  # closed under us: nothing was sent that counts, use a new connection
    conn = http.client.HTTPConnection(ip, port, timeout=conn_timeout)
    try:
        conn.connect()
    except BaseException:
        conn.close()
        raise
    return _send_headers(conn, node_timeout, method, url, headers), False


def _send_headers(conn: http.client.HTTPConnection, node_timeout: float, method: str,
                  url: str, headers: Mapping[str, str] | None) -> http.client.HTTPConnection:
    """Send the request line and headers on a connected ``conn`` (closed on failure)."""
    try:
        assert conn.sock is not None
        conn.sock.settimeout(node_timeout)
        conn.putrequest(method, url, skip_host=False, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, str(value))
        conn.endheaders()
    except BaseException:
        conn.close()
        raise
    return conn


def get_response(conn: http.client.HTTPConnection) -> Response:
    try:
        return Response(conn, conn.getresponse())
    except BaseException:
        conn.close()
        raise


def request(ip: str, port: int, device: str, partition: int | str, method: str, path: str,
            headers: Mapping[str, str] | None = None, body: bytes | None = None,
            query: Mapping[str, str] | str | None = None, conn_timeout: float = CONN_TIMEOUT,
            node_timeout: float = NODE_TIMEOUT) -> Response:
    """One whole request with an in-memory body; the answer's body is not read yet."""
    all_headers = dict(headers or {})
    if body is not None:
        all_headers["Content-Length"] = str(len(body))
    elif method in ("PUT", "POST", "REPLICATE"):
        all_headers.setdefault("Content-Length", "0")
    url = _url(device, partition, path, query)
    pooled = True
    while True:
        conn, kept = _open(ip, int(port), method, url, all_headers, conn_timeout,
                           node_timeout, pooled)
        try:
            if body:
                conn.send(body)
            return Response(conn, conn.getresponse())
        except _CLOSED_UNANSWERED:
            conn.close()
            if not kept:
                raise
            # A kept connection the server closed just before our request came: the
            # request was not read (servers close only idle connections); send it
            # again on a new one.
            pooled = False
        except BaseException:
            conn.close()
            raise


def node_request(node: Mapping[str, Any], partition: int | str, method: str, path: str,
                 **kwargs: Any) -> Response:
    """:func:`request` to a ring device dict (``ip``, ``port``, ``device``)."""
    return request(node["ip"], node["port"], node["device"], partition, method, path, **kwargs)


def _split(path: str) -> tuple[str | None, str | None, str | None]:
    """``/a/c/o/with/slashes`` -> (a, c, o/with/slashes); ``""`` -> all None."""
    if not path or path == "/":
        return None, None, None
    parts = path.lstrip("/").split("/", 2)
    parts += [None] * (3 - len(parts))  # type: ignore[list-item]
    return parts[0], parts[1], parts[2]
