"""The build side of a ring: devices, weights and the partition assignment.

An operator keeps one builder file (JSON) per ring, changes devices with the
``stratus-manage objectstore ring`` commands, rebalances, and copies the resulting
``<name>.ring.gz`` to every node. The builder remembers when each partition last
moved so a rebalance never moves a replica of a partition that moved less than
``min_part_hours`` ago (its data may still be in flight), unless its device is gone.

Every device should hold ``partitions * replicas * weight / total weight`` replicas
(never more than one replica of each partition while there are at least as many
devices as replicas); ``placement.py`` holds the rebalance engine.
"""
from __future__ import annotations

import gzip
import json
import logging
import math
import os
import random
import re
import tempfile
import time
from typing import Any

from objectstore.common.ring.placement import NONE, Planner
from objectstore.common.ring.ring import DEV_KEYS

LOG = logging.getLogger(__name__)



def atomic_write(path: str, payload: bytes) -> None:
    """Replace ``path`` with ``payload`` so readers see the old or the new file, whole.

    A temporary file in the same directory is written and fsynced, renamed over the
    target, and the directory fsynced so the rename survives a crash.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class RingBuilderError(Exception):
    """A builder operation that cannot be done (bad device, no weight, bad file)."""


class RingValidationError(RingBuilderError):
    """The builder's assignment is inconsistent."""


class RingBuilder:
    """Devices and the replica → partition → device assignment of one ring."""

    def __init__(self, part_power: int, replicas: int, min_part_hours: int) -> None:
        if not 0 < part_power <= 24:
            raise RingBuilderError("part_power must be between 1 and 24")
        if replicas < 1 or int(replicas) != replicas:
            raise RingBuilderError("replicas must be a whole number of at least 1")
        if min_part_hours < 0:
            raise RingBuilderError("min_part_hours must not be negative")
        self.part_power = int(part_power)
        self.replicas = int(replicas)
        self.min_part_hours = int(min_part_hours)
        self.devs: list[dict[str, Any] | None] = []
        self.replica2part2dev: list[list[int]] | None = None
        #: per partition, the time (epoch seconds) one of its replicas last moved
        self.part_moved_at: list[int] = [0] * self.parts
        self.removed_ids: set[int] = set()
        self.version = 0
        self.warnings: list[str] = []

    @property
    def parts(self) -> int:
        return 2 ** self.part_power

    # -- devices ---------------------------------------------------------------

    def add_dev(self, dev: dict[str, Any]) -> int:
        """Add a device (keys as DEV_KEYS; ``id`` optional) and return its id.

        :raises RingBuilderError: on missing/invalid keys, a taken id, or a device
            already present at the same ip:port/device.
        """
        new = _checked_dev(dev)
        for other in self._live_devs():
            if (other["ip"], other["port"], other["device"]) == (
                    new["ip"], new["port"], new["device"]):
                raise RingBuilderError("device %s:%s/%s already exists as id %d"
                                       % (new["ip"], new["port"], new["device"], other["id"]))
        dev_id = new.get("id")
        if dev_id is None:
            dev_id = next((i for i, d in enumerate(self.devs)
                           if d is None and i not in self.removed_ids), len(self.devs))
        elif dev_id < len(self.devs) and (self.devs[dev_id] is not None
                                          or dev_id in self.removed_ids):
            raise RingBuilderError("device id %d is taken" % dev_id)
        new["id"] = dev_id
        while len(self.devs) <= dev_id:
            self.devs.append(None)
        self.devs[dev_id] = new
        self.version += 1
        return int(dev_id)

    def _dev(self, dev_id: int) -> dict[str, Any]:
        if not 0 <= dev_id < len(self.devs) or self.devs[dev_id] is None \
                or dev_id in self.removed_ids:
            raise RingBuilderError("no device with id %d" % dev_id)
        dev = self.devs[dev_id]
        assert dev is not None
        return dev

    def set_dev_weight(self, dev_id: int, weight: float) -> None:
        """Change a device's weight; takes effect at the next rebalance."""
        if weight < 0 or not math.isfinite(weight):
            raise RingBuilderError("weight must be a non-negative number")
        self._dev(dev_id)["weight"] = float(weight)
        self.version += 1

    def remove_dev(self, dev_id: int) -> None:
        """Mark a device for removal: its replicas move at the next rebalance."""
        self._dev(dev_id)["weight"] = 0.0
        self.removed_ids.add(dev_id)
        self.version += 1

    def _live_devs(self) -> list[dict[str, Any]]:
        """Devices not marked for removal."""
        return [d for d in self.devs if d is not None and d["id"] not in self.removed_ids]

    def search_devs(self, criteria: dict[str, Any]) -> list[dict[str, Any]]:
        """The live devices matching every given key (see parse_search_value)."""
        return [dev for dev in self._live_devs()
                if all(dev.get(key) == value for key, value in criteria.items())]

    def parts_per_dev(self) -> dict[int, int]:
        """How many replicas each device holds (devices with none included)."""
        counts = {dev["id"]: 0 for dev in self.devs if dev is not None}
        for row in self.replica2part2dev or []:
            for dev_id in row:
                if dev_id != NONE:
                    counts[dev_id] = counts.get(dev_id, 0) + 1
        return counts

    def desired_parts(self) -> dict[int, float]:
        """How many replicas each live weighted device should hold.

        Shares follow the weights, except that a device never wants more than one
        replica of every partition (or its even part when there are fewer devices
        than replicas); what a capped device cannot take goes to the others.
        """
        pool = {d["id"]: d["weight"] for d in self._live_devs() if d["weight"] > 0}
        if not pool:
            return {}
        cap = float(self.parts * math.ceil(self.replicas / len(pool)))
        remaining = float(self.parts * self.replicas)
        desired: dict[int, float] = {}
        while pool:
            total = sum(pool.values())
            capped = [d for d, w in pool.items() if remaining * w / total > cap]
            if not capped:
                desired.update({d: remaining * w / total for d, w in pool.items()})
                break
            for dev_id in capped:
                desired[dev_id] = cap
                remaining -= cap
                del pool[dev_id]
        return desired

    def get_balance(self) -> float:
        """The worst relative deviation (percent) of a weighted device from its share."""
        counts = self.parts_per_dev()
        desired = self.desired_parts()
        worst = 0.0
        for dev_id, want in desired.items():
            worst = max(worst, abs(counts.get(dev_id, 0) - want) * 100.0 / want)
        return worst

    def pretend_min_part_hours_passed(self) -> None:
        """Let every partition move at the next rebalance (for operators in a hurry)."""
        self.part_moved_at = [0] * self.parts

    # -- rebalance -------------------------------------------------------------

    def rebalance(self, seed: int | None = None,
                  now: float | None = None) -> tuple[int, float]:
        """Reassign replicas to match the weights, moving as few as possible.

        :param seed: makes the result reproducible.
        :param now: the current time (epoch seconds); tests pass it to age partitions.
        :returns: (number of partitions with at least one moved replica, balance %).
        :raises RingBuilderError: when no device has weight.
        """
        desired = self.desired_parts()
        if not desired:
            raise RingBuilderError("no device with weight > 0: add devices first")
        stamp = int(time.time() if now is None else now)
        planner = Planner(self, desired, random.Random(seed), stamp)
        moved = planner.run()
        for dev_id in self.removed_ids:
            self.devs[dev_id] = None
        self.removed_ids.clear()
        self.warnings = planner.warnings
        for warning in self.warnings:
            LOG.warning("%s", warning)
        if moved:
            self.version += 1
        return moved, self.get_balance()

    def validate(self) -> None:
        """Check that every replica of every partition is on an existing device.

        :raises RingValidationError: describing the first inconsistency.
        """
        if self.replica2part2dev is None:
            raise RingValidationError("the ring was never rebalanced")
        if len(self.replica2part2dev) != self.replicas:
            raise RingValidationError("%d replica rows, expected %d"
                                      % (len(self.replica2part2dev), self.replicas))
        for replica, row in enumerate(self.replica2part2dev):
            if len(row) != self.parts:
                raise RingValidationError("replica %d has %d partitions, expected %d"
                                          % (replica, len(row), self.parts))
            for part, dev_id in enumerate(row):
                if dev_id == NONE or dev_id >= len(self.devs) or self.devs[dev_id] is None:
                    raise RingValidationError("replica %d of partition %d is on no device"
                                              % (replica, part))
                if dev_id in self.removed_ids:
                    raise RingValidationError("partition %d is on removed device %d: "
                                              "rebalance first" % (part, dev_id))

    # -- files -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"part_power": self.part_power, "replicas": self.replicas,
                "min_part_hours": self.min_part_hours, "version": self.version,
                "devs": self.devs, "replica2part2dev": self.replica2part2dev,
                "part_moved_at": self.part_moved_at,
                "removed_ids": sorted(self.removed_ids)}

    def save(self, path: str) -> None:
        """Write the builder file (JSON), atomically."""
        atomic_write(path, json.dumps(self.to_dict()).encode("utf-8"))

    @classmethod
    def load(cls, path: str) -> RingBuilder:
        """Read a builder file written by save().

        :raises RingBuilderError: when the file is missing or not a builder.
        """
        try:
            with open(path, "rb") as handle:
                data = json.loads(handle.read().decode("utf-8"))
            builder = cls(data["part_power"], data["replicas"], data["min_part_hours"])
            builder.devs = [dict(d) if d is not None else None for d in data["devs"]]
            builder.replica2part2dev = data["replica2part2dev"]
            builder.part_moved_at = list(data.get("part_moved_at") or [0] * builder.parts)
            builder.removed_ids = set(data.get("removed_ids", []))
            builder.version = int(data.get("version", 0))
        except FileNotFoundError:
            raise RingBuilderError("no builder file %s" % path) from None
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise RingBuilderError("%s is not a ring builder file: %s" % (path, err)) from None
        return builder

    def ring_dict(self) -> dict[str, Any]:
        """What the ring file holds: the assignment and the public device fields."""
        self.validate()
        assert self.replica2part2dev is not None
        devs = [{key: dev.get(key) for key in DEV_KEYS} if dev is not None else None
                for dev in self.devs]
        return {"part_power": self.part_power, "part_shift": 32 - self.part_power,
                "replica_count": self.replicas, "version": self.version,
                "replica2part2dev": self.replica2part2dev, "devs": devs}

    def write_ring(self, path: str) -> None:
        """Write the ring file (gzipped JSON), atomically (temp file, fsync, rename)."""
        payload = json.dumps(self.ring_dict()).encode("utf-8")
        atomic_write(path, gzip.compress(payload, mtime=0))


def _checked_dev(dev: dict[str, Any]) -> dict[str, Any]:
    """A device dict with DEV_KEYS, typed and defaulted; raises RingBuilderError."""
    missing = [key for key in ("zone", "ip", "port", "device", "weight") if dev.get(key) is None]
    if missing:
        raise RingBuilderError("device is missing %s" % ", ".join(missing))
    try:
        out: dict[str, Any] = {
            "id": int(dev["id"]) if dev.get("id") is not None else None,
            "region": int(dev.get("region") or 1), "zone": int(dev["zone"]),
            "ip": str(dev["ip"]).strip("[]"), "port": int(dev["port"]),
            "device": str(dev["device"]), "weight": float(dev["weight"]),
            "meta": str(dev.get("meta") or "")}
        out["replication_ip"] = str(dev.get("replication_ip") or out["ip"]).strip("[]")
        out["replication_port"] = int(dev.get("replication_port") or out["port"])
    except (TypeError, ValueError) as err:
        raise RingBuilderError("invalid device: %s" % err) from None
    if out["weight"] < 0 or not math.isfinite(out["weight"]):
        raise RingBuilderError("weight must be a non-negative number")
    if not 0 < out["port"] < 65536 or not 0 < out["replication_port"] < 65536:
        raise RingBuilderError("port must be between 1 and 65535")
    if not out["device"] or "/" in out["device"]:
        raise RingBuilderError("invalid device name %r" % out["device"])
    return out


_IP = r"(?:\[[0-9a-fA-F:.]+\]|[0-9a-zA-Z.\-]*[0-9a-zA-Z])"
_ADD_RE = re.compile(
    r"^(?:r(?P<region>\d+))?z(?P<zone>\d+)-(?P<ip>%s):(?P<port>\d+)"
    r"(?:R(?P<replication_ip>%s):(?P<replication_port>\d+))?"
    r"/(?P<device>[^/_\s]+)(?:_(?P<meta>.*))?$" % (_IP, _IP))
_SEARCH_RE = re.compile(
    r"^(?:d(?P<id>\d+))?(?:r(?P<region>\d+))?(?:z(?P<zone>\d+))?"
    r"(?:-?(?P<ip>%s))?(?::(?P<port>\d+))?(?:/(?P<device>[^/_\s]+))?"
    r"(?:_(?P<meta>.*))?$" % _IP)


def parse_add_value(value: str) -> dict[str, Any]:
    """``r1z1-127.0.0.1:6200[R10.0.0.1:6300]/d1[_meta]`` → a device dict (no weight).

    :raises RingBuilderError: when the string does not have that shape.
    """
    match = _ADD_RE.match(value.strip())
    if not match:
        raise RingBuilderError("invalid device %r: expected r<region>z<zone>-<ip>:<port>"
                               "/<device>, e.g. r1z1-127.0.0.1:6200/d1" % value)
    found = {k: v for k, v in match.groupdict().items() if v is not None}
    dev: dict[str, Any] = {"region": int(found.get("region", 1)), "zone": int(found["zone"]),
                           "ip": found["ip"].strip("[]"), "port": int(found["port"]),
                           "device": found["device"], "meta": found.get("meta", "")}
    if "replication_ip" in found:
        dev["replication_ip"] = found["replication_ip"].strip("[]")
        dev["replication_port"] = int(found["replication_port"])
    return dev


def parse_search_value(value: str) -> dict[str, Any]:
    """A device search (``5``, ``d5``, ``r1z2``, ``z1-10.0.0.1:6200/d3``, …) → criteria.

    :raises RingBuilderError: when the string is not a search value.
    """
    value = value.strip()
    if value.isdigit():
        return {"id": int(value)}
    match = _SEARCH_RE.match(value)
    if not value or not match:
        raise RingBuilderError("invalid device search %r: expected an id or "
                               "d<id>r<region>z<zone>-<ip>:<port>/<device>" % value)
    criteria: dict[str, Any] = {}
    for key, found in match.groupdict().items():
        if found is None:
            continue
        criteria[key] = int(found) if key in ("id", "region", "zone", "port") \
            else found.strip("[]")
    return criteria


def dev_str(dev: dict[str, Any]) -> str:
    """``d3r1z2-10.0.0.1:6200/d3`` — how the CLI names a device."""
    ip = "[%s]" % dev["ip"] if ":" in dev["ip"] else dev["ip"]
    return "d%dr%dz%d-%s:%d/%s" % (dev["id"], dev["region"], dev["zone"], ip, dev["port"],
                                   dev["device"])

