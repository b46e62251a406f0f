"""The read side of a ring: which devices hold an account, container or object.

Every object store process (proxy, storage servers, daemons) holds one ``Ring`` per
ring file and asks it for nodes on every request, so lookups are cheap: the file is
parsed once into an immutable snapshot (replica → partition → device id arrays and
a device list), and the only per-call extra is one clock comparison deciding whether
it is time to look at the file's mtime again. A reload swaps the whole snapshot at
once, so threads never see half of an old ring and half of a new one.
"""
from __future__ import annotations

import gzip
import json
import logging
import os
import random
import struct
import threading
import time
from array import array
from typing import Any, Iterator

from objectstore.common.utils import hash_path

LOG = logging.getLogger(__name__)

#: The keys of a device dict, as the ring file and get_nodes carry them.
DEV_KEYS = ("id", "region", "zone", "ip", "port", "replication_ip", "replication_port",
            "device", "weight", "meta")

_UNPACK_PART = struct.Struct(">I").unpack_from


class RingLoadError(Exception):
    """A ring file is missing or cannot be read; carries the path."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__("cannot load ring %s: %s" % (path, reason))
        self.path = path


def ring_path(swift_dir: str, ring_name: str) -> str:
    """Where the ring ``ring_name`` lives in ``swift_dir`` (``<name>.ring.gz``)."""
    return os.path.join(swift_dir, ring_name + ".ring.gz")


def read_ring_file(path: str) -> dict[str, Any]:
    """The decoded content of a ring file (gzipped JSON).

    :raises RingLoadError: when the file is missing, not gzip, not JSON or lacks keys.
    """
    try:
        with gzip.open(path, "rb") as handle:
            data = json.loads(handle.read().decode("utf-8"))
    except FileNotFoundError:
        raise RingLoadError(path, "no such file") from None
    except (OSError, EOFError, ValueError) as err:
        raise RingLoadError(path, "%s: %s" % (type(err).__name__, err)) from None
    if not isinstance(data, dict):
        raise RingLoadError(path, "not a ring (JSON object expected)")
    for key in ("replica2part2dev", "devs"):
        if key not in data:
            raise RingLoadError(path, "missing key %r" % key)
    if "part_shift" not in data and "part_power" not in data:
        raise RingLoadError(path, "missing key 'part_power'")
    return data


class _Snapshot:
    """One parsed ring file; never changed after construction."""

    __slots__ = ("mtime", "part_shift", "part_power", "replica2part2dev", "devs",
                 "live_devs")

    def __init__(self, data: dict[str, Any], mtime: float, path: str) -> None:
        self.mtime = mtime
        if "part_shift" in data:
            self.part_shift = int(data["part_shift"])
            self.part_power = 32 - self.part_shift
        else:
            self.part_power = int(data["part_power"])
            self.part_shift = 32 - self.part_power
        self.devs: list[dict[str, Any] | None] = [
            _normalize_dev(dev) if dev is not None else None for dev in data["devs"]]
        self.live_devs = [dev for dev in self.devs if dev is not None]
        parts = 2 ** self.part_power
        self.replica2part2dev: list[array[int]] = []
        for row in data["replica2part2dev"]:
            typecode = "H" if len(self.devs) < 65536 else "I"
            ids = array(typecode, row)
            if len(ids) != parts:
                raise RingLoadError(path, "a replica row has %d partitions, not %d"
                                    % (len(ids), parts))
            for dev_id in set(ids):
                if dev_id >= len(self.devs) or self.devs[dev_id] is None:
                    raise RingLoadError(path, "partitions assigned to unknown device %d"
                                        % dev_id)
            self.replica2part2dev.append(ids)


def _normalize_dev(dev: dict[str, Any]) -> dict[str, Any]:
    """A device dict with exactly DEV_KEYS (replication address defaults to the main one)."""
    out = {key: dev.get(key) for key in DEV_KEYS}
    if out["replication_ip"] is None:
        out["replication_ip"] = out["ip"]
    if out["replication_port"] is None:
        out["replication_port"] = out["port"]
    if out["meta"] is None:
        out["meta"] = ""
    if out["region"] is None:
        out["region"] = 1
    return out


class Ring:
    """A ring file (``<swift_dir>/<ring_name>.ring.gz``) kept current in memory.

    :raises RingLoadError: at construction when the file is missing or unreadable.
    """

    def __init__(self, swift_dir: str, ring_name: str = "object",
                 reload_interval: float = 15) -> None:
        self.path = ring_path(swift_dir, ring_name)
        self.ring_name = ring_name
        self.reload_interval = reload_interval
        self._lock = threading.Lock()
        self._data = self._load()
        self._next_check = time.monotonic() + reload_interval

    def _load(self) -> _Snapshot:
        try:
            mtime = os.path.getmtime(self.path)
        except FileNotFoundError:
            raise RingLoadError(self.path, "no such file") from None
        return _Snapshot(read_ring_file(self.path), mtime, self.path)

    def _current(self) -> _Snapshot:
        """The snapshot to answer from, reloading first when the file changed."""
        if time.monotonic() >= self._next_check:
            self._maybe_reload()
        return self._data

    def _maybe_reload(self) -> None:
        with self._lock:
            if time.monotonic() < self._next_check:
                return  # another thread just checked
            self._next_check = time.monotonic() + self.reload_interval
            if not self.has_changed():
                return
            try:
                self._data = self._load()
            except RingLoadError as err:
                # Keep serving from the ring we have; a half-written or removed file
                # must not take the cluster down. Try again at the next interval.
                LOG.warning("keeping the loaded ring: %s", err)
            else:
                LOG.info("reloaded ring %s", self.path)

    def has_changed(self) -> bool:
        """Whether the file on disk differs (by mtime) from the loaded one."""
        try:
            return os.path.getmtime(self.path) != self._data.mtime
        except OSError:
            return True

    @property
    def replica_count(self) -> int:
        return len(self._current().replica2part2dev)

    @property
    def partition_count(self) -> int:
        return 2 ** self._current().part_power

    @property
    def part_power(self) -> int:
        return self._current().part_power

    @property
    def devs(self) -> list[dict[str, Any] | None]:
        """Every device by id (None where an id was removed); copies, safe to change."""
        return [dict(dev) if dev is not None else None for dev in self._current().devs]

    def get_part(self, account: str, container: str | None = None,
                 obj: str | None = None) -> int:
        """The partition of a path: the top ``part_power`` bits of its salted md5."""
        digest = hash_path(account, container, obj, raw_digest=True)
        return int(_UNPACK_PART(digest)[0] >> self._current().part_shift)

    def get_nodes(self, account: str, container: str | None = None,
                  obj: str | None = None) -> tuple[int, list[dict[str, Any]]]:
        """The partition of a path and its primary devices (copies with ``index``)."""
        data = self._current()
        digest = hash_path(account, container, obj, raw_digest=True)
        part = int(_UNPACK_PART(digest)[0] >> data.part_shift)
        return part, _primaries(data, part)

    def get_part_nodes(self, part: int) -> list[dict[str, Any]]:
        """The primary devices of a partition (copies with ``index`` = replica index)."""
        return _primaries(self._current(), part)

    def get_more_nodes(self, part: int) -> Iterator[dict[str, Any]]:
        """Handoff devices of a partition: every non-primary device, best spread first.

        The order is fixed per partition (so every proxy and daemon agrees where a
        handoff copy went) and prefers, in turn, regions, zones, ip:port pairs and
        finally devices that no primary nor earlier handoff uses.
        """
        data = self._current()
        used_ids = {data.replica2part2dev[r][part] for r in range(len(data.replica2part2dev))}
        others = [dev for dev in data.live_devs if dev["id"] not in used_ids]
        # Weight-0 devices are being drained; offer them last.
        random.Random(part).shuffle(others)
        others.sort(key=lambda dev: not dev["weight"])
        used = [data.devs[dev_id] for dev_id in used_ids]
        seen: list[set[Any]] = [set(), set(), set()]
        for dev in used:
            if dev is not None:
                _mark(seen, dev)
        yielded: set[int] = set()
        for tier in range(3):
            for dev in others:
                if dev["id"] not in yielded and _tier_key(dev, tier) not in seen[tier]:
                    yielded.add(dev["id"])
                    _mark(seen, dev)
                    yield dict(dev, handoff_index=len(yielded) - 1)
        for dev in others:
            if dev["id"] not in yielded:
                yielded.add(dev["id"])
                yield dict(dev, handoff_index=len(yielded) - 1)


def _tier_key(dev: dict[str, Any], tier: int) -> Any:
    """Region (0), region+zone (1) or region+zone+ip:port (2) of a device."""
    if tier == 0:
        return dev["region"]
    if tier == 1:
        return (dev["region"], dev["zone"])
    return (dev["region"], dev["zone"], dev["ip"], dev["port"])


def _mark(seen: list[set[Any]], dev: dict[str, Any]) -> None:
    for tier in range(3):
        seen[tier].add(_tier_key(dev, tier))


def _primaries(data: _Snapshot, part: int) -> list[dict[str, Any]]:
    """The devices of ``part``, one per replica; a device shared by replicas is listed once."""
    nodes: list[dict[str, Any]] = []
    seen: set[int] = set()
    devs = data.devs
    for index, row in enumerate(data.replica2part2dev):
        dev_id = row[part]
        if dev_id in seen:
            continue
        seen.add(dev_id)
        dev = devs[dev_id]
        if dev is not None:
            node = dict(dev)
            node["index"] = index
            nodes.append(node)
    return nodes
