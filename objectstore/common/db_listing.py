"""Listings of account and container databases: name-ordered pages of live rows with
``prefix``/``delimiter`` roll-ups, as Swift's listing parameters define them."""
from __future__ import annotations

import json
import sqlite3
from typing import Any, Iterator, Sequence


def iso_sql(column: str) -> str:
    """SQL turning a stored (``internal``) timestamp column into
    ``Timestamp.isoformat``: listings format thousands of them, in C."""
    return ("replace(datetime(substr(%(c)s, 1, 10), 'unixepoch'), ' ', 'T') || '.' || "
            "substr(%(c)s, 12, 5) || '0'" % {"c": column})


def rows_to_json(rows: Sequence[sqlite3.Row | str]) -> str:
    """A JSON array of listing rows whose second column is the entry's JSON
    (``json_object`` in the query) and of subdir names."""
    return "[" + ",".join(
        json.dumps({"subdir": row}) if isinstance(row, str) else row[1]
        for row in rows) + "]"


def _increment(value: str) -> str | None:
    """The smallest string greater than every string starting with ``value``."""
    last = ord(value[-1])
    if last >= 0x10FFFF:
        return None
    return value[:-1] + chr(last + 1)


Bound = tuple[str, bool]  # (value, inclusive)


def list_rows(conn: sqlite3.Connection, table: str, columns: str, limit: int,
              marker: str = "", end_marker: str = "", prefix: str = "", delimiter: str = "",
              reverse: bool = False, subdirs: bool = True) -> list[sqlite3.Row | str]:
    """Live rows of ``table`` in name order (``columns`` must start with ``name``),
    with the ``{"subdir"}`` roll-ups as plain strings.

    A name holding ``delimiter`` after ``prefix`` stands for its whole
    "directory"; the query then restarts past that directory (one index seek)
    instead of reading its rows. Without ``subdirs`` (``path`` listings) the
    directories are skipped but not reported.
    """
    lower, upper = _bounds(marker, end_marker, prefix, reverse)
    if not delimiter:
        return list(_query(conn, table, columns, lower, upper, reverse, limit))
    results: list[sqlite3.Row | str] = []
    while len(results) < limit:
        want = limit - len(results)
        seen = 0
        restart: Bound | None = None
        last = ""
        for row in _query(conn, table, columns, lower, upper, reverse, want):
            seen += 1
            name = last = row[0]
            cut = name.find(delimiter, len(prefix))
            if cut >= 0:
                subdir = name[:cut + len(delimiter)]
                if not subdirs and cut + len(delimiter) == len(name):
                    results.append(row)  # a directory marker object of a path listing
                elif subdirs and subdir != marker:
                    results.append(subdir)
                restart = (subdir, False) if reverse else _skip_bound(subdir)
                break
            results.append(row)
            if len(results) >= limit:
                break
        if restart is not None:
            if not restart[0]:
                break  # nothing sorts after this directory
            if reverse:
                upper = restart
            else:
                lower = restart
            continue
        if seen < want:
            break
        if reverse:
            upper = (last, False)
        else:
            lower = (last, False)
    return results


def _query(conn: sqlite3.Connection, table: str, columns: str, lower: Bound | None,
           upper: Bound | None, reverse: bool, limit: int) -> Iterator[sqlite3.Row]:
    sql = "SELECT %s FROM %s WHERE deleted = 0" % (columns, table)
    args: list[Any] = []
    if lower is not None:
        sql += " AND name >= ?" if lower[1] else " AND name > ?"
        args.append(lower[0])
    if upper is not None:
        sql += " AND name <= ?" if upper[1] else " AND name < ?"
        args.append(upper[0])
    sql += " ORDER BY name %s LIMIT ?" % ("DESC" if reverse else "ASC")
    args.append(limit)
    return iter(conn.execute(sql, args))


def _bounds(marker: str, end_marker: str, prefix: str,
            reverse: bool) -> tuple[Bound | None, Bound | None]:
    """The (lower, upper) name bounds of a listing. Going backwards, ``marker`` is
    the upper bound and ``end_marker`` the lower one (as Swift's ``reverse``)."""
    lower = (end_marker if reverse else marker, False)
    upper = (marker if reverse else end_marker, False)
    if prefix and lower[0] < prefix:
        lower = (prefix, True)
    prefix_end = _increment(prefix) if prefix else None
    if prefix_end is not None and (not upper[0] or upper[0] > prefix_end):
        upper = (prefix_end, False)
    return (lower if lower[0] else None), (upper if upper[0] else None)


def _skip_bound(subdir: str) -> Bound:
    """The lower bound past every name starting with ``subdir``."""
    return (_increment(subdir) or "", True)
