"""DiskFileWriter's background fdatasyncs while a large upload is written
(objectstore.obj.diskfile, ``sync_every``/``sync_pool``)."""
from __future__ import annotations

import concurrent.futures
import errno
import hashlib
import os
import threading
from pathlib import Path
from typing import Any, Callable

import pytest

from objectstore.common.utils import Timestamp
from objectstore.obj import diskfile

BLOCK = os.urandom(4096)


class HeldPool(concurrent.futures.Executor):
    """Runs what is submitted on a real thread, but only once the test lets it go
    (``release``), so a test can see a sync still running or still queued."""

    def __init__(self, start: bool = True) -> None:
        self.started = start
        self.calls: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self.futures: list[concurrent.futures.Future[Any]] = []
        self.gate = threading.Event()
        self.threads: list[threading.Thread] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any,
               **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.calls.append((fn, args))
        self.futures.append(future)

        def run() -> None:
            self.gate.wait(10)
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to whoever waits, as an Executor does
                future.set_exception(exc)

        if self.started:
            thread = threading.Thread(target=run)
            self.threads.append(thread)
            thread.start()
        return future

    def release(self) -> None:
        self.gate.set()
        for thread in self.threads:
            thread.join(10)


def _meta(df: diskfile.DiskFile, writer: diskfile.DiskFileWriter) -> dict[str, str]:
    return {"name": df.name or "", "X-Timestamp": Timestamp(1000.0).internal,
            "Content-Length": str(writer.bytes_written), "ETag": writer.etag}


@pytest.fixture
def df(tmp_path: Path) -> diskfile.DiskFile:
    (tmp_path / "d1").mkdir()
    return diskfile.DiskFile(str(tmp_path / "d1"), 3, "a", "c", "o")


def test_one_sync_at_a_time_every_so_many_bytes(df: diskfile.DiskFile) -> None:
    pool = HeldPool()
    with df.writer(None, 3 * len(BLOCK), pool) as writer:
        for _ in range(2):
            writer.write(BLOCK)
        assert pool.calls == []  # not 3 blocks yet
        writer.write(BLOCK)
        assert [(fn, args[1:]) for fn, args in pool.calls] == [
            (diskfile._sync_and_drop, (0, 3 * len(BLOCK)))]
        for _ in range(6):  # the first is still running: no second one
            writer.write(BLOCK)
        assert len(pool.calls) == 1
        pool.release()
        writer.write(BLOCK)  # 7 blocks since the first: the next one starts
        assert [args[1:] for _fn, args in pool.calls] == [
            (0, 3 * len(BLOCK)), (3 * len(BLOCK), 10 * len(BLOCK))]
        assert pool.futures[1].result(10) is None
        path = writer.put(_meta(df, writer))
    with open(path, "rb") as handle:
        assert handle.read() == BLOCK * 10
    assert diskfile.read_metadata(path)["ETag"] == hashlib.md5(BLOCK * 10).hexdigest()


def test_put_drops_a_sync_still_queued(df: diskfile.DiskFile) -> None:
    pool = HeldPool(start=False)
    with df.writer(None, len(BLOCK), pool) as writer:
        writer.write(BLOCK)
        path = writer.put(_meta(df, writer))
    assert pool.futures[0].cancelled()
    assert os.path.getsize(path) == len(BLOCK)


class FailingPool(concurrent.futures.Executor):
    """Every sync fails, as on a disk that went bad."""

    def submit(self, fn: Callable[..., Any], /, *args: Any,
               **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        future.set_exception(OSError(errno.EIO, "Input/output error"))
        return future


def test_a_failed_sync_fails_the_next_write(df: diskfile.DiskFile) -> None:
    with df.writer(None, len(BLOCK), FailingPool()) as writer:
        writer.write(BLOCK)
        with pytest.raises(OSError):
            writer.write(BLOCK)
    assert os.listdir(os.path.join(df.device_path, "tmp")) == []  # aborted


def test_a_failed_last_sync_fails_the_put(df: diskfile.DiskFile) -> None:
    with df.writer(None, len(BLOCK), FailingPool()) as writer:
        writer.write(BLOCK)
        with pytest.raises(OSError):
            writer.put(_meta(df, writer))
    assert os.listdir(os.path.join(df.device_path, "tmp")) == []
    assert not os.path.exists(df.hash_dir)  # nothing was committed


def test_no_background_sync_without_fsync_or_pool(tmp_path: Path) -> None:
    (tmp_path / "d1").mkdir()
    unsynced = diskfile.DiskFile(str(tmp_path / "d1"), 3, "a", "c", "o", fsync=False)
    pool = HeldPool()
    with unsynced.writer(None, len(BLOCK), pool) as writer:
        writer.write(BLOCK * 4)
        writer.put(_meta(unsynced, writer))
    assert pool.calls == []
    synced = diskfile.DiskFile(str(tmp_path / "d1"), 3, "a", "c", "o2")
    with synced.writer(None, len(BLOCK)) as writer:
        assert writer.sync_every == 0
        writer.write(BLOCK * 4)
        writer.put(_meta(synced, writer))
