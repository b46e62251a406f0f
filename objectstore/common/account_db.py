"""The account database: one row per container name, as the container servers report."""
from __future__ import annotations

import json
import sqlite3
from typing import Any, Mapping

from objectstore.common import db, db_listing
from objectstore.common.utils import Timestamp

#: ``status`` of an account that was deleted (the reaper empties it).
DELETED = "DELETED"

_SCHEMA = """
CREATE TABLE container (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    put_timestamp TEXT NOT NULL,
    delete_timestamp TEXT NOT NULL,
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX ix_container_name ON container (name);
CREATE INDEX ix_container_deleted_name ON container (deleted, name);

CREATE TABLE account_stat (
    account TEXT NOT NULL,
    %(stat)s,
    container_count INTEGER NOT NULL DEFAULT 0,
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0
);

CREATE TRIGGER container_insert AFTER INSERT ON container BEGIN
    UPDATE account_stat SET
        container_count = container_count + (1 - new.deleted),
        object_count = object_count + (1 - new.deleted) * new.object_count,
        bytes_used = bytes_used + (1 - new.deleted) * new.bytes_used,
        hash = chexor(hash, new.name, new.put_timestamp || '-' || new.delete_timestamp
                      || '-' || new.object_count || '-' || new.bytes_used);
END;

CREATE TRIGGER container_delete AFTER DELETE ON container BEGIN
    UPDATE account_stat SET
        container_count = container_count - (1 - old.deleted),
        object_count = object_count - (1 - old.deleted) * old.object_count,
        bytes_used = bytes_used - (1 - old.deleted) * old.bytes_used,
        hash = chexor(hash, old.name, old.put_timestamp || '-' || old.delete_timestamp
                      || '-' || old.object_count || '-' || old.bytes_used);
END;

CREATE TRIGGER container_update BEFORE UPDATE ON container BEGIN
    SELECT RAISE(FAIL, 'container rows are replaced, never updated');
END;
""" % {"stat": db.STAT_COLUMNS.strip()}


class AccountBroker(db.DatabaseBroker):
    """An account's database: its container rows and the sums over them.

    ``container_count``, ``object_count`` and ``bytes_used`` (of live containers)
    and the row hash are kept by triggers.
    """

    kind = "account"
    item_table = "container"
    count_column = "container_count"

    def _schema(self) -> str:
        return _SCHEMA

    def _stat_values(self, put_timestamp: str, **kwargs: Any) -> dict[str, Any]:
        return {"account": self.account or ""}

    def is_status_deleted(self) -> bool:
        return bool(self.get_info()["status"] == DELETED)

    def is_deleted(self) -> bool:
        """Deleted by an account DELETE, or (on a replica that got only the
        timestamps) a delete newer than the put with no containers left."""
        info = self.get_info()
        if info["status"] == DELETED:
            return True
        return (Timestamp(info["delete_timestamp"]) > Timestamp(info["put_timestamp"])
                and not info["container_count"])

    def delete_db(self, timestamp: str) -> None:
        """Mark the account deleted: status DELETED, delete timestamp, metadata cleared."""
        super().delete_db(timestamp)
        with self.transaction() as conn:
            conn.execute("UPDATE account_stat SET status = ?", (DELETED,))

    def put_container(self, name: str, put_timestamp: str, delete_timestamp: str,
                      object_count: int, bytes_used: int) -> None:
        """Record a container report (a delete when ``delete_timestamp`` is newer)."""
        self.merge_items([{
            "name": name, "put_timestamp": put_timestamp, "delete_timestamp": delete_timestamp,
            "object_count": object_count, "bytes_used": bytes_used}])

    def _merge_row(self, conn: sqlite3.Connection, row: Mapping[str, Any]) -> bool:
        """Newest put and delete timestamps win separately; the counts come from the
        row whose newest timestamp is the newer one (a tie: the incoming report,
        since counts change without new timestamps)."""
        put = Timestamp(row["put_timestamp"])
        delete = Timestamp(row.get("delete_timestamp") or 0)
        count = int(row.get("object_count") or 0)
        used = int(row.get("bytes_used") or 0)
        old = conn.execute(
            "SELECT ROWID, put_timestamp, delete_timestamp, object_count, bytes_used "
            "FROM container WHERE name = ?", (row["name"],)).fetchone()
        if old is not None:
            old_put, old_delete = Timestamp(old[1]), Timestamp(old[2])
            if max(old_put, old_delete) > max(put, delete):
                count, used = int(old[3]), int(old[4])
            put, delete = max(put, old_put), max(delete, old_delete)
            if (put.internal, delete.internal, count, used) == (old[1], old[2], old[3], old[4]):
                return False
        self._replace_row(conn, None if old is None else old[0], {
            "name": row["name"], "put_timestamp": put.internal,
            "delete_timestamp": delete.internal, "object_count": count, "bytes_used": used,
            "deleted": 1 if delete > put else 0})
        return True

    def _reclaim_rows(self, conn: sqlite3.Connection, stamp: str) -> int:
        cur = conn.execute(
            "DELETE FROM container WHERE deleted = 1 AND delete_timestamp < ?", (stamp,))
        return cur.rowcount

    def list_containers_json(self, limit: int, marker: str = "", end_marker: str = "",
                             prefix: str = "", delimiter: str = "",
                             reverse: bool = False) -> str:
        """The listing as a JSON array of ``{"name", "count", "bytes",
        "last_modified"}`` and ``{"subdir"}`` entries."""
        rows = self._list_rows(_ENTRY_SQL, limit, marker, end_marker, prefix, delimiter,
                               reverse)
        return db_listing.rows_to_json(rows)

    def list_containers(self, limit: int, marker: str = "", end_marker: str = "",
                        prefix: str = "", delimiter: str = "",
                        reverse: bool = False) -> list[dict[str, Any]]:
        """:meth:`list_containers_json` as Python objects."""
        return json.loads(self.list_containers_json(limit, marker, end_marker, prefix,
                                                    delimiter, reverse))


_ENTRY_SQL = ("name, json_object('name', name, 'count', object_count, 'bytes', bytes_used, "
              "'last_modified', %s)" % db_listing.iso_sql("put_timestamp"))
