"""Local disk files of the libvirt driver: the image cache and ``qemu-img``.

Base images live in ``<instances_path>/_base/<image id>``, fetched once through
the callable the manager injected (``fetch_image(context, image_id, dest)``;
the driver never talks to the image service). A download goes to a hidden
temporary file beside it and is renamed into place, so a half-written base is
never used; an ``flock`` on ``_base/.<image id>.lock`` makes concurrent spawns of
the same image (threads, or node processes sharing the directory) download it
once. Files are world-readable (0644, directories 0755): QEMU runs as
``libvirt-qemu`` and reads the base images through the overlays' backing chain.

Instance root disks are qcow2 overlays of the base (``qemu-img create -f qcow2
-b BASE -F FORMAT``), grown to the flavor's root_gb.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import mmap
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from typing import Any

from oslo_log import log as logging

from compute.virt import driver
from compute.virt import exception
from compute.virt import model

LOG = logging.getLogger(__name__)

# Glance disk formats a root disk can be made from, and the qemu format of each.
IMAGE_FORMATS = {"qcow2": "qcow2", "raw": "raw", "ami": "raw", "img": "raw"}
QEMU_IMG_TIMEOUT = 600
FILE_MODE = 0o644
DIR_MODE = 0o755
# Image ids become file names: no separators, no leading dot.
_SAFE_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$")


class QemuImgError(Exception):
    """``qemu-img`` failed (its message is the command's stderr)."""


def qemu_img(*args: str, timeout: float = QEMU_IMG_TIMEOUT) -> str:
    """Run ``qemu-img args``; its stdout.

    :raises: QemuImgError.
    """
    argv = ["qemu-img", *args]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              check=False, env={**os.environ, "LC_ALL": "C"})
    except (OSError, subprocess.TimeoutExpired) as err:
        raise QemuImgError("%s: %s" % (" ".join(argv), err)) from err
    if done.returncode != 0:
        raise QemuImgError("%s: %s" % (" ".join(argv), done.stderr.strip() or done.returncode))
    return done.stdout


def image_info(path: str) -> dict[str, Any]:
    """``qemu-img info`` of ``path`` (format, virtual-size, backing-filename...);
    works on images a running guest has open (``-U``)."""
    info: dict[str, Any] = json.loads(qemu_img("info", "-U", "--output=json", path))
    return info


def create_overlay(base: str, base_format: str, dest: str, size: int | None = None) -> None:
    """A qcow2 ``dest`` backed by ``base`` (absolute path), ``size`` bytes when given."""
    args = ["create", "-q", "-f", "qcow2", "-b", base, "-F", base_format, dest]
    if size is not None:
        args.append(str(size))
    qemu_img(*args)
    os.chmod(dest, FILE_MODE)


def create_root_disk(base: str, image_meta: model.ImageMeta, size: int, path: str) -> None:
    """The root disk at ``path``: a qcow2 overlay of cached image ``base``, grown to
    ``size`` bytes when that is more than the image (0: the image's size).

    :raises: ImageUnacceptable (a format that cannot be a root disk, a qcow2 with a
        backing file or that is none, an image larger than ``size``),
        InstanceDeployFailure.
    """
    image_id = image_meta.id or ""
    fmt = IMAGE_FORMATS.get(image_meta.disk_format)
    if fmt is None:
        raise exception.ImageUnacceptable(
            image_id=image_id, reason="disk format %s cannot be a root disk (use %s)"
            % (image_meta.disk_format, ", ".join(IMAGE_FORMATS)))
    try:
        info = image_info(base)
    except QemuImgError as err:
        raise exception.ImageUnacceptable(image_id=image_id, reason=str(err)) from err
    if fmt == "qcow2" and info.get("format") != "qcow2":
        raise exception.ImageUnacceptable(image_id=image_id,
                                          reason="it is %s, not qcow2" % info.get("format"))
    if fmt == "qcow2" and (info.get("backing-filename") or info.get("full-backing-filename")):
        # A backing file named by an image could be any file of this host.
        raise exception.ImageUnacceptable(image_id=image_id, reason="it has a backing file")
    virtual = int(info.get("virtual-size") or 0)
    if size and virtual > size:
        raise exception.ImageUnacceptable(
            image_id=image_id, reason="its virtual size (%d bytes) exceeds the flavor's root "
            "disk (%d bytes)" % (virtual, size))
    try:
        create_overlay(base, fmt, path, size if size > virtual else None)
    except QemuImgError as err:
        raise exception.InstanceDeployFailure(reason=str(err)) from err


def link(source: str, dest: str) -> str:
    """``dest`` as a hard link to ``source`` (a copy across filesystems), readable
    by QEMU: an instance keeps its kernel even when the cache is cleaned."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(dest)
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)
    os.chmod(dest, FILE_MODE)
    return dest


def convert(source: str, dest: str, source_format: str | None = None,
            dest_format: str = "qcow2") -> None:
    """Flatten ``source`` (and its backing chain) into a standalone ``dest``;
    ``source`` may be open by a guest (``-U``)."""
    args = ["convert", "-U", "-O", dest_format]
    if source_format:
        args += ["-f", source_format]
    qemu_img(*args, source, dest)


def supports_direct_io(directory: str) -> bool:
    """Whether files in ``directory`` can be opened with O_DIRECT (tmpfs cannot):
    disks there can use ``cache='none'``."""
    if not hasattr(os, "O_DIRECT"):
        return False
    fd, path = tempfile.mkstemp(prefix=".directio-", dir=directory)
    os.close(fd)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_DIRECT)
        try:
            with mmap.mmap(-1, 4096) as buf:  # page-aligned, as O_DIRECT wants
                os.write(fd, buf)
        finally:
            os.close(fd)
        return True
    except OSError as err:
        if err.errno != errno.EINVAL:
            LOG.warning("O_DIRECT probe in %s failed: %s", directory, err)
        return False
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def unsearchable_parent(path: str) -> str | None:
    """The first directory above ``path`` that others (QEMU's user) cannot enter."""
    parent = os.path.dirname(os.path.abspath(path))
    while True:
        try:
            if not os.stat(parent).st_mode & 0o001:
                return parent
        except OSError:
            return parent
        if parent == os.path.dirname(parent):
            return None
        parent = os.path.dirname(parent)


def ensure_dir(path: str) -> str:
    os.makedirs(path, mode=DIR_MODE, exist_ok=True)
    os.chmod(path, DIR_MODE)
    return path


class ImageCache:
    """Base images in ``base_dir``, fetched on first use."""

    def __init__(self, base_dir: str,
                 fetch_image: driver.FetchImageCallback | None) -> None:
        self.base_dir = base_dir
        self._fetch_image = fetch_image

    def path(self, image_id: str) -> str:
        if not _SAFE_ID.match(image_id or ""):
            raise exception.ImageUnacceptable(image_id=image_id,
                                              reason="its id cannot name a file")
        return os.path.join(self.base_dir, image_id)

    @contextlib.contextmanager
    def _locked(self, image_id: str) -> Iterator[None]:
        lock_path = os.path.join(self.base_dir, ".%s.lock" % image_id)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def fetch(self, context: Any, image_id: str) -> str:
        """The local path of image ``image_id``, downloading it when missing.

        :raises: ImageUnacceptable (unsafe id, empty image), InstanceDeployFailure
            (no fetcher); whatever ``fetch_image`` raises.
        """
        path = self.path(image_id)
        if os.path.exists(path):
            os.utime(path)  # last use, for whoever ages the cache
            return path
        ensure_dir(self.base_dir)
        with self._locked(image_id):
            if os.path.exists(path):  # another spawn fetched it while we waited
                return path
            if self._fetch_image is None:
                raise exception.InstanceDeployFailure(
                    reason="image %s is not cached and the driver has no image fetcher"
                    % image_id)
            fd, tmp = tempfile.mkstemp(prefix=".%s.part-" % image_id, dir=self.base_dir)
            os.close(fd)
            try:
                LOG.info("Fetching image %s into the cache", image_id)
                self._fetch_image(context, image_id, tmp)
                if os.path.getsize(tmp) == 0:
                    raise exception.ImageUnacceptable(image_id=image_id, reason="it is empty")
                os.chmod(tmp, FILE_MODE)
                os.rename(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        return path
