"""Range header parsing and multipart/byteranges bodies (objectstore.common.ranges)."""
from __future__ import annotations

import pytest

from objectstore.common import ranges

BODY = bytes(range(256)) * 4  # 1024 bytes


@pytest.mark.parametrize("value, expected", [
    ("bytes=0-9", [(0, 10)]),
    ("bytes=10-", [(10, 1024)]),
    ("bytes=-100", [(924, 1024)]),
    ("bytes=-5000", [(0, 1024)]),
    ("bytes=1000-5000", [(1000, 1024)]),
    ("bytes=0-0,5-9", [(0, 1), (5, 10)]),
    ("BYTES = 1-2", [(1, 3)]),
    ("bytes= 0-1 , 3-4 ", [(0, 2), (3, 5)]),
])
def test_satisfiable_ranges(value: str, expected: list[tuple[int, int]]) -> None:
    assert ranges.parse_range(value, len(BODY)) == expected


@pytest.mark.parametrize("value", [
    None, "", "bytes", "bytes=", "items=0-1", "bytes=a-b", "bytes=5-1", "bytes=0-1,,2-3",
    "bytes=--1", "bytes=-", "bytes=1-2-3",
])
def test_invalid_syntax_is_ignored(value: str | None) -> None:
    assert ranges.parse_range(value, 100) is None


def test_unsatisfiable_is_empty() -> None:
    assert ranges.parse_range("bytes=2000-3000", 1024) == []
    assert ranges.parse_range("bytes=-0", 1024) == []
    assert ranges.parse_range("bytes=0-1", 0) == []
    # the satisfiable part of a mixed header is kept
    assert ranges.parse_range("bytes=2000-3000,0-1", 1024) == [(0, 2)]


def test_too_many_or_odd_ranges_serve_everything() -> None:
    many = "bytes=" + ",".join("%d-%d" % (i, i) for i in range(ranges.MAX_RANGES + 1))
    assert ranges.parse_range(many, 1024) is None
    overlapping = "bytes=0-100,1-100,2-100,3-100"
    assert ranges.parse_range(overlapping, 1024) is None
    shuffled = "bytes=" + ",".join("%d-%d" % (i, i) for i in range(40, 0, -4))
    assert ranges.parse_range(shuffled, 1024) is None
    assert ranges.parse_range("bytes=0-1,0-1", 1024) == [(0, 2), (0, 2)]


def test_specs_without_length() -> None:
    assert ranges.parse_range_specs("bytes=-5,3-,1-2") == [(None, 5), (3, None), (1, 2)]
    assert ranges.resolve_specs([(None, 5), (3, None)], 10) == [(5, 10), (3, 10)]


def test_content_range_round_trip() -> None:
    assert ranges.content_range(0, 10, 100) == "bytes 0-9/100"
    assert ranges.unsatisfiable_content_range(7) == "bytes */7"
    assert ranges.parse_content_range("bytes 0-9/100") == (0, 10, 100)
    assert ranges.parse_content_range("bytes 5-5/*") == (5, 6, None)
    for bad in ("bytes 9-0/100", "0-9/100", "bytes */100", ""):
        with pytest.raises(ValueError):
            ranges.parse_content_range(bad)


def test_multipart_body_and_length() -> None:
    wanted = [(0, 10), (500, 600), (1020, 1024)]
    boundary = ranges.make_boundary()
    calls = []

    def read_range(start: int, stop: int) -> list[bytes]:
        calls.append((start, stop))
        return [BODY[start:start + 3], BODY[start + 3:stop]]

    body = b"".join(ranges.iter_multipart_byteranges(
        wanted, len(BODY), "text/plain", boundary, read_range))
    assert len(body) == ranges.multipart_length(wanted, len(BODY), "text/plain", boundary)
    assert calls == wanted
    assert body.startswith(b"--" + boundary.encode() + b"\r\nContent-Type: text/plain\r\n"
                           b"Content-Range: bytes 0-9/1024\r\n\r\n")
    assert body.endswith(b"--" + boundary.encode() + b"--")
    parts = ranges.split_multipart_byteranges(body, boundary)
    assert [(s, e, n) for s, e, n, _ in parts] == [(s, e, 1024) for s, e in wanted]
    assert [data for *_, data in parts] == [BODY[s:e] for s, e in wanted]
    assert ranges.multipart_content_type(boundary) == \
        "multipart/byteranges; boundary=" + boundary


def test_split_rejects_broken_bodies() -> None:
    with pytest.raises(ValueError):
        ranges.split_multipart_byteranges(b"junk", "b")
    with pytest.raises(ValueError):
        ranges.split_multipart_byteranges(b"--b\r\nX: y\r\n\r\ndata\r\n--b--", "b")
