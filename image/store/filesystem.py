"""The filesystem store: one file per image under a directory, written to a
``.tmp/`` subdirectory first and renamed into place on commit."""
from __future__ import annotations

import errno
import os
import secrets
import socket
import stat
import time
from typing import Callable, Iterable

from oslo_log import log as logging

from image import exception
from image.store import base

LOG = logging.getLogger(__name__)

TMP_DIR = ".tmp"
_SUFFIX = ".part"
_SEP = "~"
#: Temporary files of other hosts (a shared datadir) are only removed once
#: nobody wrote to them for this long; an upload in progress keeps its file fresh.
STALE_AFTER = 6 * 3600
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _storage_full(err: OSError, path: str) -> exception.StorageFull:
    return exception.StorageFull(detail="%s (%s)" % (os.strerror(err.errno or 0), path))


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FileStaged(base.Staged):
    """A temporary file waiting to be renamed to its final path."""

    def __init__(self, tmp_path: str, final_path: str, location: str, size: int) -> None:
        self.tmp_path = tmp_path
        self.final_path = final_path
        self.location = location
        self.size = size
        self.committed = False
        self._aborted = False

    def commit(self) -> None:
        """Rename the temporary file into place and make the rename durable.

        :raises: OSError when the rename fails (also when the data was aborted).
        """
        if self._aborted:
            raise FileNotFoundError(errno.ENOENT, "staged data was aborted", self.tmp_path)
        if self.committed:
            return
        os.rename(self.tmp_path, self.final_path)
        self.committed = True
        try:
            _fsync_dir(os.path.dirname(self.final_path))
        except OSError as err:  # the data is in place; only the rename's durability is unsure
            LOG.warning("Could not fsync %(dir)s: %(err)s",
                        {"dir": os.path.dirname(self.final_path), "err": err})

    def abort(self) -> None:
        """Remove the temporary file (no-op once committed). :raises: nothing."""
        if self.committed or self._aborted:
            return
        self._aborted = True
        try:
            os.unlink(self.tmp_path)
        except FileNotFoundError:
            pass
        except OSError as err:
            LOG.warning("Could not remove temporary image data %(path)s: %(err)s",
                        {"path": self.tmp_path, "err": err})


class FileIterator(base.DataIterator):
    """Reads ``length`` bytes (or to the end) of an open file, in big chunks."""

    def __init__(self, fd: int, length: int | None, chunk_size: int) -> None:
        self._fd: int | None = fd
        self._remaining = length
        self._chunk_size = chunk_size

    def __next__(self) -> bytes:
        if self._fd is None:
            raise StopIteration
        want = self._chunk_size
        if self._remaining is not None:
            want = min(want, self._remaining)
        data = os.read(self._fd, want) if want > 0 else b""
        if not data:
            self.close()
            raise StopIteration
        if self._remaining is not None:
            self._remaining -= len(data)
        return data

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:
        self.close()


class FilesystemStore(base.Store):
    """Images as files under a directory.

    :param datadir: returns the directory (called at use time, so a changed
        configuration applies without restarting).
    :param file_mode: permissions of committed files; the default lets another
        local user (libvirt-qemu) read them.
    """

    scheme = "file"

    def __init__(self, datadir: Callable[[], str], file_mode: int = 0o644,
                 dir_mode: int = 0o755, chunk_size: int = base.CHUNK_SIZE) -> None:
        self._datadir = datadir
        self._file_mode = file_mode
        self._dir_mode = dir_mode
        self._chunk_size = chunk_size
        self._host = socket.gethostname().replace(_SEP, "-").replace(os.sep, "-")

    # -- paths
    def root(self) -> str:
        return os.path.abspath(self._datadir())

    def path_for(self, image_id: str) -> str:
        return os.path.join(self.root(), image_id)

    def location_for(self, image_id: str) -> str:
        return "file://" + self.path_for(image_id)

    def _path(self, location: str) -> str:
        prefix = "file://"
        if not location.startswith(prefix):
            raise ValueError("not a file location: %r" % location)
        path = location[len(prefix):]
        if not os.path.isabs(path) or os.path.normpath(path) != path:
            raise ValueError("not a normalised absolute file location: %r" % location)
        return path

    def _ensure_dir(self, path: str) -> None:
        if os.path.isdir(path):
            return
        os.makedirs(path, exist_ok=True)
        # The umask may be stricter than what readers of the store need.
        os.chmod(path, self._dir_mode)

    @staticmethod
    def _check_id(image_id: str) -> None:
        if (not image_id or image_id.startswith(".") or os.sep in image_id
                or _SEP in image_id or "\0" in image_id):
            raise ValueError("invalid image id for a file name: %r" % image_id)

    # -- Store
    def add(self, image_id: str, chunks: Iterable[bytes]) -> FileStaged:
        """Write ``chunks`` to ``<datadir>/.tmp/`` and fsync them.

        :raises: StorageFull (413) on ENOSPC/EDQUOT/EFBIG; whatever ``chunks``
            raises (after the temporary file was removed).
        """
        self._check_id(image_id)
        root = self.root()
        tmp_dir = os.path.join(root, TMP_DIR)
        try:
            self._ensure_dir(root)
            self._ensure_dir(tmp_dir)
        except OSError as err:
            if err.errno in _FULL:
                raise _storage_full(err, root)
            raise
        name = _SEP.join((image_id, self._host, str(os.getpid()), secrets.token_hex(4)))
        tmp_path = os.path.join(tmp_dir, name + _SUFFIX)
        size = self._write(tmp_path, chunks)
        return FileStaged(tmp_path, os.path.join(root, image_id),
                          "file://" + os.path.join(root, image_id), size)

    def _write(self, tmp_path: str, chunks: Iterable[bytes]) -> int:
        fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        size = 0
        try:
            try:
                os.fchmod(fd, self._file_mode)
                write = os.write
                for chunk in chunks:
                    written = write(fd, chunk)
                    while written < len(chunk):  # short writes: signals, nearly-full disk
                        written += write(fd, memoryview(chunk)[written:])
                    size += written
                os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException as err:
            try:
                os.unlink(tmp_path)
            except OSError:
                LOG.warning("Could not remove temporary image data %(path)s",
                            {"path": tmp_path})
            if isinstance(err, OSError) and err.errno in _FULL:
                raise _storage_full(err, tmp_path)
            raise
        return size

    def get(self, location: str, offset: int = 0,
            length: int | None = None) -> FileIterator:
        """:raises: DataNotFound."""
        path = self._path(location)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise base.DataNotFound(location=location)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise base.DataNotFound(location=location)
            if offset:
                os.lseek(fd, offset, os.SEEK_SET)
            if hasattr(os, "posix_fadvise"):
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        except BaseException:
            os.close(fd)
            raise
        return FileIterator(fd, length, self._chunk_size)

    def delete(self, location: str) -> None:
        """:raises: OSError other than a missing file."""
        path = self._path(location)
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        LOG.debug("Deleted image data %(path)s", {"path": path})

    def cleanup_orphans(self) -> int:
        """Remove temporary files of dead processes of this host, and files of any
        host untouched for :data:`STALE_AFTER` seconds. :raises: nothing."""
        tmp_dir = os.path.join(self.root(), TMP_DIR)
        try:
            names = os.listdir(tmp_dir)
        except FileNotFoundError:
            return 0
        except OSError as err:
            LOG.warning("Cannot list %(dir)s: %(err)s", {"dir": tmp_dir, "err": err})
            return 0
        removed = 0
        for name in names:
            path = os.path.join(tmp_dir, name)
            if self._orphan(name, path):
                try:
                    os.unlink(path)
                    removed += 1
                    LOG.info("Removed orphaned image data %(path)s", {"path": path})
                except FileNotFoundError:
                    pass
                except OSError as err:
                    LOG.warning("Cannot remove %(path)s: %(err)s", {"path": path, "err": err})
        return removed

    def _orphan(self, name: str, path: str) -> bool:
        parts = name[:-len(_SUFFIX)].split(_SEP) if name.endswith(_SUFFIX) else []
        if len(parts) == 4 and parts[1] == self._host and parts[2].isdigit():
            pid = int(parts[2])
            if pid != os.getpid() and not _pid_alive(pid):
                return True
        try:
            return time.time() - os.stat(path).st_mtime > STALE_AFTER
        except OSError:
            return False
