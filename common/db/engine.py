"""One engine and session factory per service database."""
from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from typing import Any, Iterator

import sqlalchemy as sa
from oslo_config import cfg
from oslo_log import log as logging
from sqlalchemy import event, orm

LOG = logging.getLogger(__name__)


def connection_url(conf: cfg.ConfigOpts, service: str) -> str:
    if conf.database.connection:
        return str(conf.database.connection)
    path = os.path.join(conf.state_path, "%s.sqlite" % service)
    return "sqlite:///" + path


def _sqlite_pragmas(busy_ms: int) -> Any:
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=%d" % busy_ms)
        cur.close()
    return _connect


def create_engine(url: str, busy_ms: int = 15000, pool_size: int = 10,
                  echo: bool = False) -> sa.Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # A pool as large as the server's thread count: a connection opened past the
        # pool is closed after one use, and opening one (file, WAL, pragmas) costs
        # more than most queries.
        engine = sa.create_engine(url, echo=echo, pool_size=max(pool_size, 20),
                                  max_overflow=10,
                                  connect_args={"check_same_thread": False,
                                                "timeout": busy_ms / 1000.0})
        event.listen(engine, "connect", _sqlite_pragmas(busy_ms))
        return engine
    return sa.create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size,
                            pool_pre_ping=True, pool_recycle=3600)


def _caller() -> str:
    """``file:line function`` of the code whose ``with db.writer()`` block is ending."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename in (__file__, contextlib.__file__):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "unknown"
    return "%s:%d %s" % (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


class Database:
    """A service's database: ``with db.writer() as s`` / ``with db.reader() as s``."""

    #: A writer transaction that took longer than this (waiting for the write lock
    #: and holding it) is logged with a WARNING naming its caller.
    slow_writer_seconds = 2.0

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._factory = orm.sessionmaker(bind=engine, expire_on_commit=False)
        # SQLite has one writer at a time: concurrent writer sessions of this process
        # queue on a lock instead of SQLite's busy handler, which polls with sleeps of
        # up to 100 ms and fails a transaction that read before it wrote ("database is
        # locked") whenever another committed meanwhile. Readers are not blocked (WAL).
        self._write_lock: threading.RLock | None = (
            threading.RLock() if engine.dialect.name == "sqlite" else None)

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, service: str) -> "Database":
        url = connection_url(conf, service)
        return cls(create_engine(url, conf.database.sqlite_busy_timeout,
                                 conf.database.max_pool_size, conf.database.connection_debug))

    @contextlib.contextmanager
    def writer(self) -> Iterator[orm.Session]:
        lock = self._write_lock
        asked = got = done = time.monotonic()
        try:
            with lock if lock is not None else contextlib.nullcontext():
                got = time.monotonic()
                session = self._factory()
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
                finally:
                    session.close()
                    done = time.monotonic()
        finally:
            # Logged after the lock is released; otherwise this costs three clock reads.
            if done - asked > self.slow_writer_seconds:
                LOG.warning("Slow database write in %(caller)s: %(wait).3f s waiting for "
                            "the write lock, %(held).3f s holding it",
                            {"caller": _caller(), "wait": got - asked, "held": done - got})

    @contextlib.contextmanager
    def reader(self) -> Iterator[orm.Session]:
        session = self._factory()
        try:
            yield session
        finally:
            # close() (not rollback()) so loaded objects stay readable once detached.
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
