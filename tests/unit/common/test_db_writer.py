"""Database.writer: a slow writer transaction (waiting for SQLite's write lock and
holding it) is logged once with a WARNING naming its caller; fast ones are not."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Iterator, cast

import pytest

from common.db import engine


@pytest.fixture()
def db(tmp_path: Any) -> Iterator[engine.Database]:
    database = engine.Database(engine.create_engine("sqlite:///%s/w.sqlite" % tmp_path))
    database.slow_writer_seconds = 0.2
    with database.writer() as s:
        s.connection().exec_driver_sql("CREATE TABLE t (x INTEGER)")
    yield database
    database.dispose()


def _slow_holder(db: engine.Database, holding: threading.Event, seconds: float) -> None:
    with db.writer() as s:
        s.connection().exec_driver_sql("INSERT INTO t VALUES (1)")
        holding.set()
        time.sleep(seconds)


def test_slow_writers_are_logged_with_their_caller(db: engine.Database,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="common.db.engine")
    with db.writer() as s:
        s.connection().exec_driver_sql("INSERT INTO t VALUES (0)")
    assert not caplog.records
    holding = threading.Event()
    holder = threading.Thread(target=_slow_holder, args=(db, holding, 0.5))
    holder.start()
    holding.wait(5)
    with db.writer() as s:  # waits for the holder's lock
        s.connection().exec_driver_sql("INSERT INTO t VALUES (2)")
    holder.join()
    logged = [cast(dict[str, Any], r.args) for r in caplog.records]
    found = {args["caller"].rsplit(" ", 1)[-1]: args for args in logged}
    assert set(found) == {"_slow_holder", "test_slow_writers_are_logged_with_their_caller"}
    assert all("test_db_writer.py:" in args["caller"] for args in found.values())
    assert found["_slow_holder"]["held"] >= 0.45
    assert found["test_slow_writers_are_logged_with_their_caller"]["wait"] >= 0.2
    assert "waiting for the write lock" in caplog.records[0].getMessage()
    with db.reader() as s:
        assert s.connection().exec_driver_sql("SELECT count(*) FROM t").scalar() == 3
