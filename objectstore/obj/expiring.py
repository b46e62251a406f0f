"""The per-device index of objects that carry ``X-Delete-At``.

``<device>/expiring/expiring.db`` (SQLite, WAL) has one row per object that should be
deleted at some time: ``(delete_at, account, container, obj, x_timestamp)``. The
object server keeps it current (:func:`set_entry` after a PUT/POST, :func:`remove`
with no ``delete_at`` after a DELETE or an overwrite without X-Delete-At); the expirer
asks :func:`due` for what is due, sends ``DELETE`` with ``X-If-Delete-At: <delete_at>``
and then calls :func:`remove` with that ``delete_at``.

Each call opens its own short connection and transaction, so threads and processes
can share the file.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
from typing import Iterator, NamedTuple

DB_DIR = "expiring"
DB_NAME = "expiring.db"
_BUSY_TIMEOUT = 15.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS expiring (
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    obj TEXT NOT NULL,
    delete_at INTEGER NOT NULL,
    x_timestamp TEXT NOT NULL,
    PRIMARY KEY (account, container, obj)
);
CREATE INDEX IF NOT EXISTS ix_expiring_delete_at ON expiring (delete_at);
"""


class Entry(NamedTuple):
    """One object due for deletion."""

    delete_at: int
    account: str
    container: str
    obj: str
    x_timestamp: str


def db_path(device_path: str) -> str:
    return os.path.join(device_path, DB_DIR, DB_NAME)


@contextlib.contextmanager
def _connect(device_path: str, create: bool) -> Iterator[sqlite3.Connection | None]:
    path = db_path(device_path)
    if not os.path.exists(path):
        if not create:
            yield None
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
    conn = sqlite3.connect(path, timeout=_BUSY_TIMEOUT, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        yield conn
    finally:
        conn.close()


def set_entry(device_path: str, account: str, container: str, obj: str,
              delete_at: int | None, x_timestamp: str) -> None:
    """Record the object's current X-Delete-At (None: it has none any more)."""
    if delete_at is None:
        remove(device_path, account, container, obj)
        return
    with _connect(device_path, create=True) as conn:
        assert conn is not None
        conn.execute(
            "INSERT INTO expiring (account, container, obj, delete_at, x_timestamp) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (account, container, obj) DO UPDATE SET "
            "delete_at = excluded.delete_at, x_timestamp = excluded.x_timestamp "
            "WHERE excluded.x_timestamp >= expiring.x_timestamp",
            (account, container, obj, int(delete_at), x_timestamp))


def remove(device_path: str, account: str, container: str, obj: str,
           delete_at: int | None = None) -> None:
    """Drop the object's row (only if its delete_at is ``delete_at``, when given: the
    expirer must not drop a row that a later POST moved)."""
    with _connect(device_path, create=False) as conn:
        if conn is None:
            return
        if delete_at is None:
            conn.execute("DELETE FROM expiring WHERE account = ? AND container = ? AND obj = ?",
                         (account, container, obj))
        else:
            conn.execute("DELETE FROM expiring WHERE account = ? AND container = ? AND obj = ? "
                         "AND delete_at = ?", (account, container, obj, int(delete_at)))


def due(device_path: str, now: float, limit: int = 1000) -> list[Entry]:
    """The objects whose delete_at is at or before ``now``, oldest first."""
    with _connect(device_path, create=False) as conn:
        if conn is None:
            return []
        rows = conn.execute(
            "SELECT delete_at, account, container, obj, x_timestamp FROM expiring "
            "WHERE delete_at <= ? ORDER BY delete_at LIMIT ?", (int(now), int(limit)))
        return [Entry(*row) for row in rows]


def all_entries(device_path: str) -> list[Entry]:
    """Every row (tests and diagnostics)."""
    return due(device_path, float(2 ** 62), limit=2 ** 31)
