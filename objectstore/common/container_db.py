"""The container database: one row per object name (live or tombstone)."""
from __future__ import annotations

import json
import sqlite3
from typing import Any, Mapping

from objectstore.common import db, db_listing
from objectstore.common.utils import Timestamp

_SCHEMA = """
CREATE TABLE object (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    etag TEXT NOT NULL DEFAULT '',
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX ix_object_name ON object (name);
-- covers the listing query: a listing reads the index only
CREATE INDEX ix_object_deleted_name ON object (
    deleted, name, created_at, size, content_type, etag);

CREATE TABLE container_stat (
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    %(stat)s,
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0,
    reported_put_timestamp TEXT NOT NULL DEFAULT '0000000000.00000',
    reported_delete_timestamp TEXT NOT NULL DEFAULT '0000000000.00000',
    reported_object_count INTEGER NOT NULL DEFAULT 0,
    reported_bytes_used INTEGER NOT NULL DEFAULT 0,
    account_host TEXT NOT NULL DEFAULT '',
    account_partition TEXT NOT NULL DEFAULT '',
    account_device TEXT NOT NULL DEFAULT ''
);

CREATE TRIGGER object_insert AFTER INSERT ON object BEGIN
    UPDATE container_stat SET
        object_count = object_count + (1 - new.deleted),
        bytes_used = bytes_used + (1 - new.deleted) * new.size,
        hash = chexor(hash, new.name, new.created_at);
END;

CREATE TRIGGER object_delete AFTER DELETE ON object BEGIN
    UPDATE container_stat SET
        object_count = object_count - (1 - old.deleted),
        bytes_used = bytes_used - (1 - old.deleted) * old.size,
        hash = chexor(hash, old.name, old.created_at);
END;

CREATE TRIGGER object_update BEFORE UPDATE ON object BEGIN
    SELECT RAISE(FAIL, 'object rows are replaced, never updated');
END;
""" % {"stat": db.STAT_COLUMNS.strip()}


class ContainerBroker(db.DatabaseBroker):
    """A container's database: its object rows, counts and metadata.

    ``object_count``/``bytes_used`` and the row hash are kept by triggers in the
    transaction that changes the rows, so they are always exact.
    """

    kind = "container"
    item_table = "object"
    count_column = "object_count"

    def _schema(self) -> str:
        return _SCHEMA

    def _stat_values(self, put_timestamp: str, **kwargs: Any) -> dict[str, Any]:
        return {"account": self.account or "", "container": self.container or ""}

    def is_deleted(self) -> bool:
        """Deleted means a delete newer than the last put, and no objects left (a
        replica may merge a delete while objects still arrive)."""
        info = self.get_info()
        return (Timestamp(info["delete_timestamp"]) > Timestamp(info["put_timestamp"])
                and not info["object_count"])

    def empty(self) -> bool:
        return not self.get_info()["object_count"]

    def put_object(self, name: str, timestamp: str, size: int, content_type: str,
                   etag: str, deleted: bool = False) -> None:
        """Record an object (or, with ``deleted``, its tombstone); an older write than
        the row already held is ignored."""
        self.merge_items([{
            "name": name, "created_at": Timestamp(timestamp).internal, "size": size,
            "content_type": content_type, "etag": etag, "deleted": int(deleted)}])

    def delete_object(self, name: str, timestamp: str) -> None:
        self.put_object(name, timestamp, 0, "", "", deleted=True)

    def _merge_row(self, conn: sqlite3.Connection, row: Mapping[str, Any]) -> bool:
        created_at = Timestamp(row["created_at"])
        old = conn.execute("SELECT ROWID, created_at FROM object WHERE name = ?",
                           (row["name"],)).fetchone()
        if old is not None and Timestamp(old[1]) >= created_at:
            return False
        self._replace_row(conn, None if old is None else old[0], {
            "name": row["name"], "created_at": created_at.internal,
            "size": int(row.get("size") or 0), "content_type": row.get("content_type") or "",
            "etag": row.get("etag") or "", "deleted": 1 if row.get("deleted") else 0})
        return True

    def _reclaim_rows(self, conn: sqlite3.Connection, stamp: str) -> int:
        cur = conn.execute("DELETE FROM object WHERE deleted = 1 AND created_at < ?", (stamp,))
        return cur.rowcount

    def reported(self, put_timestamp: str, delete_timestamp: str, object_count: int,
                 bytes_used: int) -> None:
        """Note what the account server last acknowledged (the updater and the
        background reporter compare it with the current stats)."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE container_stat SET reported_put_timestamp = ?, "
                "reported_delete_timestamp = ?, reported_object_count = ?, "
                "reported_bytes_used = ?",
                (put_timestamp, delete_timestamp, object_count, bytes_used))

    def needs_report(self) -> bool:
        """Whether the account has not seen the current stats yet."""
        info = self.get_info()
        return any(info[k] != info["reported_" + k] for k in (
            "put_timestamp", "delete_timestamp", "object_count", "bytes_used"))

    def set_account_location(self, host: str, partition: str, device: str) -> None:
        """Remember where the account replica(s) live (``X-Account-*`` of the last
        container PUT/DELETE), for the background reports after object changes."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE container_stat SET account_host = ?, account_partition = ?, "
                "account_device = ?", (host, partition, device))

    def list_objects_json(self, limit: int, marker: str = "", end_marker: str = "",
                          prefix: str = "", delimiter: str = "", reverse: bool = False,
                          path: str | None = None) -> str:
        """The listing as a JSON array of ``{"name", "hash", "bytes", "content_type",
        "last_modified"}`` and ``{"subdir"}`` entries (SQLite builds the entries,
        which keeps a 10,000-object listing fast).

        ``path`` lists only the direct children of that pseudo-directory (as
        ``prefix=path/`` and ``delimiter=/`` without the subdir entries).
        """
        subdirs = True
        if path is not None:
            prefix = path.rstrip("/") + "/" if path else ""
            delimiter = "/"
            subdirs = False
        rows = self._list_rows(_ENTRY_SQL, limit, marker, end_marker, prefix, delimiter,
                               reverse, subdirs)
        return db_listing.rows_to_json(rows)

    def list_objects(self, limit: int, marker: str = "", end_marker: str = "",
                     prefix: str = "", delimiter: str = "", reverse: bool = False,
                     path: str | None = None) -> list[dict[str, Any]]:
        """:meth:`list_objects_json` as Python objects."""
        return json.loads(self.list_objects_json(limit, marker, end_marker, prefix,
                                                 delimiter, reverse, path))


_ENTRY_SQL = ("name, json_object('name', name, 'hash', etag, 'bytes', size, "
              "'content_type', content_type, 'last_modified', %s)"
              % db_listing.iso_sql("created_at"))
