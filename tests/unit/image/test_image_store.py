"""The filesystem store: temporary writes, commit/abort, ranges, orphans."""
from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import time
from typing import Iterator

import pytest
from oslo_config import cfg

from image import exception
from image import store as store_mod
from image.conf import image as image_opts
from image.store import base
from image.store import filesystem

IMAGE_ID = "3f5d2a5c-6a8e-4b1e-9d59-0c9a4b4f2a11"


@pytest.fixture
def datadir(tmp_path: os.PathLike[str]) -> str:
    return os.path.join(str(tmp_path), "images")


@pytest.fixture
def store(datadir: str) -> filesystem.FilesystemStore:
    return filesystem.FilesystemStore(lambda: datadir, chunk_size=4)


def _tmp_files(datadir: str) -> list[str]:
    tmp = os.path.join(datadir, filesystem.TMP_DIR)
    return sorted(os.listdir(tmp)) if os.path.isdir(tmp) else []


def test_add_writes_a_temporary_file_until_commit(store: filesystem.FilesystemStore,
                                                  datadir: str) -> None:
    staged = store.add(IMAGE_ID, [b"hello ", b"", b"world"])
    final = os.path.join(datadir, IMAGE_ID)
    assert staged.size == 11
    assert staged.location == "file://" + final
    assert not os.path.exists(final)
    assert len(_tmp_files(datadir)) == 1
    staged.commit()
    with open(final, "rb") as handle:
        assert handle.read() == b"hello world"
    assert _tmp_files(datadir) == []
    # readable by group and others (libvirt-qemu reads the file later)
    assert stat.S_IMODE(os.stat(final).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(datadir).st_mode) == 0o755


def test_abort_removes_the_data_and_is_idempotent(store: filesystem.FilesystemStore,
                                                  datadir: str) -> None:
    staged = store.add(IMAGE_ID, [b"data"])
    staged.abort()
    staged.abort()
    assert _tmp_files(datadir) == []
    assert not os.path.exists(os.path.join(datadir, IMAGE_ID))
    with pytest.raises(OSError):
        staged.commit()


def test_abort_after_commit_keeps_the_data(store: filesystem.FilesystemStore) -> None:
    staged = store.add(IMAGE_ID, [b"data"])
    staged.commit()
    staged.abort()
    assert b"".join(store.get(staged.location)) == b"data"


def test_failing_chunks_leave_nothing(store: filesystem.FilesystemStore,
                                      datadir: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"some"
        raise exception.ImageSizeLimitExceeded()

    with pytest.raises(exception.ImageSizeLimitExceeded):
        store.add(IMAGE_ID, chunks())
    assert _tmp_files(datadir) == []


def test_enospc_is_storage_full(store: filesystem.FilesystemStore, datadir: str,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(filesystem.os, "write", full)
    with pytest.raises(exception.StorageFull) as caught:
        store.add(IMAGE_ID, [b"x"])
    assert caught.value.code == 413
    assert _tmp_files(datadir) == []


def test_short_writes_are_completed(store: filesystem.FilesystemStore,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write

    def short(fd: int, data: bytes) -> int:
        return real_write(fd, bytes(data[:3]))

    monkeypatch.setattr(filesystem.os, "write", short)
    staged = store.add(IMAGE_ID, [b"0123456789"])
    monkeypatch.undo()
    staged.commit()
    assert b"".join(store.get(staged.location)) == b"0123456789"


def test_range_reads(store: filesystem.FilesystemStore) -> None:
    staged = store.add(IMAGE_ID, [b"0123456789"])
    staged.commit()
    assert list(store.get(staged.location)) == [b"0123", b"4567", b"89"]
    assert b"".join(store.get(staged.location, offset=3)) == b"3456789"
    assert b"".join(store.get(staged.location, offset=3, length=5)) == b"34567"
    assert b"".join(store.get(staged.location, offset=9, length=100)) == b"9"
    assert b"".join(store.get(staged.location, offset=2, length=0)) == b""
    assert b"".join(store.get(staged.location, offset=10)) == b""


def test_get_iterator_closes(store: filesystem.FilesystemStore) -> None:
    staged = store.add(IMAGE_ID, [b"0123456789"])
    staged.commit()
    body = store.get(staged.location)
    assert next(body) == b"0123"
    body.close()
    with pytest.raises(StopIteration):
        next(body)


def test_get_missing_is_data_not_found(store: filesystem.FilesystemStore,
                                       datadir: str) -> None:
    with pytest.raises(base.DataNotFound):
        store.get("file://" + os.path.join(datadir, IMAGE_ID))


def test_delete(store: filesystem.FilesystemStore) -> None:
    staged = store.add(IMAGE_ID, [b"data"])
    staged.commit()
    store.delete(staged.location)
    store.delete(staged.location)  # missing data is fine
    with pytest.raises(base.DataNotFound):
        store.get(staged.location)


@pytest.mark.parametrize("location", ["swift://x/y", "file://relative/path",
                                      "file:///a/../etc/passwd"])
def test_foreign_locations_are_refused(store: filesystem.FilesystemStore,
                                       location: str) -> None:
    with pytest.raises(ValueError):
        store.delete(location)
    with pytest.raises(ValueError):
        store.get(location)


@pytest.mark.parametrize("image_id", ["", "../x", ".tmp", "a/b", "a~b"])
def test_bad_image_ids_are_refused(store: filesystem.FilesystemStore, image_id: str) -> None:
    with pytest.raises(ValueError):
        store.add(image_id, [b"x"])


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_cleanup_orphans(store: filesystem.FilesystemStore, datadir: str) -> None:
    tmp = os.path.join(datadir, filesystem.TMP_DIR)
    os.makedirs(tmp)
    host = store._host
    names = {
        "dead": "%s~%s~%d~aa.part" % (IMAGE_ID, host, _dead_pid()),
        "mine": "%s~%s~%d~bb.part" % (IMAGE_ID, host, os.getpid()),
        "other_host_fresh": "%s~elsewhere~1~cc.part" % IMAGE_ID,
        "other_host_stale": "%s~elsewhere~1~dd.part" % IMAGE_ID,
        "junk_stale": "junk",
    }
    for name in names.values():
        with open(os.path.join(tmp, name), "wb") as handle:
            handle.write(b"x")
    old = time.time() - filesystem.STALE_AFTER - 60
    for key in ("other_host_stale", "junk_stale"):
        os.utime(os.path.join(tmp, names[key]), (old, old))
    assert store.cleanup_orphans() == 3
    assert _tmp_files(datadir) == sorted([names["mine"], names["other_host_fresh"]])


def test_cleanup_orphans_without_a_datadir(store: filesystem.FilesystemStore) -> None:
    assert store.cleanup_orphans() == 0


def test_get_store_reads_the_datadir_at_call_time(tmp_path: os.PathLike[str]) -> None:
    conf = cfg.ConfigOpts()
    image_opts.register_opts(conf)
    conf([], project="stratus-test", default_config_files=[])
    conf.set_override("filesystem_store_datadir", os.path.join(str(tmp_path), "a"),
                      group="store")
    store = store_mod.get_store(conf)
    assert isinstance(store, filesystem.FilesystemStore)
    conf.set_override("filesystem_store_datadir", os.path.join(str(tmp_path), "b"),
                      group="store")
    staged = store.add(IMAGE_ID, [b"x"])
    assert staged.location == "file://" + os.path.join(str(tmp_path), "b", IMAGE_ID)
    staged.abort()
