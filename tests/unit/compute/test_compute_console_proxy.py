"""Console tokens and the noVNC websocket proxy, with a stand-in VNC server (an
echo server on loopback) and a minimal websocket client."""
from __future__ import annotations

import base64
import os
import socket
import threading
from typing import Any, Iterator

import pytest

from common.db import engine
from common.db import migration
from compute.cmd import manage
from compute.console import tokens
from compute.console import websocketproxy as wsp


@pytest.fixture()
def store(tmp_path: Any) -> Iterator[tokens.ConsoleTokens]:
    url = "sqlite:///%s/compute.sqlite" % tmp_path
    migration.sync(manage.MIGRATIONS, url)
    db = engine.Database(engine.create_engine(url))
    yield tokens.ConsoleTokens(db)
    db.dispose()


@pytest.fixture()
def vnc() -> Iterator[int]:
    """An echo server standing in for a guest's VNC server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.sendall(b"RFB 003.008\n")

            def echo(c: socket.socket = conn) -> None:
                while data := c.recv(4096):
                    c.sendall(data)
                c.close()
            threading.Thread(target=echo, daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture()
def proxy(store: tokens.ConsoleTokens, tmp_path: Any) -> Iterator[wsp.ProxyServer]:
    web = tmp_path / "novnc"
    web.mkdir()
    (web / "vnc_lite.html").write_text("<html>noVNC</html>")
    server = wsp.ProxyServer(("127.0.0.1", 0), store.validate, str(web), ["console.example"])
    server.start()
    yield server
    server.stop()


def _connect(port: int, path: str, origin: str | None = None) -> tuple[socket.socket, bytes]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port, "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13",
             "Sec-WebSocket-Protocol: binary"]
    if origin:
        lines.append("Origin: " + origin)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    if b" 101 " in head.split(b"\r\n")[0]:
        assert ("Sec-WebSocket-Accept: " + wsp.accept_key(key)).encode() in head
    return sock, head


def _recv_frame(sock: socket.socket) -> tuple[int, bytes]:
    opcode, payload, _fin = wsp.read_frame(sock.makefile("rb"))
    return opcode, payload


def test_frames_round_trip_in_every_length_class() -> None:
    import io
    for size in (0, 5, 125, 126, 65535, 65536):
        data = os.urandom(size)
        for mask in (None, b"\x01\x02\x03\x04"):
            opcode, payload, fin = wsp.read_frame(io.BytesIO(wsp.encode_frame(data, mask=mask)))
            assert (opcode, payload, fin) == (wsp.OP_BINARY, data, True)


def test_tokens_expire_and_are_stored_hashed(store: tokens.ConsoleTokens) -> None:
    now = [1000.0]
    clocked = tokens.ConsoleTokens(store.db, clock=lambda: now[0])
    token = clocked.create("inst-1", "novnc", "10.0.0.5", 5900, None, ttl=60)
    assert clocked.validate(token)["port"] == 5900
    with store.db.reader() as session:
        from compute.db import models
        assert session.query(models.ConsoleAuthToken).one().token_hash != token
    now[0] += 61
    with pytest.raises(tokens.InvalidToken):
        clocked.validate(token)
    with pytest.raises(tokens.InvalidToken):
        clocked.validate("bogus")


def test_proxy_relays_bytes_both_ways_with_a_valid_token(
        proxy: wsp.ProxyServer, store: tokens.ConsoleTokens, vnc: int) -> None:
    token = store.create("inst-1", "novnc", "127.0.0.1", vnc, None, ttl=60)
    sock, head = _connect(proxy.server_address[1], "/websockify?token=" + token,
                          origin="http://127.0.0.1:%d" % proxy.server_address[1])
    assert b" 101 " in head and b"Sec-WebSocket-Protocol: binary" in head
    opcode, payload = _recv_frame(sock)
    assert (opcode, payload) == (wsp.OP_BINARY, b"RFB 003.008\n")
    sock.sendall(wsp.encode_frame(b"hello guest", mask=b"abcd"))
    assert _recv_frame(sock) == (wsp.OP_BINARY, b"hello guest")
    sock.sendall(wsp.encode_frame(b"p", opcode=wsp.OP_PING, mask=b"abcd"))
    assert _recv_frame(sock) == (wsp.OP_PONG, b"p")
    sock.sendall(wsp.encode_frame(b"", opcode=wsp.OP_CLOSE, mask=b"abcd"))
    sock.close()


def test_proxy_refuses_bad_tokens_foreign_origins_and_unreachable_consoles(
        proxy: wsp.ProxyServer, store: tokens.ConsoleTokens, vnc: int) -> None:
    port = proxy.server_address[1]
    sock, head = _connect(port, "/?token=nope")
    assert b" 401 " in head.split(b"\r\n")[0]
    sock.close()
    token = store.create("inst-1", "novnc", "127.0.0.1", vnc, None, ttl=60)
    sock, head = _connect(port, "/?token=" + token, origin="http://evil.example")
    assert b" 403 " in head.split(b"\r\n")[0]
    sock.close()
    sock, head = _connect(port, "/?token=" + token, origin="https://console.example")
    assert b" 101 " in head.split(b"\r\n")[0]
    sock.close()
    sock, head = _connect(port, "/")
    assert b" 400 " in head.split(b"\r\n")[0]
    sock.close()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()
    dead = store.create("inst-2", "novnc", "127.0.0.1", dead_port, None, ttl=60)
    sock, head = _connect(port, "/?token=" + dead)
    assert b" 502 " in head.split(b"\r\n")[0]
    sock.close()


def test_proxy_serves_novnc_pages_and_nothing_outside(proxy: wsp.ProxyServer) -> None:
    import urllib.error
    import urllib.request
    base = "http://127.0.0.1:%d" % proxy.server_address[1]
    with urllib.request.urlopen(base + "/vnc_lite.html?path=%3Ftoken%3Dx") as resp:
        assert resp.read() == b"<html>noVNC</html>"
    for path in ("/../compute.sqlite", "/missing.html"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(base + path)
        assert err.value.code == 404
