"""Several stores at once: new data goes to the default one, existing data is read and
deleted in whichever store its location names (images keep working after the
default store changes)."""
from __future__ import annotations

from typing import Iterable

from image import exception
from image.store import base


class MultiStore(base.Store):
    def __init__(self, stores: dict[str, base.Store], default: str) -> None:
        self._stores = stores
        self._default = stores[default]
        self.scheme = self._default.scheme

    def _for(self, location: str) -> base.Store:
        scheme = location.split("://", 1)[0]
        for store in self._stores.values():
            if store.scheme == scheme:
                return store
        raise exception.DataNotFound(detail="no store for location %s" % location)

    def add(self, image_id: str, chunks: Iterable[bytes]) -> base.Staged:
        return self._default.add(image_id, chunks)

    def get(self, location: str, offset: int = 0, length: int | None = None
            ) -> base.DataIterator:
        return self._for(location).get(location, offset, length)

    def delete(self, location: str) -> None:
        self._for(location).delete(location)

    def cleanup_orphans(self) -> int:
        return sum(store.cleanup_orphans() for store in self._stores.values())
