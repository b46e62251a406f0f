"""How a rebalance decides where replicas go (the engine behind RingBuilder.rebalance).

A rebalance runs in rounds. First the replicas that must move are *gathered*
(unassigned, or on removed or zero-weight devices) and *placed*. Then, in each round,
replicas beyond a device's share are gathered (preferring ones an under-full device
could take without hurting their partition's spread) and placed, and partitions with
two replicas in one failure domain trade a replica with another partition so both end
up spread wider while no device's count changes. Placement picks the device that is,
in this order: not already holding the partition, not full, in a region/zone/ip:port
no other replica of the partition uses, and least full.
"""
from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from objectstore.common.ring.builder import RingBuilder

NONE = -1  # an unassigned replica slot
_ROUNDS = 4  # gather/place rounds per rebalance
_GOOD_BALANCE = 1.0  # percent; stop the rounds once every device is this close
_SWAP_TRIES = 64  # replicas of a device looked at when trading one for better spread


class Planner:
    """One rebalance: gather the replicas to move, then place them."""

    def __init__(self, builder: RingBuilder, desired: dict[int, float],
                 rng: random.Random, stamp: int) -> None:
        self.b = builder
        self.desired = desired
        self.limit = {dev_id: math.ceil(want - 1e-9) for dev_id, want in desired.items()}
        self.rng = rng
        self.stamp = stamp
        self.warnings: list[str] = []
        self.devs = {dev_id: builder.devs[dev_id] for dev_id in desired}
        if builder.replica2part2dev is None:
            builder.replica2part2dev = [[NONE] * builder.parts
                                        for _ in range(builder.replicas)]
        self.rows = builder.replica2part2dev
        self.counts = {dev_id: 0 for dev_id in desired}
        for row in self.rows:
            for dev_id in row:
                if dev_id in self.counts:
                    self.counts[dev_id] += 1
        self.touched: set[int] = set()  # partitions with a replica gathered this round

    def run(self) -> int:
        """Gather and place in rounds until balanced or stuck; returns partitions moved."""
        moved = self._place(self._gather_lost())
        for _round in range(_ROUNDS):
            now_moved = self._place(self._gather_overfull()) | self._repair()
            moved |= now_moved
            if not now_moved or self._balance() <= _GOOD_BALANCE:
                break
        self._warn()
        return len(moved)

    def _balance(self) -> float:
        return max(abs(self.counts[d] - want) * 100.0 / want
                   for d, want in self.desired.items())

    def movable(self, part: int) -> bool:
        """Whether a replica of ``part`` may move now (min_part_hours, one per round)."""
        hours = self.b.min_part_hours
        if hours == 0:
            return True
        return part not in self.touched and \
            self.stamp - self.b.part_moved_at[part] >= hours * 3600

    def _take(self, part: int, replica: int) -> tuple[int, int, int]:
        origin = self.rows[replica][part]
        if origin in self.counts:
            self.counts[origin] -= 1
        self.rows[replica][part] = NONE
        self.touched.add(part)
        return (part, replica, origin)

    def _gather_lost(self) -> list[tuple[int, int, int]]:
        """Unassigned replicas and those on removed or zero-weight devices: always move."""
        out = []
        for replica, row in enumerate(self.rows):
            for part, dev_id in enumerate(row):
                if dev_id not in self.counts:
                    self.rows[replica][part] = NONE
                    out.append((part, replica, NONE))
        for part, _replica, _origin in out:
            self.touched.add(part)
        return out

    def _repair(self) -> set[int]:
        """Swap replicas between partitions so a partition with two replicas in one
        failure domain gets a better domain, leaving every device's count as it is.

        Returns the partitions that moved.
        """
        domains = [len({_tier(dev, tier) for dev in self.devs.values()}) for tier in range(4)]
        want = [min(self.b.replicas, count) for count in domains]
        index: dict[int, list[tuple[int, int]]] = {dev_id: [] for dev_id in self.devs}
        for replica, row in enumerate(self.rows):
            for part, dev_id in enumerate(row):
                if dev_id in index:
                    index[dev_id].append((part, replica))
        moved: set[int] = set()
        parts = list(range(self.b.parts))
        self.rng.shuffle(parts)
        for part in parts:
            ids = [row[part] for row in self.rows]
            if NONE in ids or not self.movable(part):
                continue
            for tier in range(4):
                keys = [_tier(self.devs[i], tier) for i in ids]
                if len(set(keys)) < want[tier]:
                    replica = max((r for r, key in enumerate(keys) if keys.count(key) > 1),
                                  key=lambda r: self.counts[ids[r]] / self.desired[ids[r]])
                    other = self._swap(part, replica, tier, index)
                    if other is not None:
                        moved |= {part, other}
                    break
        return moved

    def _swap(self, part: int, replica: int, tier: int,
              index: dict[int, list[tuple[int, int]]]) -> int | None:
        """Trade ``part``'s replica for one of another partition on a device of a new
        domain (at ``tier``), if that partition does not get worse; returns it."""
        dev_a = self.rows[replica][part]
        used_p = self._used([row[part] for r, row in enumerate(self.rows) if r != replica])
        targets = [d for d in self.devs if self._spread(d, used_p) <= tier]
        self.rng.shuffle(targets)
        for dev_b in targets:
            slots = index[dev_b]
            for other, other_replica in self.rng.sample(slots, min(len(slots), _SWAP_TRIES)):
                if other == part or self.rows[other_replica][other] != dev_b \
                        or not self.movable(other):
                    continue
                used_q = self._used([row[other] for r, row in enumerate(self.rows)
                                     if r != other_replica])
                if self._spread(dev_a, used_q) > self._spread(dev_b, used_q):
                    continue
                self.rows[replica][part] = dev_b
                self.rows[other_replica][other] = dev_a
                index[dev_b].append((part, replica))
                index[dev_a].append((other, other_replica))
                for moved in (part, other):
                    self.touched.add(moved)
                    self.b.part_moved_at[moved] = self.stamp
                return other
        return None

    def _gather_overfull(self) -> list[tuple[int, int, int]]:
        """Replicas beyond a device's share, preferring ones an under-full device
        could take while keeping their partition spread out."""
        extra = {d: self.counts[d] - self.limit[d] for d in self.counts
                 if self.counts[d] > self.limit[d]}
        if not extra:
            return []
        slots: dict[int, list[tuple[int, int]]] = {d: [] for d in extra}
        for replica, row in enumerate(self.rows):
            for part, dev_id in enumerate(row):
                if dev_id in slots and self.movable(part):
                    slots[dev_id].append((part, replica))
        hungry = [d for d in self.devs if self.counts[d] < self.desired[d]]
        out = []
        for dev_id in sorted(extra):
            candidates = slots[dev_id]
            self.rng.shuffle(candidates)
            candidates.sort(key=lambda slot: self._fit(slot, hungry))
            for part, replica in candidates[:extra[dev_id]]:
                if self.movable(part):
                    out.append(self._take(part, replica))
        return out

    def _fit(self, slot: tuple[int, int], hungry: list[int]) -> tuple[bool, int]:
        """How well the best under-full device could take a replica (lower is better)."""
        part, replica = slot
        used = self._used([row[part] for r, row in enumerate(self.rows) if r != replica])
        best = min((self._spread(d, used) for d in hungry), default=0)
        return (part in self.touched, best)

    def _used(self, others: list[int]) -> list[set[Any]]:
        """The failure domains (tiers 0-3) a partition on devices ``others`` occupies."""
        devs = [self.devs[i] for i in others if i in self.devs]
        return [{_tier(dev, tier) for dev in devs} for tier in range(3)] + [set(others)]

    def _spread(self, dev_id: int, used: list[set[Any]]) -> int:
        """0 when ``dev_id`` adds a new region to a partition occupying ``used``, 1 a
        new zone, 2 a new ip:port, 3 only a new device, 4 not even that."""
        if dev_id in used[3]:
            return 4
        dev = self.devs[dev_id]
        for tier in range(3):
            if _tier(dev, tier) not in used[tier]:
                return tier
        return 3

    def _place(self, gathered: list[tuple[int, int, int]]) -> set[int]:
        """Assign every gathered replica; returns the partitions that moved."""
        order = sorted({part for part, _r, _o in gathered})
        self.rng.shuffle(order)
        rank = {part: i for i, part in enumerate(order)}
        gathered.sort(key=lambda item: (rank[item[0]], item[1]))
        moved: set[int] = set()
        for part, replica, origin in gathered:
            others = [row[part] for r, row in enumerate(self.rows)
                      if r != replica and row[part] != NONE]
            dev_id = self._choose(others, origin)
            self.rows[replica][part] = dev_id
            self.counts[dev_id] += 1
            if dev_id != origin:
                moved.add(part)
                self.b.part_moved_at[part] = self.stamp
        return moved

    def _choose(self, others: list[int], origin: int) -> int:
        """The best device for a replica whose partition also lives on ``others``."""
        used = self._used(others)

        def score(dev_id: int) -> tuple[bool, bool, int, float]:
            spread = self._spread(dev_id, used)
            return (spread == 4, self.counts[dev_id] >= self.limit[dev_id], spread,
                    self.counts[dev_id] / self.desired[dev_id])

        best = min(self.devs, key=score)
        if origin in self.devs and score(origin)[:3] <= score(best)[:3]:
            return origin  # moving would not improve anything: stay put
        return best

    def _warn(self) -> None:
        if len(self.devs) < self.b.replicas:
            self.warnings.append(
                "only %d device(s) with weight for %d replicas: replicas share devices"
                % (len(self.devs), self.b.replicas))
        zones = {_tier(dev, 1) for dev in self.devs.values()}
        if len(self.devs) >= self.b.replicas > len(zones):
            self.warnings.append("only %d zone(s) for %d replicas: replicas share zones"
                                 % (len(zones), self.b.replicas))


def _tier(dev: dict[str, Any] | None, tier: int) -> Any:
    """The failure domain of a device at tier 0 (region) … 3 (the device itself)."""
    assert dev is not None
    if tier == 0:
        return dev["region"]
    if tier == 1:
        return (dev["region"], dev["zone"])
    if tier == 2:
        return (dev["region"], dev["zone"], dev["ip"], dev["port"])
    return dev["id"]
