"""The client side of the backend protocol: HTTP from the proxy and the daemons to the
storage servers (README.md, "Backend protocol")."""
from __future__ import annotations

import http.client
import json
import socket
from typing import Any, Iterator, Mapping
from urllib.parse import quote, urlencode

#: Seconds to wait for the TCP connection.
CONN_TIMEOUT = 0.5
#: Seconds to wait for each answer (and each chunk) once connected.
NODE_TIMEOUT = 10.0

#: What makes a node count as failed (connection refused, timeouts, resets, bad answers).
NODE_ERRORS = (OSError, socket.timeout, http.client.HTTPException)


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
    """A backend answer: status, headers (case-insensitive lookups) and the body stream."""

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

    def close(self) -> None:
        self.resp.close()
        self.conn.close()


def connect(ip: str, port: int, device: str, partition: int | str, method: str, path: str,
            headers: Mapping[str, str] | None = None, query: Mapping[str, str] | str | None = None,
            conn_timeout: float = CONN_TIMEOUT, node_timeout: float = NODE_TIMEOUT,
            ) -> http.client.HTTPConnection:
    """Open a request to a storage server and send its headers; the caller sends the
    body (``conn.send``) and reads the answer with :func:`get_response`.

    ``path`` is the unquoted ``/a[/c[/o]]`` part after device and partition.

    :raises: one of :data:`NODE_ERRORS` when the node cannot be reached.
    """
    account, container, obj = _split(path)
    url = backend_path(device, partition, account, container, obj)
    if query:
        url += "?" + (query if isinstance(query, str) else urlencode(query))
    conn = http.client.HTTPConnection(ip, int(port), timeout=conn_timeout)
    try:
        conn.connect()
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
    conn = connect(ip, port, device, partition, method, path, all_headers, query,
                   conn_timeout, node_timeout)
    try:
        if body:
            conn.send(body)
    except BaseException:
        conn.close()
        raise
    return get_response(conn)


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
