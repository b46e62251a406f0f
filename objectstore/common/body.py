"""Reading an upload's body in large chunks with as few copies as possible.

The proxy (from the client) and the object server (from the proxy) read every byte
of an upload. Through the WSGI server's ``wsgi.input`` (cheroot's pure-Python
buffered reader) each chunk is received into a fresh buffer, copied out of it, joined
and sliced again: about 0.8 ms of CPU per MB per read on our machines, against 0.15
ms for a ``recv_into`` a buffer that is reused (``tools/bench/objectstore_bench.py``:
a 3-replica PUT reads every byte four times). So, for a body of known length served
by cheroot, :func:`iter_body` first takes what cheroot has already buffered and then
receives straight from the connection's socket into one buffer of its own, keeping
cheroot's count of the body's unread bytes right (it reads away what an application
left unread before the next request on the connection). Other inputs (chunked
bodies, other WSGI servers, in-process tests) are read through ``wsgi.input`` as
usual.

Each chunk :func:`iter_body` yields is a view of that one buffer: the caller must be
done with it (hashed, written, sent) before it asks for the next one.
"""
from __future__ import annotations

from typing import Any, Iterator

#: Bytes asked of ``wsgi.input`` at a time where there is no fast path. cheroot's
#: chunked reader concatenates the client's chunks into each read (a copy per
#: client chunk of everything read so far), so large reads of a body sent in small
#: chunks cost far more than several small reads.
PLAIN_READ = 65536


class BodyShort(Exception):
    """The client closed the connection before the whole body (Content-Length) came."""


def _fast_source(stream: Any) -> tuple[Any, Any] | None:
    """(cheroot's buffered reader, its raw socket reader) behind ``stream`` when
    ``stream`` is cheroot's input of a body of known length, else None."""
    reader = getattr(stream, "rfile", None)
    if reader is None or not isinstance(getattr(stream, "remaining", None), int):
        return None
    raw = getattr(reader, "raw", None)
    if not (hasattr(reader, "has_data") and hasattr(reader, "read1")
            and hasattr(raw, "readinto")):
        return None
    return reader, raw


def iter_body(environ: dict[str, Any], length: int | None, chunk_size: int
              ) -> Iterator[memoryview | bytes]:
    """The request body in chunks of up to ``chunk_size`` bytes: ``length`` bytes, or
    to the end of a chunked body when ``length`` is None.

    :raises BodyShort: the body ended before ``length`` bytes.
    :raises OSError: reading failed (``TimeoutError`` when the client went quiet).
    :raises ValueError: the WSGI server found the body malformed (chunked encoding).
    """
    stream = environ["wsgi.input"]
    source = _fast_source(stream) if length is not None else None
    if source is None or length is None:
        yield from _plain(stream, length, chunk_size)
        return
    reader, raw = source
    # Never past what cheroot counts as this request's body: the bytes after it are
    # the next request's on a kept connection.
    available = stream.remaining
    remaining = min(length, available)
    buf = memoryview(bytearray(min(chunk_size, max(remaining, 1))))
    while remaining > 0:
        want = min(len(buf), remaining)
        got = _fill(reader, raw, buf, want)
        stream.remaining -= got
        remaining -= got
        if got:
            yield buf[:got]
        if got < want:
            raise BodyShort()
    if available < length:
        raise BodyShort()


def _fill(reader: Any, raw: Any, buf: memoryview, want: int) -> int:
    """Fill ``buf[:want]`` (first from the reader's own buffer, then from the
    socket); fewer bytes only at the end of the stream."""
    got = 0
    while got < want and reader.has_data():
        data = reader.read1(want - got)
        if not data:
            break
        buf[got:got + len(data)] = data
        got += len(data)
    while got < want:
        count = raw.readinto(buf[got:want])
        if not count:
            break
        got += count
    return got


def _plain(stream: Any, length: int | None, chunk_size: int) -> Iterator[bytes]:
    size = min(chunk_size, PLAIN_READ)
    remaining = length
    while remaining is None or remaining > 0:
        chunk = stream.read(size if remaining is None else min(size, remaining))
        if not chunk:
            if remaining is not None:
                raise BodyShort()
            return
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk
