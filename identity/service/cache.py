"""A small in-process cache for token validation lookups.

Entries live ``ttl`` seconds (the staleness other processes' writes may see) and
are all dropped at once when this process writes (``invalidate``).
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

_MISSING = object()


class Cache:
    def __init__(self, ttl: float, max_entries: int = 10000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._data: dict[Any, tuple[float, int, Any]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._data.clear()

    def get_or_load(self, key: Any, loader: Callable[[], Any], fresh: bool = False) -> Any:
        """The cached value of ``key``, loaded when absent, stale, or ``fresh``."""
        if self.ttl <= 0:
            return loader()
        now = time.monotonic()
        entry = self._data.get(key)
        if not fresh and entry is not None and entry[0] > now \
                and entry[1] == self._generation:
            return entry[2]
        generation = self._generation
        value = loader()
        with self._lock:
            if generation == self._generation:
                if len(self._data) >= self.max_entries:
                    self._data.clear()
                self._data[key] = (now + self.ttl, generation, value)
        return value
