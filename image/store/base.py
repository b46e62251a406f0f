"""The image store interface: where image bytes live, written via a temporary file
and committed (atomically) only once the image record says the data is complete."""
from __future__ import annotations

import abc
from typing import Iterable, Iterator

from image import exception

#: Size of the chunks stores read and write (large chunks keep the per-chunk
#: Python overhead, hashing calls and syscalls negligible at disk/network speed).
CHUNK_SIZE = 4 * 1024 * 1024


DataNotFound = exception.DataNotFound


class Staged(abc.ABC):
    """Data written by :meth:`Store.add`, not yet visible at :attr:`location`."""

    #: Where the data will be once committed (``file:///<datadir>/<image_id>``).
    location: str
    #: Bytes written.
    size: int

    @abc.abstractmethod
    def commit(self) -> None:
        """Make the data visible at :attr:`location` (atomically, durably).

        :raises: OSError when the store cannot publish the data.
        """

    @abc.abstractmethod
    def abort(self) -> None:
        """Throw the data away. Idempotent; a no-op after :meth:`commit`.

        :raises: nothing (failures are logged).
        """


class DataIterator(Iterator[bytes]):
    """An iterator over stored bytes that releases its resources on ``close()``
    (WSGI servers call ``close()`` on the response iterable, also when the client
    went away mid-download)."""

    def __iter__(self) -> DataIterator:
        return self

    @abc.abstractmethod
    def __next__(self) -> bytes: ...

    @abc.abstractmethod
    def close(self) -> None: ...


class Store(abc.ABC):
    """A place for image data. Implementations must be thread-safe."""

    #: URL scheme of the locations this store hands out.
    scheme: str

    @abc.abstractmethod
    def add(self, image_id: str, chunks: Iterable[bytes]) -> Staged:
        """Write ``chunks`` to a temporary place of the store.

        Any exception raised by ``chunks`` (a size limit, a truncated body) is
        propagated after the temporary data was removed.

        :param image_id: the image the data belongs to.
        :param chunks: the bytes, in order.
        :returns: the :class:`Staged` data, to commit or abort.
        :raises: StorageFull (413) when the store ran out of space.
        """

    @abc.abstractmethod
    def get(self, location: str, offset: int = 0, length: int | None = None) -> DataIterator:
        """The data at ``location``, from ``offset``, at most ``length`` bytes.

        The data is opened before this returns, so a missing location fails here
        rather than in the middle of a response.

        :raises: DataNotFound.
        """

    @abc.abstractmethod
    def delete(self, location: str) -> None:
        """Delete the data at ``location``; missing data is not an error.

        :raises: OSError when existing data cannot be removed.
        """

    @abc.abstractmethod
    def cleanup_orphans(self) -> int:
        """Remove temporary data left behind by a crashed process.

        :returns: how many temporary files were removed.
        :raises: nothing (failures are logged).
        """
