"""What ``stratus objectstore`` needs besides HTTP: sizes, segment plans, names and
local paths, request bodies read from file ranges, and a thread-safe progress bar.

Kept apart from :mod:`objectstore.cli` so that the pure parts are easy to test.
"""
from __future__ import annotations

import hashlib
import os
import re
import sys
import threading
import time
from typing import BinaryIO, Iterator, NamedTuple, TextIO

CHUNK = 1 << 20
#: Swift's default largest single object (``[constraints] max_file_size``).
MAX_SINGLE_OBJECT = 5 * 1024 ** 3
#: The segment size used when a file is too large for one object and none was given.
AUTO_SEGMENT_SIZE = 1024 ** 3
#: Swift's default most segments in one SLO manifest.
MAX_SEGMENTS = 1000

_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}
_SIZE = re.compile(r"^\s*(\d+)\s*(?:([KMGT])(?:I?B)?|B)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes from ``1048576``, ``512K``, ``100M``, ``2G``, ``100MiB`` (units of 1024).

    :raises ValueError: with a message saying what is accepted.
    """
    match = _SIZE.match(text)
    if not match:
        raise ValueError("%r is not a size: write bytes, or a number with K, M, G or T "
                         "(powers of 1024), e.g. 100M" % text)
    value = int(match.group(1)) * _UNITS[(match.group(2) or "").upper()]
    if value <= 0:
        raise ValueError("a size must be more than 0 bytes (got %r)" % text)
    return value


class Segment(NamedTuple):
    """One part of a file: its number (from 0), where it starts and how long it is."""

    number: int
    offset: int
    length: int


def plan_segments(size: int, segment_size: int) -> list[Segment]:
    """The segments of a file of ``size`` bytes cut every ``segment_size`` bytes."""
    if segment_size <= 0:
        raise ValueError("segment size must be positive")
    return [Segment(i, offset, min(segment_size, size - offset))
            for i, offset in enumerate(range(0, size, segment_size))]


def segment_size_for(size: int, requested: int | None) -> int | None:
    """The segment size to use for a file of ``size`` bytes, or None for one object:
    ``requested`` when the file is larger than it; a default when the file is too
    large for one object anyway."""
    if requested is not None:
        return requested if size > requested else None
    return AUTO_SEGMENT_SIZE if size > MAX_SINGLE_OBJECT else None


def segments_container(container: str) -> str:
    """Where the segments of ``container``'s large objects go."""
    return container + "_segments"


def segment_prefix(name: str, mtime: float, size: int, segment_size: int) -> str:
    """The common start of one upload's segment names: a new upload of a changed
    file gets new names, so the old manifest stays whole until it is replaced."""
    return "%s/slo/%.6f/%d/%d/" % (name, mtime, size, segment_size)


def segment_name(prefix: str, number: int) -> str:
    return "%s%08d" % (prefix, number)


class UploadItem(NamedTuple):
    """A local file and the object name it gets."""

    path: str
    name: str
    size: int
    mtime: float


def collect_uploads(paths: list[str], object_name: str | None = None) -> list[UploadItem]:
    """The files to upload for the command line's ``paths``.

    A file is named by its base name (or ``object_name``); a directory's files,
    recursively, by their path relative to the directory's parent (``photos/a.jpg``
    for ``~/photos``). Empty directories are skipped.

    :raises ValueError: for a missing path, or ``object_name`` with several files.
    """
    items: list[UploadItem] = []
    for path in paths:
        if os.path.isdir(path):
            base = os.path.dirname(os.path.abspath(path))
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for fname in sorted(files):
                    full = os.path.join(root, fname)
                    rel = os.path.relpath(os.path.abspath(full), base)
                    items.append(_item(full, rel.replace(os.sep, "/")))
        elif os.path.isfile(path):
            items.append(_item(path, os.path.basename(path)))
        else:
            raise ValueError("%s is not a file or directory" % path)
    if object_name is not None:
        if len(items) != 1:
            raise ValueError("--object-name names one object, but %d files were given"
                             % len(items))
        items[0] = items[0]._replace(name=object_name)
    return items


def _item(path: str, name: str) -> UploadItem:
    st = os.stat(path)
    return UploadItem(path, name, st.st_size, st.st_mtime)


def local_path(directory: str, name: str) -> str:
    """Where object ``name`` is saved under ``directory``.

    :raises ValueError: when the name would leave the directory (``..``, absolute).
    """
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ValueError("object name %r cannot be a local file name under %s: download it "
                         "alone with -o PATH" % (name, directory))
    return os.path.join(directory, *parts)


def mib(n: float) -> str:
    return "%.1f MiB" % (n / 1048576.0)


class Progress:
    """A one-line progress bar on ``stream`` that threads may update together;
    silent unless the stream is a terminal."""

    def __init__(self, label: str, total: int | None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.label = label
        self.total = total
        self.done = 0
        self.start = time.monotonic()
        self._drawn = 0.0
        self._lock = threading.Lock()

    def update(self, n: int) -> None:
        with self._lock:
            self.done += n
            now = time.monotonic()
            if self.enabled and now - self._drawn >= 0.1:
                self._drawn = now
                self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.done / max(now - self.start, 1e-6)
        if self.total:
            frac = min(self.done / self.total, 1.0)
            text = "%s [%-30s] %3d%% %s/%s %s/s" % (
                self.label, "#" * int(frac * 30), frac * 100, mib(self.done),
                mib(self.total), mib(rate))
        else:
            text = "%s %s %s/s" % (self.label, mib(self.done), mib(rate))
        self.stream.write("\r" + text + "\x1b[K")
        self.stream.flush()

    def finish(self) -> None:
        with self._lock:
            if self.enabled:
                self._draw(time.monotonic())
                self.stream.write("\n")
                self.stream.flush()


class RangeBody:
    """``length`` bytes of a file from ``offset``, as a request body.

    Iterable (requests streams it) and sized (sent with a Content-Length, not
    chunked); computes the md5 of what it sends, for the ETag check. Each body
    opens the file itself, so segments can be sent from several threads.
    """

    def __init__(self, path: str, offset: int, length: int, progress: Progress) -> None:
        self.path = path
        self.offset = offset
        self.length = length
        self.progress = progress
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sent = 0

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[bytes]:
        # A retried request sends the body again from the start.
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sent = 0
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            yield from self._chunks(handle)

    def _chunks(self, handle: BinaryIO) -> Iterator[bytes]:
        left = self.length
        while left > 0:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            self.md5.update(chunk)
            self.sent += len(chunk)
            self.progress.update(len(chunk))
            yield chunk
