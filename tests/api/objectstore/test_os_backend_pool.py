"""Kept-alive backend connections (objectstore.common.backend.POOL) against real servers:
one TCP connection serves request after request; a connection whose answer was not read
to the end, or that the server closed, is never used again."""
from __future__ import annotations

import http.client
import socket
import threading
from typing import Any, Iterator

import pytest

from common.wsgi.server import Server
from objectstore.cmd import storage
from objectstore.common import backend


class PeerApp:
    """Answers every request with the client's port (one per TCP connection)."""

    def __init__(self) -> None:
        self.ports: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self.lock:
            self.ports.append(environ["REMOTE_PORT"])
        body = b"x" * 100000 if environ["PATH_INFO"].endswith("/big") else b"ok"
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]


@pytest.fixture
def server() -> Iterator[tuple[Server, PeerApp]]:
    backend.POOL.clear()
    app = PeerApp()
    srv = Server(app, "127.0.0.1", 0, threads=4)
    srv.start()
    try:
        yield srv, app
    finally:
        backend.POOL.clear()
        srv.stop()


def _get(port: int, path: str = "/a/c/o", method: str = "GET", read: bool = True
         ) -> backend.Response:
    resp = backend.request("127.0.0.1", port, "sda", 1, method, path)
    if read:
        resp.read()
    resp.close()
    return resp


def test_requests_share_one_connection(server):
    srv, app = server
    for method in ("GET", "HEAD", "PUT", "GET"):
        assert _get(srv.port, method=method).status == 200
    assert len(set(app.ports)) == 1


def test_an_answer_not_read_to_the_end_closes_its_connection(server):
    srv, app = server
    _get(srv.port, "/a/c/big", read=False)
    _get(srv.port)
    assert len(set(app.ports)) == 2


def _free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


def test_a_connection_the_server_closed_is_not_used():
    """A restarted server (as devstack restarts them, on their fixed ports)."""
    backend.POOL.clear()
    app = PeerApp()
    port = _free_port()
    first = Server(app, "127.0.0.1", port, threads=4)  # not port 0: SO_REUSEADDR
    first.start()
    _get(port)
    first.stop()  # closes its kept-alive connections
    again = Server(app, "127.0.0.1", port, threads=4)
    again.start()
    try:
        assert _get(port).status == 200
        assert len(set(app.ports)) == 2
    finally:
        backend.POOL.clear()
        again.stop()


def test_a_request_on_a_connection_closed_meanwhile_is_sent_again() -> None:
    """The server closes a kept connection just as the request arrives (it looked idle
    and open a moment before): the request goes out again on a new connection."""
    backend.POOL.clear()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    answer = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
    served: list[int] = []

    def serve() -> None:
        first, _ = listener.accept()
        first.recv(65536)
        first.sendall(answer)
        first.recv(65536)  # the second request: hang up without answering
        first.close()
        second, _ = listener.accept()
        second.recv(65536)
        second.sendall(answer)
        served.append(1)
        second.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        assert _get(port, method="HEAD").status == 204
        assert _get(port, method="HEAD").status == 204
        thread.join(5)
        assert served == [1]
    finally:
        backend.POOL.clear()
        listener.close()


def test_storage_servers_keep_many_idle_connections(tmp_path):
    srv = storage.StorageServer(PeerApp(), "127.0.0.1", 0, threads=2)
    assert srv._server.keep_alive_conn_limit == storage.KEEP_ALIVE_LIMIT
    assert storage.KEEP_ALIVE_LIMIT > backend.MAX_PER_SERVER * 2


def test_chunked_uploads_leave_no_kept_connection(tmp_path):
    """cheroot leaves a chunked body's last CRLF unread: a kept connection would hold
    one of the object server's worker threads until the next request came."""
    from tests.fixtures.objectstore import Cluster

    backend.POOL.clear()
    cluster = Cluster(tmp_path)
    try:
        host, port = cluster.serve_proxy()[len("http://"):].split(":")
        cluster.client.put("/v1/AUTH_o/c", status=201)
        object_ports = {p for (kind, _dev), p in cluster.ports.items() if kind == "object"}

        def kept_to_object_servers() -> int:
            return sum(len(conns) for (_ip, p), conns in backend.POOL._idle.items()
                       if p in object_ports)

        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.putrequest("PUT", "/v1/AUTH_o/c/chunked")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        conn.send(b"4\r\ndata\r\n0\r\n\r\n")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 201
        assert kept_to_object_servers() == 0
        conn.request("PUT", "/v1/AUTH_o/c/sized", body=b"data")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 201
        assert kept_to_object_servers() == 3
        conn.close()
    finally:
        backend.POOL.clear()
        cluster.stop()
