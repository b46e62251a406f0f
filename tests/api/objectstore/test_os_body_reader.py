"""objectstore.common.body: upload bodies read behind the real WSGI server (cheroot,
straight from the socket into one buffer) and behind anything else (wsgi.input)."""
from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import socket
from typing import Any, Iterator

import pytest

from common.wsgi.server import Server
from objectstore.common import body

#: Not a multiple of anything the server or the client uses.
CHUNK = 200_000
BIG = os.urandom(1_000_000)


def echo_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers with the md5 and chunk sizes of the body it read (499 when short)."""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    length = None if chunked else int(environ.get("CONTENT_LENGTH") or 0)
    md5 = hashlib.md5(usedforsecurity=False)
    sizes = []
    status = "200 OK"
    try:
        for chunk in body.iter_body(environ, length, CHUNK):
            md5.update(chunk)
            sizes.append(len(chunk))
    except body.BodyShort:
        status = "499 Client Disconnect"
    data = json.dumps({"md5": md5.hexdigest(), "sizes": sizes}).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(data)))])
    return [data]


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server(echo_app, "127.0.0.1", 0, threads=2, name="body-test")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _request(port: int, data: bytes, chunked: bool = False) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if chunked:
            conn.request("PUT", "/o", body=iter([data[i:i + 8192]
                                                 for i in range(0, len(data), 8192)]),
                         encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
        else:
            conn.request("PUT", "/o", body=data)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def _read_answer(reader: Any) -> dict[str, Any]:
    """One JSON answer of a kept connection (http.client closes the stream after one)."""
    status = reader.readline()
    assert status.startswith(b"HTTP/1.1 200"), status
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return dict(json.loads(reader.read(length)))


def test_known_length_comes_in_full_chunks_of_its_own_buffer(server: Server) -> None:
    status, answer = _request(server.port, BIG)
    assert status == 200
    assert answer["md5"] == hashlib.md5(BIG).hexdigest()
    # every chunk as large as asked (the socket reads are joined into the buffer)
    assert answer["sizes"] == [CHUNK] * 5


def test_chunked_body_is_read_through_wsgi_input_in_small_pieces(server: Server) -> None:
    status, answer = _request(server.port, BIG, chunked=True)
    assert status == 200
    assert answer["md5"] == hashlib.md5(BIG).hexdigest()
    assert sum(answer["sizes"]) == len(BIG)
    assert max(answer["sizes"]) <= body.PLAIN_READ


def test_never_reads_into_the_next_request_on_the_connection(server: Server) -> None:
    first, second = os.urandom(300_001), os.urandom(5)
    raw = b""
    for data in (first, second):
        raw += b"PUT /o HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (
            len(data), data)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(raw)  # both requests at once: the second is in the same reads
        reader = sock.makefile("rb")
        answers = [_read_answer(reader), _read_answer(reader)]
    assert answers[0]["md5"] == hashlib.md5(first).hexdigest()
    assert answers[0]["sizes"] == [CHUNK, 100_001]
    assert answers[1]["md5"] == hashlib.md5(second).hexdigest()
    assert answers[1]["sizes"] == [5]


def test_a_body_shorter_than_its_length_is_reported(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"PUT /o HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n"
                     + BIG[:300_000])
        sock.shutdown(socket.SHUT_WR)
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        answer = json.loads(resp.read())
    assert resp.status == 499
    # what came is still handed over, the last piece shorter
    assert answer["sizes"] == [CHUNK, 100_000]


def test_other_inputs_are_read_through_wsgi_input() -> None:
    environ = {"wsgi.input": io.BytesIO(BIG)}
    chunks = [bytes(c) for c in body.iter_body(environ, len(BIG), CHUNK)]
    assert b"".join(chunks) == BIG
    assert max(len(c) for c in chunks) <= body.PLAIN_READ
    environ = {"wsgi.input": io.BytesIO(BIG[:1000])}
    with pytest.raises(body.BodyShort):
        list(body.iter_body(environ, 2000, CHUNK))
    environ = {"wsgi.input": io.BytesIO(BIG[:1000])}
    assert b"".join(body.iter_body(environ, None, CHUNK)) == BIG[:1000]
