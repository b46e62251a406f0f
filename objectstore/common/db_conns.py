"""Open SQLite connections that the account and container servers keep between requests.

Opening a database costs more than most requests on it: ``sqlite3.connect``, the
PRAGMAs, registering ``chexor``, reading the schema, mapping the WAL index; and
closing the last connection checkpoints the WAL (with its fsyncs) and deletes it. A
server therefore hands a request's connection back here (:meth:`ConnectionCache.checkin`)
and the next request on the same database takes it (:meth:`ConnectionCache.checkout`).

A database file can be replaced or removed under a kept connection: replication links a
whole new file into place, the auditor and the servers quarantine a damaged one, the
replicator removes a handoff once pushed. Each kept connection remembers the device and
inode of the file it opened (:func:`file_identity`, taken *before* opening, so a file
replaced meanwhile can only make the identity look stale, never fresh); a checkout
compares them with what the path holds now and closes a connection whose file is not
there any more instead of reusing it. Closing such a connection is harmless: SQLite
neither checkpoints nor deletes the WAL of a database file that was moved or unlinked
(it checks the path's inode on close), so the new file's WAL is left alone.

Connections idle longer than ``max_age`` seconds, or beyond ``size`` in all, are closed
(oldest first), so a removed database does not keep its disk space for long.
"""
from __future__ import annotations

import collections
import dataclasses
import os
import sqlite3
import threading
import time

#: (st_dev, st_ino) of a database file.
Identity = tuple[int, int]


class FileGone(Exception):
    """The database file does not exist."""


def file_identity(path: str) -> Identity:
    """The device and inode of the file at ``path``.

    :raises FileGone: when there is no file there.
    """
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise FileGone(path) from None
    return st.st_dev, st.st_ino


@dataclasses.dataclass
class _Idle:
    path: str
    conn: sqlite3.Connection
    identity: Identity
    since: float


class ConnectionCache:
    """Idle connections by database path (thread-safe; a connection is used by one
    request at a time: checked out, used, checked in)."""

    def __init__(self, size: int = 64, max_age: float = 60.0) -> None:
        self.size = size
        self.max_age = max_age
        self._lock = threading.Lock()
        self._serial = 0
        self._by_path: dict[str, list[int]] = {}
        self._idle: collections.OrderedDict[int, _Idle] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._idle)

    def checkout(self, path: str) -> tuple[sqlite3.Connection, Identity] | None:
        """An idle connection to the database at ``path`` and its identity, or None
        when none is kept (or the kept ones are of a file that is not there any more:
        those are closed).

        :raises FileGone: when the database file does not exist.
        """
        stale: list[sqlite3.Connection] = []
        try:
            identity = file_identity(path)
            with self._lock:
                stale.extend(self._evict(time.monotonic()))
                keys = self._by_path.get(path, [])
                found = None
                while keys and found is None:
                    entry = self._idle.pop(keys.pop())
                    if entry.identity == identity:
                        found = entry.conn, identity
                    else:
                        stale.append(entry.conn)
                if not keys:
                    self._by_path.pop(path, None)
            return found
        except FileGone:
            with self._lock:
                for key in self._by_path.pop(path, []):
                    stale.append(self._idle.pop(key).conn)
            raise
        finally:
            _close_all(stale)

    def checkin(self, path: str, conn: sqlite3.Connection, identity: Identity) -> None:
        """Keep ``conn`` for the next request on ``path`` (closed instead when it is
        inside a transaction, which only a failed rollback leaves behind)."""
        if conn.in_transaction or self.size <= 0:
            _close_all([conn])
            return
        now = time.monotonic()
        with self._lock:
            self._serial += 1
            self._idle[self._serial] = _Idle(path, conn, identity, now)
            self._by_path.setdefault(path, []).append(self._serial)
            expired = self._evict(now)
        _close_all(expired)

    def clear(self) -> None:
        """Close every idle connection."""
        with self._lock:
            conns = [entry.conn for entry in self._idle.values()]
            self._idle.clear()
            self._by_path.clear()
        _close_all(conns)

    def _evict(self, now: float) -> list[sqlite3.Connection]:
        """Take out the connections beyond ``size`` or idle too long (lock held)."""
        out = []
        while self._idle:
            key, oldest = next(iter(self._idle.items()))
            if len(self._idle) <= self.size and now - oldest.since <= self.max_age:
                break
            del self._idle[key]
            keys = self._by_path[oldest.path]
            keys.remove(key)
            if not keys:
                del self._by_path[oldest.path]
            out.append(oldest.conn)
        return out


def _close_all(conns: list[sqlite3.Connection]) -> None:
    for conn in conns:
        try:
            conn.close()
        except sqlite3.Error:
            pass  # a connection we are giving up on anyway
