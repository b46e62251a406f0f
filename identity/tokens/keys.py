"""The Fernet key repository: setup, rotation and loading (cached by mtime).

Key 0 is staged (distributed before it is used), the highest number is the
primary (signs new tokens); every key validates.
"""
from __future__ import annotations

import os
import threading

from cryptography import fernet

from common import exception


class KeyRepository:
    def __init__(self, path: str, max_active_keys: int = 3) -> None:
        self.path = path
        self.max_active_keys = max_active_keys
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        self._multi: fernet.MultiFernet | None = None
        self.generation = 0

    def _indexes(self) -> list[int]:
        if not os.path.isdir(self.path):
            return []
        return sorted(int(name) for name in os.listdir(self.path) if name.isdigit())

    def _write(self, index: int) -> None:
        tmp = os.path.join(self.path, ".tmp.%d" % index)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(fernet.Fernet.generate_key())
        os.replace(tmp, os.path.join(self.path, str(index)))

    def setup(self) -> bool:
        """Create the repository with a staged and a primary key; False if it exists."""
        os.makedirs(self.path, mode=0o700, exist_ok=True)
        if self._indexes():
            return False
        self._write(0)
        self.rotate()
        return True

    def rotate(self) -> int:
        """Promote the staged key, stage a new one, drop the oldest extras.

        :returns: the index of the new primary key.
        """
        indexes = self._indexes()
        if not indexes:
            raise exception.ServiceUnavailable(reason="no token keys; run fernet-setup")
        new_primary = max(indexes) + 1
        os.replace(os.path.join(self.path, "0"), os.path.join(self.path, str(new_primary)))
        self._write(0)
        secondaries = [i for i in self._indexes() if i not in (0, new_primary)]
        excess = len(secondaries) + 2 - self.max_active_keys
        for index in sorted(secondaries)[:max(excess, 0)]:
            os.remove(os.path.join(self.path, str(index)))
        return new_primary

    def multi(self) -> fernet.MultiFernet:
        """The keys as a MultiFernet (primary first), reloaded when the directory changes."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            raise exception.ServiceUnavailable(reason="token key repository %s is missing"
                                               % self.path)
        stamp = (stat.st_mtime, stat.st_ino)
        with self._lock:
            if self._multi is None or stamp != self._stamp:
                indexes = sorted(self._indexes(), reverse=True)
                if not indexes:
                    raise exception.ServiceUnavailable(reason="no token keys in %s" % self.path)
                keys = []
                for index in indexes:
                    with open(os.path.join(self.path, str(index)), "rb") as handle:
                        keys.append(fernet.Fernet(handle.read().strip()))
                self._multi = fernet.MultiFernet(keys)
                self._stamp = stamp
                self.generation += 1
            return self._multi
