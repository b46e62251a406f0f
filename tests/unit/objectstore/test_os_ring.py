"""The read side of rings: partitions, primary and handoff nodes, reloading."""
from __future__ import annotations

import gzip
import json
import os
import struct
import threading
from pathlib import Path
from typing import Any

import pytest

from objectstore.common.ring import DEV_KEYS, Ring, RingBuilder, RingLoadError
from objectstore.common.utils import hash_path


def _builder(zones: int = 3, per_zone: int = 2, part_power: int = 8,
             replicas: int = 3) -> RingBuilder:
    builder = RingBuilder(part_power, replicas, 0)
    for zone in range(1, zones + 1):
        for disk in range(per_zone):
            builder.add_dev({"region": 1, "zone": zone, "ip": "10.0.0.%d" % zone,
                             "port": 6200 + disk, "device": "d%d" % disk, "weight": 100})
    builder.rebalance(seed=7)
    return builder


def _write(tmp_path: Path, builder: RingBuilder, name: str = "object") -> str:
    path = os.path.join(str(tmp_path), name + ".ring.gz")
    builder.write_ring(path)
    return path


def test_ring_file_is_gzipped_json(tmp_path: Path) -> None:
    path = _write(tmp_path, _builder())
    with gzip.open(path, "rb") as handle:
        data = json.loads(handle.read())
    assert data["part_power"] == 8 and data["part_shift"] == 24
    assert len(data["replica2part2dev"]) == 3
    assert all(len(row) == 256 for row in data["replica2part2dev"])
    assert set(data["devs"][0]) == set(DEV_KEYS)


def test_properties(tmp_path: Path) -> None:
    _write(tmp_path, _builder())
    ring = Ring(str(tmp_path))
    assert (ring.replica_count, ring.partition_count, ring.part_power) == (3, 256, 8)
    assert [dev["id"] for dev in ring.devs if dev] == list(range(6))
    ring.devs[0]["ip"] = "changed"  # type: ignore[index]
    assert ring.devs[0]["ip"] == "10.0.0.1"  # type: ignore[index]


def test_get_part_is_top_bits_of_salted_md5(tmp_path: Path) -> None:
    _write(tmp_path, _builder())
    ring = Ring(str(tmp_path))
    for path in (("a",), ("a", "c"), ("a", "c", "o"), ("AUTH_x", "cont", "ob/j é")):
        digest = hash_path(*path, raw_digest=True)
        expected = struct.unpack(">I", digest[:4])[0] >> 24
        assert ring.get_part(*path) == expected
        assert ring.get_nodes(*path)[0] == expected


def test_get_nodes_gives_distinct_devices_with_index(tmp_path: Path) -> None:
    _write(tmp_path, _builder())
    ring = Ring(str(tmp_path))
    part, nodes = ring.get_nodes("a", "c", "o")
    assert [node["index"] for node in nodes] == [0, 1, 2]
    assert len({node["id"] for node in nodes}) == 3
    assert len({node["zone"] for node in nodes}) == 3
    assert set(DEV_KEYS) <= set(nodes[0])
    assert ring.get_part_nodes(part) == nodes
    nodes[0]["ip"] = "mutated"
    assert ring.get_part_nodes(part)[0]["ip"] != "mutated"


def test_replicas_sharing_a_device_are_listed_once(tmp_path: Path) -> None:
    _write(tmp_path, _builder(zones=1, per_zone=2))
    ring = Ring(str(tmp_path))
    for part in range(ring.partition_count):
        nodes = ring.get_part_nodes(part)
        assert sorted(node["id"] for node in nodes) == [0, 1]


def test_handoffs_cover_every_other_device_best_spread_first(tmp_path: Path) -> None:
    builder = RingBuilder(8, 2, 0)
    for zone in range(1, 5):
        for disk in range(2):
            builder.add_dev({"zone": zone, "ip": "10.0.0.%d" % zone, "port": 6200,
                             "device": "d%d" % disk, "weight": 1})
    builder.rebalance(seed=1)
    _write(tmp_path, builder)
    ring = Ring(str(tmp_path))
    orders = set()
    for part in range(ring.partition_count):
        primaries = ring.get_part_nodes(part)
        handoffs = list(ring.get_more_nodes(part))
        ids = [dev["id"] for dev in handoffs]
        assert sorted(ids + [dev["id"] for dev in primaries]) == list(range(8))
        # Two zones are unused by the primaries: the first two handoffs take them.
        primary_zones = {dev["zone"] for dev in primaries}
        first_zones = [dev["zone"] for dev in handoffs[:2]]
        assert len(set(first_zones)) == 2 and not primary_zones & set(first_zones)
        assert [dev["handoff_index"] for dev in handoffs] == list(range(6))
        assert ids == [dev["id"] for dev in ring.get_more_nodes(part)]  # deterministic
        orders.add(tuple(ids))
    assert len(orders) > 10  # handoff load is spread over the devices


def test_zero_weight_devices_are_the_last_handoffs(tmp_path: Path) -> None:
    builder = _builder(zones=4, per_zone=1)
    builder.set_dev_weight(3, 0)
    builder.rebalance(seed=1)
    _write(tmp_path, builder)
    ring = Ring(str(tmp_path))
    handoffs = list(ring.get_more_nodes(0))
    assert handoffs[-1]["id"] == 3


def test_missing_ring_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RingLoadError) as info:
        Ring(str(tmp_path), "container")
    assert info.value.path == os.path.join(str(tmp_path), "container.ring.gz")
    assert "container.ring.gz" in str(info.value)


def test_corrupt_ring_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "object.ring.gz").write_bytes(b"not gzip")
    with pytest.raises(RingLoadError):
        Ring(str(tmp_path))


def _bump_mtime(path: str) -> None:
    stat = os.stat(path)
    os.utime(path, (stat.st_atime + 10, stat.st_mtime + 10))


def test_reloads_when_the_file_changes(tmp_path: Path) -> None:
    builder = _builder()
    path = _write(tmp_path, builder)
    ring = Ring(str(tmp_path), reload_interval=0)
    assert not ring.has_changed()
    builder.add_dev({"zone": 4, "ip": "10.0.0.4", "port": 6200, "device": "d0",
                     "weight": 100})
    builder.rebalance(seed=1)
    _write(tmp_path, builder)
    _bump_mtime(path)
    assert ring.has_changed()
    assert len([dev for dev in ring.devs if dev]) == 7
    assert not ring.has_changed()


def test_reload_waits_for_the_interval(tmp_path: Path) -> None:
    builder = _builder()
    path = _write(tmp_path, builder)
    ring = Ring(str(tmp_path), reload_interval=3600)
    builder.add_dev({"zone": 4, "ip": "10.0.0.4", "port": 6200, "device": "d0",
                     "weight": 100})
    builder.rebalance(seed=1)
    _write(tmp_path, builder)
    _bump_mtime(path)
    assert ring.has_changed()
    assert len([dev for dev in ring.devs if dev]) == 6  # not checked yet


def test_a_broken_new_file_keeps_the_old_ring(tmp_path: Path) -> None:
    path = _write(tmp_path, _builder())
    ring = Ring(str(tmp_path), reload_interval=0)
    before = ring.get_nodes("a", "c", "o")
    with open(path, "wb") as handle:
        handle.write(b"garbage")
    _bump_mtime(path)
    assert ring.get_nodes("a", "c", "o") == before


def test_concurrent_lookups_during_reloads(tmp_path: Path) -> None:
    builders = [_builder(), _builder(zones=4)]
    path = _write(tmp_path, builders[0])
    ring = Ring(str(tmp_path), reload_interval=0)
    errors: list[Any] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                part, nodes = ring.get_nodes("acc", "cont", "obj")
                assert len(nodes) == 3 and 0 <= part < 256
                list(ring.get_more_nodes(part))
        except Exception as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for i in range(20):
            _write(tmp_path, builders[i % 2])
            _bump_mtime(path)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors
