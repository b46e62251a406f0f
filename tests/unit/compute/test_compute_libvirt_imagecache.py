"""The libvirt driver's image cache (fake fetch_image) and its qemu-img calls (real)."""
from __future__ import annotations

import os
import stat
import threading
import time
from typing import Any

import pytest

from compute.virt import exception
from compute.virt.libvirt import imagecache

MiB = 1024 * 1024


class SlowImages:
    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[str] = []
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, context: Any, image_id: str, dest: str) -> None:
        with self._lock:
            self.calls.append(image_id)
        with open(dest, "wb") as out:
            out.write(b"part")
            time.sleep(self.delay)  # a reader of the final path must never see this
            out.write(b" of %s" % image_id.encode())


def test_fetch_once_then_from_the_cache(tmp_path: Any) -> None:
    images = SlowImages()
    cache = imagecache.ImageCache(str(tmp_path / "_base"), images)
    path = cache.fetch("ctx", "image-1")
    assert path == str(tmp_path / "_base" / "image-1")
    assert open(path, "rb").read() == b"part of image-1"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(tmp_path / "_base").st_mode) == 0o755
    assert cache.fetch("ctx", "image-1") == path
    assert images.calls == ["image-1"]


def test_concurrent_spawns_download_once(tmp_path: Any) -> None:
    images = SlowImages(delay=0.2)
    cache = imagecache.ImageCache(str(tmp_path / "_base"), images)
    got: list[bytes] = []
    errors: list[BaseException] = []

    def spawn() -> None:
        try:
            with open(cache.fetch(None, "image-2"), "rb") as f:
                got.append(f.read())
        except BaseException as err:  # noqa: B036 - reported below
            errors.append(err)

    threads = [threading.Thread(target=spawn) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and images.calls == ["image-2"]
    assert got == [b"part of image-2"] * 8


def test_failed_download_leaves_nothing(tmp_path: Any) -> None:
    def broken(context: Any, image_id: str, dest: str) -> None:
        with open(dest, "wb") as out:
            out.write(b"half")
        raise ConnectionError("reset by peer")

    cache = imagecache.ImageCache(str(tmp_path / "_base"), broken)
    with pytest.raises(ConnectionError):
        cache.fetch(None, "image-3")
    assert os.listdir(tmp_path / "_base") == [".image-3.lock"]


@pytest.mark.parametrize("image_id", ["", "../x", "a/b", ".hidden", "x" * 300])
def test_unsafe_image_ids(tmp_path: Any, image_id: str) -> None:
    cache = imagecache.ImageCache(str(tmp_path / "_base"), SlowImages())
    with pytest.raises(exception.ImageUnacceptable):
        cache.fetch(None, image_id)


def test_without_a_fetcher_only_cached_images(tmp_path: Any) -> None:
    base = tmp_path / "_base"
    base.mkdir()
    (base / "cached").write_bytes(b"x")
    cache = imagecache.ImageCache(str(base), None)
    assert cache.fetch(None, "cached") == str(base / "cached")
    with pytest.raises(exception.InstanceDeployFailure):
        cache.fetch(None, "missing")


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_overlay_of_a_base(tmp_path: Any, fmt: str) -> None:
    base, disk = str(tmp_path / "base"), str(tmp_path / "disk")
    imagecache.qemu_img("create", "-q", "-f", fmt, base, "1M")
    imagecache.create_overlay(base, fmt, disk, 64 * MiB)
    info = imagecache.image_info(disk)
    assert info["format"] == "qcow2" and info["virtual-size"] == 64 * MiB
    assert info["backing-filename"] == base and info["backing-filename-format"] == fmt
    imagecache.create_overlay(base, fmt, str(tmp_path / "same"))
    assert imagecache.image_info(str(tmp_path / "same"))["virtual-size"] == MiB


def test_convert_flattens_the_chain(tmp_path: Any) -> None:
    base, disk, flat = (str(tmp_path / n) for n in ("base", "disk", "flat"))
    with open(base, "wb") as out:
        out.write(b"boot sector".ljust(MiB, b"\0"))
    imagecache.create_overlay(base, "raw", disk)
    imagecache.convert(disk, flat, "qcow2")
    info = imagecache.image_info(flat)
    assert info["format"] == "qcow2" and "backing-filename" not in info
    imagecache.convert(flat, str(tmp_path / "raw"), "qcow2", "raw")
    assert open(tmp_path / "raw", "rb").read(11) == b"boot sector"


def test_qemu_img_errors(tmp_path: Any) -> None:
    with pytest.raises(imagecache.QemuImgError, match="qemu-img info"):
        imagecache.image_info(str(tmp_path / "missing"))


def test_direct_io_probe(tmp_path: Any) -> None:
    assert isinstance(imagecache.supports_direct_io(str(tmp_path)), bool)
    assert os.listdir(tmp_path) == []


def test_direct_io_refused(tmp_path: Any, monkeypatch: Any) -> None:
    real_open = os.open

    def no_direct(path: str, flags: int, *args: Any) -> int:
        if flags & os.O_DIRECT:
            raise OSError(22, "Invalid argument")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", no_direct)
    assert imagecache.supports_direct_io(str(tmp_path)) is False
    assert os.listdir(tmp_path) == []


def test_unsearchable_parent(tmp_path: Any) -> None:
    closed = tmp_path / "closed"
    inner = closed / "instances"
    inner.mkdir(parents=True)
    os.chmod(tmp_path, 0o755)
    os.chmod(closed, 0o700)
    assert imagecache.unsearchable_parent(str(inner / "x")) == str(closed)
    os.chmod(closed, 0o711)
    found = imagecache.unsearchable_parent(str(inner / "x"))  # pytest's own 0700 directories
    assert found is None or (found != str(closed) and str(closed).startswith(found + os.sep))
