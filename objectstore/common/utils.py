"""Small pieces every object store part shares: timestamps, path hashing, path splitting."""
from __future__ import annotations

import functools
import hashlib
import time
from typing import Any

#: Set once per process from [objectstore] hash_path_prefix/suffix (set_hash_path_salt).
_HASH_PREFIX = b""
_HASH_SUFFIX = b""


def set_hash_path_salt(prefix: str, suffix: str) -> None:
    """Every server of one cluster must use the same salt, or they place data differently."""
    global _HASH_PREFIX, _HASH_SUFFIX
    _HASH_PREFIX = prefix.encode()
    _HASH_SUFFIX = suffix.encode()


def hash_path(account: str, container: str | None = None, obj: str | None = None,
              raw_digest: bool = False) -> Any:
    """The md5 of ``/account[/container[/object]]`` with the cluster's salt (hex, or raw)."""
    if obj is not None and container is None:
        raise ValueError("an object needs a container")
    parts = [account] + [p for p in (container, obj) if p is not None]
    path = ("/" + "/".join(parts)).encode("utf-8", "surrogateescape")
    digest = hashlib.md5(_HASH_PREFIX + path + _HASH_SUFFIX, usedforsecurity=False)
    return digest.digest() if raw_digest else digest.hexdigest()


@functools.total_ordering
class Timestamp:
    """A point in time with 10 µs resolution and an optional offset, as Swift orders writes.

    ``normal`` is ``'%016.05f'`` (what clients see in X-Timestamp); ``internal`` adds
    ``_<16 hex>`` when the offset is not zero (used for data written at the same
    instant, e.g. a replicated POST).
    """

    __slots__ = ("raw", "offset")
    _UNITS = 100000

    def __init__(self, value: Any, offset: int = 0) -> None:
        if isinstance(value, Timestamp):
            self.raw: int = value.raw
            self.offset: int = value.offset + offset
            return
        if isinstance(value, bytes):
            value = value.decode("ascii")
        if isinstance(value, str):
            base, _, off = value.partition("_")
            offset += int(off, 16) if off else 0
            value = float(base)
        self.raw = int(round(float(value) * self._UNITS))
        self.offset = offset
        if self.raw < 0:
            raise ValueError("timestamp cannot be negative")
        if self.raw >= 10 ** 15:
            raise ValueError("timestamp too large")

    @classmethod
    def now(cls) -> Timestamp:
        return cls(time.time())

    @property
    def normal(self) -> str:
        return "%016.05f" % (self.raw / float(self._UNITS))

    @property
    def internal(self) -> str:
        return "%s_%016x" % (self.normal, self.offset) if self.offset else self.normal

    def __float__(self) -> float:
        return self.raw / float(self._UNITS)

    def __int__(self) -> int:
        return self.raw // self._UNITS

    def __str__(self) -> str:
        return self.internal

    def __repr__(self) -> str:
        return "Timestamp(%r)" % self.internal

    def _key(self) -> tuple[int, int]:
        return (self.raw, self.offset)

    def __eq__(self, other: object) -> bool:
        if other is None:
            return False
        if not isinstance(other, Timestamp):
            try:
                other = Timestamp(other)  # type: ignore[arg-type]
            except (ValueError, TypeError):
                return NotImplemented
        return self._key() == other._key()

    def __lt__(self, other: object) -> bool:
        if other is None:
            return False
        if not isinstance(other, Timestamp):
            other = Timestamp(other)
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def isoformat(self) -> str:
        """``2026-12-06T05:56:09.123450`` (UTC), as container listings show last_modified."""
        seconds, micro = divmod(self.raw * 10, 1000000)
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".%06d" % micro


def split_path(path: str, minsegs: int = 1, maxsegs: int | None = None,
               rest_with_last: bool = False) -> list[str | None]:
    """Split ``/a/b/c`` into segments, checking their number.

    With ``rest_with_last`` the last segment keeps any further slashes (object
    names may contain ``/``). Missing optional segments are None.

    :raises ValueError: when the path has too few or too many segments, or an
        empty segment where a value is required.
    """
    maxsegs = maxsegs or minsegs
    if not path.startswith("/"):
        raise ValueError("path must start with /")
    if rest_with_last:
        segs = path[1:].split("/", maxsegs - 1)
    else:
        segs = path[1:].split("/")
        if len(segs) > minsegs and segs[-1] == "":
            segs.pop()  # one trailing slash
        if "" in segs[minsegs:]:
            raise ValueError("invalid path: %s" % path)
    if len(segs) < minsegs or len(segs) > maxsegs or "" in segs[:minsegs]:
        raise ValueError("invalid path: %s" % path)
    result: list[str | None] = [s or None for s in segs]
    result.extend([None] * (maxsegs - len(result)))
    return result


def normalize_etag(value: str | None) -> str | None:
    """``"abc"`` -> ``abc`` (clients send quoted and unquoted ETags)."""
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')
