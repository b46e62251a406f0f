"""HTTP byte ranges: parsing ``Range``, and writing single and multipart/byteranges bodies.

The object server, the proxy and the SLO/DLO middleware all answer ranged GETs the
same way (as Swift does), so the rules live here once. Ranges are ``(start, stop)``
pairs with ``stop`` exclusive, like Python slices.

Functions:

- :func:`parse_range(value, length)` -> ``None`` (no header, bad syntax or too
  many/odd ranges: serve the whole body with 200), ``[]`` (nothing satisfiable: 416
  with ``Content-Range: bytes */<length>``) or the satisfiable ranges (206).
- :func:`parse_range_specs(value)` -> the raw ``(first, last)`` specs of a header
  (``first`` None for a suffix ``-N``, ``last`` None for ``N-``), or None when invalid;
  for callers that do not know the length yet (SLO before it reads its manifest).
- :func:`resolve_specs(specs, length)` -> the ranges of :func:`parse_range` from specs.
- :func:`content_range(start, stop, length)` -> ``bytes 0-9/100``;
  :func:`unsatisfiable_content_range(length)` -> ``bytes */100``;
  :func:`parse_content_range(value)` -> ``(start, stop, length)``.
- :func:`make_boundary()`, :func:`multipart_content_type(boundary)`.
- :func:`multipart_length(ranges, length, content_type, boundary)` -> the exact
  byte count of the body :func:`iter_multipart_byteranges` makes (for Content-Length).
- :func:`iter_multipart_byteranges(ranges, length, content_type, boundary, read_range)`
  -> the ``multipart/byteranges`` body; ``read_range(start, stop)`` yields the bytes.
- :func:`split_multipart_byteranges(body, boundary)` -> ``[(start, stop, length, data)]``
  of a whole multipart/byteranges body held in memory (tests, small clients).
"""
from __future__ import annotations

import re
import uuid
from typing import Callable, Iterable, Iterator

Range = tuple[int, int]
Spec = tuple[int | None, int | None]

#: More ranges than this in one header and the header is ignored (a cheap DoS guard).
MAX_RANGES = 50
#: More overlapping pairs than this and the header is ignored.
MAX_OVERLAPS = 2
#: More ranges out of ascending order than this and the header is ignored.
MAX_NONASCENDING = 8

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


def parse_range_specs(value: str | None) -> list[Spec] | None:
    """The ``(first, last)`` pairs of a ``Range: bytes=…`` header, or None when the header
    is absent or malformed (a malformed Range is ignored, not an error, per RFC 7233)."""
    if not value:
        return None
    units, sep, rest = value.partition("=")
    if not sep or units.strip().lower() != "bytes":
        return None
    specs: list[Spec] = []
    for part in rest.split(","):
        spec = _parse_spec(part.strip())
        if spec is None:
            return None
        specs.append(spec)
    if len(specs) > MAX_RANGES:
        return None
    return specs


def _parse_spec(text: str) -> Spec | None:
    """One ``a-b``, ``a-`` or ``-n``; None when it is not one of those."""
    first, sep, last = text.partition("-")
    first, last = first.strip(), last.strip()
    if not sep or (first and not first.isdigit()) or (last and not last.isdigit()):
        return None
    if not first and not last:
        return None
    if not first:
        return (None, int(last))
    if not last:
        return (int(first), None)
    if int(first) > int(last):
        return None
    return (int(first), int(last))


def resolve_specs(specs: list[Spec], length: int) -> list[Range] | None:
    """The satisfiable ``(start, stop)`` ranges of ``specs`` for a body of ``length``
    bytes (``[]`` when none is), or None when the set is too odd to honour."""
    ranges: list[Range] = []
    for first, last in specs:
        if first is None:
            assert last is not None
            if last == 0:
                continue  # "-0" asks for nothing
            ranges.append((max(0, length - last), length))
        elif first < length:
            stop = length if last is None else min(last + 1, length)
            ranges.append((first, stop))
    if _too_odd(ranges):
        return None
    return ranges


def _too_odd(ranges: list[Range]) -> bool:
    """Many overlapping or shuffled ranges make a body far larger than the object:
    such requests get the whole body instead (as Swift does)."""
    nonascending = sum(1 for a, b in zip(ranges, ranges[1:], strict=False) if b[0] < a[0])
    if nonascending > MAX_NONASCENDING:
        return True
    ordered = sorted(ranges)
    overlaps = 0
    for i, (_start, stop) in enumerate(ordered):
        for other_start, _other_stop in ordered[i + 1:]:
            if other_start >= stop:
                break
            overlaps += 1
    return overlaps > MAX_OVERLAPS


def parse_range(value: str | None, length: int) -> list[Range] | None:
    """``Range`` header -> None (serve all, 200), ``[]`` (416) or ranges (206)."""
    specs = parse_range_specs(value)
    if specs is None:
        return None
    return resolve_specs(specs, length)


def content_range(start: int, stop: int, length: int) -> str:
    """The Content-Range value of one range (``stop`` exclusive)."""
    return "bytes %d-%d/%d" % (start, stop - 1, length)


def unsatisfiable_content_range(length: int) -> str:
    """The Content-Range value of a 416 answer."""
    return "bytes */%d" % length


def parse_content_range(value: str) -> tuple[int, int, int | None]:
    """``bytes 0-9/100`` -> ``(0, 10, 100)`` (length None for ``*``).

    :raises ValueError: when the value is not a byte Content-Range.
    """
    match = _CONTENT_RANGE.match(value or "")
    if not match:
        raise ValueError("invalid Content-Range: %r" % value)
    start, last = int(match.group(1)), int(match.group(2))
    if last < start:
        raise ValueError("invalid Content-Range: %r" % value)
    length = None if match.group(3) == "*" else int(match.group(3))
    return start, last + 1, length


def make_boundary() -> str:
    """A fresh multipart boundary (hex, never found in a part header)."""
    return uuid.uuid4().hex


def multipart_content_type(boundary: str) -> str:
    return "multipart/byteranges; boundary=%s" % boundary


def _part_header(start: int, stop: int, length: int, content_type: str, boundary: str) -> bytes:
    return ("--%s\r\nContent-Type: %s\r\nContent-Range: %s\r\n\r\n" % (
        boundary, content_type, content_range(start, stop, length))).encode("latin-1")


def _closing(boundary: str) -> bytes:
    return ("--%s--" % boundary).encode("latin-1")


def multipart_length(ranges: list[Range], length: int, content_type: str,
                     boundary: str) -> int:
    """Bytes in the body :func:`iter_multipart_byteranges` makes for the same arguments."""
    total = len(_closing(boundary))
    for start, stop in ranges:
        total += len(_part_header(start, stop, length, content_type, boundary))
        total += (stop - start) + 2
    return total


def iter_multipart_byteranges(ranges: list[Range], length: int, content_type: str,
                              boundary: str,
                              read_range: Callable[[int, int], Iterable[bytes]]
                              ) -> Iterator[bytes]:
    """The ``multipart/byteranges`` body of ``ranges``; each part's bytes come from
    ``read_range(start, stop)``, called lazily, one part after the other."""
    for start, stop in ranges:
        yield _part_header(start, stop, length, content_type, boundary)
        yield from read_range(start, stop)
        yield b"\r\n"
    yield _closing(boundary)


def split_multipart_byteranges(body: bytes, boundary: str
                               ) -> list[tuple[int, int, int | None, bytes]]:
    """Parse a whole multipart/byteranges body: ``[(start, stop, length, data)]``.

    :raises ValueError: when a part has no Content-Range or the framing is broken.
    """
    delimiter = ("--%s" % boundary).encode("latin-1")
    parts = body.split(b"\r\n" + delimiter)
    first = parts[0]
    if not first.startswith(delimiter):
        raise ValueError("body does not start with the boundary")
    parts[0] = first[len(delimiter):]
    if not parts[-1].startswith(b"--"):
        raise ValueError("body does not end with the closing boundary")
    result = []
    for part in parts[:-1]:
        head, sep, data = part.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("part without header end")
        content_range_value = None
        for line in head.split(b"\r\n"):
            name, _, val = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-range":
                content_range_value = val.strip()
        if content_range_value is None:
            raise ValueError("part without Content-Range")
        start, stop, length = parse_content_range(content_range_value)
        result.append((start, stop, length, data))
    return result
