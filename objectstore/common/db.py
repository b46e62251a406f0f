"""The SQLite broker base of account and container databases.

Each account and each container is one SQLite file (README.md, "On disk"). The
file holds a one-row ``<kind>_stat`` table (timestamps, counts, hash, id,
metadata), the item table (containers of an account, objects of a container),
and two sync tables the replicator uses. Item rows are never updated in place:
a change deletes the old row and inserts a new one, so ROWIDs (AUTOINCREMENT)
only grow and replication can ship "everything after row N".
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
import uuid
from typing import Any, Iterator, Mapping, Sequence

from objectstore.common import db_conns, db_listing
from objectstore.common.utils import Timestamp

#: Seconds a connection waits for another writer before failing.
BUSY_TIMEOUT = 25.0
#: The ``delete_timestamp`` of a database that was never deleted.
ZERO = Timestamp(0).internal
#: Most rows ``get_items_since`` returns in one call.
MAX_ITEMS = 1000


class DatabaseError(Exception):
    """Something is wrong with a database file."""


class DatabaseNotFound(DatabaseError):
    """The database file does not exist."""


class DatabaseAlreadyExists(DatabaseError):
    """``initialize`` found a database in place already."""


def chexor(old_hex: str, name: str, stamp: str) -> str:
    """XOR ``md5(name + stamp)`` into the hex hash ``old_hex``.

    XOR is its own inverse, so the same call removes a row from the hash; the
    hash of a table is then independent of row order and replicas holding the
    same rows have the same hash.
    """
    digest = hashlib.md5((name + stamp).encode("utf-8", "surrogateescape"),
                         usedforsecurity=False).hexdigest()
    return "%032x" % (int(old_hex or "0", 16) ^ int(digest, 16))


def db_path(devices: str, device: str, kind: str, partition: int | str, hash_: str) -> str:
    """``<devices>/<device>/<kind>s/<partition>/<suffix>/<hash>/<hash>.db``."""
    return os.path.join(devices, device, kind + "s", str(partition), hash_[-3:], hash_,
                        hash_ + ".db")


def device_of(path: str) -> str:
    """The device directory of a database path laid out by :func:`db_path`."""
    for _ in range(5):
        path = os.path.dirname(path)
    return path


def quarantine_db(path: str, kind: str) -> str:
    """Move the directory of a damaged database to ``<device>/quarantined/<kind>s/<hash>``.

    The auditor and the servers call this when SQLite reports the file is
    malformed; replication then restores a good copy from another replica.

    :returns: the new directory.
    """
    db_dir = os.path.dirname(path)
    target_root = os.path.join(device_of(path), "quarantined", kind + "s")
    os.makedirs(target_root, exist_ok=True)
    target = os.path.join(target_root, os.path.basename(db_dir))
    if os.path.exists(target):
        target += "-" + uuid.uuid4().hex
    os.rename(db_dir, target)
    return target


class DatabaseBroker:
    """One account or container database.

    Brokers are cheap: make one per request. The connection is opened on first
    use (or, with a ``cache``, taken from it), kept per thread, and closed (or given
    back to the cache) by :meth:`close`.
    """

    #: ``account`` or ``container``
    kind = ""
    #: the table of rows that replication ships
    item_table = ""
    #: the count that ``get_replication_info`` reports
    count_column = ""

    def __init__(self, path: str, account: str | None = None, container: str | None = None,
                 timeout: float = BUSY_TIMEOUT, tmp_dir: str | None = None,
                 cache: db_conns.ConnectionCache | None = None) -> None:
        self.path = path
        self.account = account
        self.container = container
        self.timeout = timeout
        self.tmp_dir = tmp_dir or os.path.join(device_of(path), "tmp")
        self.cache = cache
        self._local = threading.local()

    @property
    def stat_table(self) -> str:
        return self.kind + "_stat"

    # -- connections ---------------------------------------------------------

    def _connect(self, path: str) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=self.timeout, isolation_level=None,
                               check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.create_function("chexor", 3, chexor, deterministic=True)
        # FULL: a commit is on disk (the WAL fsynced) before the request is answered.
        # With NORMAL only a checkpoint syncs, which used to happen as each request
        # closed its connection; kept connections (db_conns) rarely checkpoint.
        conn.execute("PRAGMA synchronous = FULL")
        return conn

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def conn(self) -> sqlite3.Connection:
        """This thread's connection to the database.

        :raises DatabaseNotFound: when the file does not exist.
        """
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                kept = self.cache.checkout(self.path) if self.cache is not None else None
                if kept is not None:
                    conn, self._local.identity = kept
                else:
                    # the identity before opening: see db_conns
                    self._local.identity = db_conns.file_identity(self.path)
                    conn = self._connect(self.path)
            except db_conns.FileGone:
                raise DatabaseNotFound(self.path) from None
            self._local.conn = conn
        return conn

    def close(self, reuse: bool = True) -> None:
        """Done with the connection: back to the cache (if any, and ``reuse``) or
        closed."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            if reuse and self.cache is not None:
                self.cache.checkin(self.path, conn, self._local.identity)
            else:
                conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``: takes the write lock at once, so a
        read-then-write cannot be overtaken by another writer)."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # -- creation --------------------------------------------------------------

    def _schema(self) -> str:
        """The CREATE statements of the stat and item tables (subclasses)."""
        raise NotImplementedError

    def _stat_values(self, put_timestamp: str, **kwargs: Any) -> dict[str, Any]:
        """Extra stat row values of a new database (subclasses)."""
        return {}

    def initialize(self, put_timestamp: str, **kwargs: Any) -> None:
        """Create the database, built in ``<device>/tmp`` and linked into place.

        Linking (not renaming) fails when a file is there already, so two
        concurrent creators cannot overwrite each other.

        :raises DatabaseAlreadyExists: when the database exists.
        """
        os.makedirs(self.tmp_dir, exist_ok=True)
        tmp = os.path.join(self.tmp_dir, uuid.uuid4().hex + ".db")
        try:
            conn = self._connect(tmp)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                # one transaction (one sync) for the whole schema and the stat row
                conn.executescript("BEGIN IMMEDIATE;" + _SYNC_SCHEMA + self._schema())
                values = {
                    "created_at": Timestamp.now().internal,
                    "put_timestamp": Timestamp(put_timestamp).internal,
                    "delete_timestamp": ZERO, "status_changed_at": ZERO,
                    "hash": "%032x" % 0, "id": str(uuid.uuid4()), "status": "",
                    "metadata": "{}",
                }
                values.update(self._stat_values(put_timestamp, **kwargs))
                conn.execute("INSERT INTO %s (%s) VALUES (%s)" % (
                    self.stat_table, ", ".join(values), ", ".join("?" * len(values))),
                    list(values.values()))
                conn.execute("COMMIT")
            finally:
                conn.close()
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                raise DatabaseAlreadyExists(self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    # -- stat row --------------------------------------------------------------

    def get_info(self) -> dict[str, Any]:
        """The stat row as a dict (``metadata`` stays the JSON text)."""
        row = self.conn().execute("SELECT * FROM %s" % self.stat_table).fetchone()
        if row is None:
            raise DatabaseError("%s has no stat row" % self.path)
        return dict(row)

    def is_deleted(self) -> bool:
        info = self.get_info()
        return Timestamp(info["delete_timestamp"]) > Timestamp(info["put_timestamp"])

    def newest_timestamp(self) -> str:
        """The newer of put and delete timestamp (``X-Backend-Timestamp``)."""
        info = self.get_info()
        return max(Timestamp(info["put_timestamp"]), Timestamp(info["delete_timestamp"])).internal

    def update_put_timestamp(self, timestamp: str) -> None:
        """Keep the newer put timestamp (a PUT of an existing database)."""
        with self.transaction() as conn:
            row = conn.execute("SELECT put_timestamp FROM %s" % self.stat_table).fetchone()
            if Timestamp(timestamp) > Timestamp(row[0]):
                conn.execute("UPDATE %s SET put_timestamp = ?" % self.stat_table,
                             (Timestamp(timestamp).internal,))

    def delete_db(self, timestamp: str) -> None:
        """Mark the database deleted at ``timestamp`` and clear its metadata (a later
        re-creation must not inherit it)."""
        stamp = Timestamp(timestamp).internal
        self.update_metadata({key: ["", stamp] for key in self.metadata})
        with self.transaction() as conn:
            conn.execute(
                "UPDATE %s SET delete_timestamp = MAX(delete_timestamp, ?), "
                "status_changed_at = ?" % self.stat_table, (stamp, stamp))

    def merge_timestamps(self, created_at: str, put_timestamp: str,
                         delete_timestamp: str) -> None:
        """Take a replica's timestamps: the oldest creation, the newest put and delete."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE %s SET created_at = MIN(created_at, ?), "
                "put_timestamp = MAX(put_timestamp, ?), "
                "delete_timestamp = MAX(delete_timestamp, ?)" % self.stat_table,
                (Timestamp(created_at).internal, Timestamp(put_timestamp).internal,
                 Timestamp(delete_timestamp).internal))

    # -- metadata --------------------------------------------------------------

    @property
    def metadata(self) -> dict[str, list[str]]:
        """``{name: [value, timestamp]}``, including removed items (empty value)."""
        row = self.conn().execute("SELECT metadata FROM %s" % self.stat_table).fetchone()
        return json.loads(row[0] or "{}")

    def update_metadata(self, updates: Mapping[str, Sequence[str]]) -> bool:
        """Merge ``{name: [value, timestamp]}``; per name the newer timestamp wins.

        An empty value is a removal; it is kept (with its timestamp) so a
        replica holding the older value cannot bring it back.

        :returns: whether anything changed.
        """
        if not updates:
            return False
        with self.transaction() as conn:
            row = conn.execute("SELECT metadata FROM %s" % self.stat_table).fetchone()
            current: dict[str, list[str]] = json.loads(row[0] or "{}")
            changed = False
            for key, (value, stamp) in updates.items():
                old = current.get(key)
                if old is None or Timestamp(stamp) > Timestamp(old[1]):
                    current[key] = [value, Timestamp(stamp).internal]
                    changed = True
            if changed:
                conn.execute("UPDATE %s SET metadata = ?" % self.stat_table,
                             (json.dumps(current),))
        return changed

    # -- replication -----------------------------------------------------------

    def get_max_row(self) -> int:
        row = self.conn().execute(
            "SELECT MAX(ROWID) FROM %s" % self.item_table).fetchone()
        return -1 if row[0] is None else int(row[0])

    def get_replication_info(self) -> dict[str, Any]:
        """What the replicator sends in ``["sync", info]``: ``max_row``, ``hash``,
        ``id``, ``created_at``, ``put_timestamp``, ``delete_timestamp``,
        ``metadata`` (dict), ``count``."""
        info = self.get_info()
        return {
            "max_row": self.get_max_row(), "hash": info["hash"], "id": info["id"],
            "created_at": info["created_at"], "put_timestamp": info["put_timestamp"],
            "delete_timestamp": info["delete_timestamp"],
            "metadata": json.loads(info["metadata"] or "{}"),
            "count": info[self.count_column],
        }

    def get_items_since(self, start_row: int, count: int = MAX_ITEMS) -> list[dict[str, Any]]:
        """Up to ``count`` item rows (deleted ones too) with ``ROWID > start_row``,
        oldest first; each dict carries its ``ROWID``."""
        cur = self.conn().execute(
            "SELECT ROWID, * FROM %s WHERE ROWID > ? ORDER BY ROWID LIMIT ?"
            % self.item_table, (start_row, count))
        return [dict(row) for row in cur]

    def merge_items(self, rows: Sequence[Mapping[str, Any]],
                    source_id: str | None = None) -> None:
        """Merge rows of another replica (or of a request) in one transaction.

        With ``source_id``, the incoming sync point of that replica moves to the
        largest ``ROWID`` of the rows, so the next sync resumes after them.
        """
        with self.transaction() as conn:
            for row in rows:
                self._merge_row(conn, row)
            rowids = [int(r["ROWID"]) for r in rows if r.get("ROWID") is not None]
            if source_id and rowids:
                self._merge_sync(conn, source_id, max(rowids), True)

    def _merge_row(self, conn: sqlite3.Connection, row: Mapping[str, Any]) -> bool:
        """Merge one row inside a transaction (subclasses)."""
        raise NotImplementedError

    def _replace_row(self, conn: sqlite3.Connection, old_rowid: int | None,
                     values: Mapping[str, Any]) -> None:
        """Delete ``old_rowid`` and insert ``values`` as a new row (a new ROWID)."""
        if old_rowid is not None:
            conn.execute("DELETE FROM %s WHERE ROWID = ?" % self.item_table, (old_rowid,))
        conn.execute("INSERT INTO %s (%s) VALUES (%s)" % (
            self.item_table, ", ".join(values), ", ".join("?" * len(values))),
            list(values.values()))

    def get_sync(self, remote_id: str, incoming: bool = True) -> int:
        """How far we got with ``remote_id``: with ``incoming``, the last of its rows we
        hold; otherwise the last of our rows it acknowledged. -1 when unknown."""
        row = self.conn().execute(
            "SELECT sync_point FROM %s WHERE remote_id = ?" % _sync_table(incoming),
            (remote_id,)).fetchone()
        return -1 if row is None else int(row[0])

    def get_syncs(self, incoming: bool = True) -> list[dict[str, Any]]:
        """All sync points as ``[{"remote_id", "sync_point"}]``."""
        cur = self.conn().execute(
            "SELECT remote_id, sync_point FROM %s" % _sync_table(incoming))
        return [dict(row) for row in cur]

    def merge_syncs(self, syncs: Sequence[Mapping[str, Any]], incoming: bool = True) -> None:
        """Record ``[{"remote_id", "sync_point"}]``; a sync point never moves back."""
        with self.transaction() as conn:
            for sync in syncs:
                self._merge_sync(conn, str(sync["remote_id"]), int(sync["sync_point"]), incoming)

    def _merge_sync(self, conn: sqlite3.Connection, remote_id: str, point: int,
                    incoming: bool) -> None:
        conn.execute(
            "INSERT INTO %s (remote_id, sync_point, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(remote_id) DO UPDATE SET "
            "sync_point = MAX(sync_point, excluded.sync_point), "
            "updated_at = excluded.updated_at" % _sync_table(incoming),
            (remote_id, point, Timestamp.now().internal))

    def newid(self, remote_id: str) -> None:
        """Give a database received whole from ``remote_id`` its own id, and note that
        it holds all of that replica's rows."""
        max_row = self.get_max_row()
        with self.transaction() as conn:
            conn.execute("UPDATE %s SET id = ?" % self.stat_table, (str(uuid.uuid4()),))
            self._merge_sync(conn, remote_id, max_row, True)

    def snapshot(self, dest: str) -> None:
        """A consistent copy of the database (WAL content included) at ``dest``, for a
        replicator pushing the whole file."""
        target = sqlite3.connect(dest)
        try:
            self.conn().backup(target)
        finally:
            target.close()

    def reclaim(self, age_timestamp: str) -> int:
        """Drop deleted item rows and removed metadata older than ``age_timestamp``.

        :returns: the number of item rows dropped.
        """
        stamp = Timestamp(age_timestamp).internal
        with self.transaction() as conn:
            count = self._reclaim_rows(conn, stamp)
            row = conn.execute("SELECT metadata FROM %s" % self.stat_table).fetchone()
            meta: dict[str, list[str]] = json.loads(row[0] or "{}")
            kept = {k: v for k, v in meta.items() if v[0] != "" or v[1] >= stamp}
            if len(kept) != len(meta):
                conn.execute("UPDATE %s SET metadata = ?" % self.stat_table,
                             (json.dumps(kept),))
        return count

    def _reclaim_rows(self, conn: sqlite3.Connection, stamp: str) -> int:
        raise NotImplementedError

    # -- listing ---------------------------------------------------------------

    def _list_rows(self, columns: str, limit: int, marker: str = "", end_marker: str = "",
                   prefix: str = "", delimiter: str = "", reverse: bool = False,
                   subdirs: bool = True) -> list[sqlite3.Row | str]:
        """See :func:`objectstore.common.db_listing.list_rows`."""
        return db_listing.list_rows(self.conn(), self.item_table, columns, limit, marker,
                                    end_marker, prefix, delimiter, reverse, subdirs)


def _sync_table(incoming: bool) -> str:
    return "incoming_sync" if incoming else "outgoing_sync"


_SYNC_SCHEMA = """
CREATE TABLE incoming_sync (
    remote_id TEXT PRIMARY KEY, sync_point INTEGER NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE outgoing_sync (
    remote_id TEXT PRIMARY KEY, sync_point INTEGER NOT NULL, updated_at TEXT NOT NULL);
"""

#: Stat columns every database has (subclasses add their own).
STAT_COLUMNS = """
    created_at TEXT NOT NULL,
    put_timestamp TEXT NOT NULL DEFAULT '0000000000.00000',
    delete_timestamp TEXT NOT NULL DEFAULT '0000000000.00000',
    status_changed_at TEXT NOT NULL DEFAULT '0000000000.00000',
    hash TEXT NOT NULL DEFAULT '00000000000000000000000000000000',
    id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT '',
    metadata TEXT NOT NULL DEFAULT '{}'
"""
