"""RingBuilder: devices, balanced and spread placement, minimal movement, files."""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from objectstore.common.ring import (RingBuilder, RingBuilderError, RingValidationError,
                                     parse_add_value, parse_search_value)

T0 = 1_700_000_000.0
HOUR = 3600


def _dev(zone: int, disk: int = 0, weight: float = 100, region: int = 1) -> dict[str, object]:
    return {"region": region, "zone": zone, "ip": "10.%d.0.%d" % (region, zone),
            "port": 6200 + disk, "device": "d%d" % disk, "weight": weight}


def _builder(zones: int = 3, per_zone: int = 2, part_power: int = 10, replicas: int = 3,
             min_part_hours: int = 0) -> RingBuilder:
    builder = RingBuilder(part_power, replicas, min_part_hours)
    for zone in range(1, zones + 1):
        for disk in range(per_zone):
            builder.add_dev(_dev(zone, disk))
    return builder


def _assignment(builder: RingBuilder) -> list[list[int]]:
    assert builder.replica2part2dev is not None
    return [list(row) for row in builder.replica2part2dev]


def _changed_slots(before: list[list[int]], after: list[list[int]]) -> int:
    return sum(a != b for row_a, row_b in zip(before, after, strict=True)
               for a, b in zip(row_a, row_b, strict=True))


def _zones_per_part(builder: RingBuilder) -> list[int]:
    rows = _assignment(builder)
    out = []
    for part in range(builder.parts):
        devs = [builder.devs[row[part]] for row in rows]
        out.append(len({dev["zone"] for dev in devs if dev}))
    return out


def test_equal_weights_are_balanced_and_spread_over_zones() -> None:
    builder = _builder()
    moved, balance = builder.rebalance(seed=1)
    assert moved == builder.parts
    assert balance < 2.0
    counts = builder.parts_per_dev()
    assert all(abs(count - 512) <= 5 for count in counts.values())
    assert set(_zones_per_part(builder)) == {3}
    builder.validate()


def test_regions_are_spread_before_zones() -> None:
    builder = RingBuilder(8, 2, 0)
    for zone in (1, 2):
        builder.add_dev(_dev(zone, region=1))
    builder.add_dev(_dev(1, region=2))
    builder.add_dev(_dev(2, region=2))
    builder.rebalance(seed=3)
    rows = _assignment(builder)
    for part in range(builder.parts):
        regions = {builder.devs[row[part]]["region"] for row in rows}  # type: ignore[index]
        assert regions == {1, 2}


def test_adding_a_device_moves_about_its_share() -> None:
    builder = _builder()
    builder.rebalance(seed=1)
    before = _assignment(builder)
    builder.add_dev(_dev(4))
    moved, balance = builder.rebalance(seed=1)
    ideal = builder.parts * 3 / 7
    changed = _changed_slots(before, _assignment(builder))
    assert ideal * 0.95 <= changed <= ideal * 1.1
    assert moved <= changed
    assert balance < 2.0
    assert set(_zones_per_part(builder)) == {3}
    # a second rebalance has nothing left to do
    assert builder.rebalance(seed=1)[0] == 0


def test_removing_a_device_moves_only_its_partitions() -> None:
    builder = _builder(zones=4)
    builder.rebalance(seed=1)
    before = _assignment(builder)
    held = builder.parts_per_dev()[2]
    builder.remove_dev(2)
    builder.rebalance(seed=1)
    after = _assignment(builder)
    assert builder.devs[2] is None
    assert all(2 not in row for row in after)
    assert held <= _changed_slots(before, after) <= held * 1.1
    assert builder.get_balance() < 2.0
    assert set(_zones_per_part(builder)) == {3}
    builder.validate()


def test_removed_id_is_reused_only_after_the_rebalance() -> None:
    builder = _builder()
    builder.rebalance(seed=1)
    builder.remove_dev(0)
    assert builder.add_dev(_dev(9)) == 6
    builder.rebalance(seed=1)
    assert builder.add_dev(_dev(10)) == 0


def test_weights_are_respected() -> None:
    builder = RingBuilder(10, 3, 0)
    for zone in range(1, 5):
        builder.add_dev(_dev(zone, weight=100))
    builder.add_dev(_dev(5, weight=200))
    _moved, balance = builder.rebalance(seed=2)
    counts = builder.parts_per_dev()
    assert balance < 2.0
    assert abs(counts[4] - 2 * counts[0]) < 20
    builder.set_dev_weight(4, 100)
    builder.rebalance(seed=2)
    counts = builder.parts_per_dev()
    assert max(counts.values()) - min(counts.values()) <= 8


def test_a_device_never_wants_two_replicas_of_a_partition() -> None:
    builder = RingBuilder(8, 3, 0)
    builder.add_dev(_dev(1, weight=1000))
    builder.add_dev(_dev(2, weight=100))
    builder.add_dev(_dev(3, weight=100))
    _moved, balance = builder.rebalance(seed=1)
    assert balance == 0.0
    assert set(_zones_per_part(builder)) == {3}


def test_fewer_devices_than_replicas_share_with_a_warning() -> None:
    builder = _builder(zones=1, per_zone=2, part_power=8)
    moved, _balance = builder.rebalance(seed=1)
    assert moved == 256
    assert any("share devices" in warning for warning in builder.warnings)
    rows = _assignment(builder)
    for part in range(builder.parts):
        assert {row[part] for row in rows} == {0, 1}
    builder.validate()


def test_zero_weight_device_is_drained() -> None:
    builder = _builder()
    builder.rebalance(seed=1)
    builder.set_dev_weight(1, 0)
    builder.rebalance(seed=1)
    assert builder.parts_per_dev()[1] == 0
    assert builder.devs[1] is not None  # still known, only empty


def test_min_part_hours_is_respected() -> None:
    builder = _builder(min_part_hours=1)
    builder.rebalance(seed=1, now=T0)
    builder.add_dev(_dev(4))
    before = _assignment(builder)
    assert builder.rebalance(seed=1, now=T0 + 60)[0] == 0
    assert _assignment(builder) == before
    moved, _balance = builder.rebalance(seed=1, now=T0 + HOUR + 1)
    after = _assignment(builder)
    assert moved > 0
    # at most one replica of a partition moves in one rebalance
    for part in range(builder.parts):
        assert sum(before[r][part] != after[r][part] for r in range(3)) <= 1
    # and what moved stays put for another hour
    builder.set_dev_weight(6, 300)
    assert builder.rebalance(seed=1, now=T0 + HOUR + 2)[0] <= builder.parts - moved


def test_removed_device_moves_despite_min_part_hours() -> None:
    builder = _builder(min_part_hours=24)
    builder.rebalance(seed=1, now=T0)
    builder.remove_dev(3)
    builder.rebalance(seed=1, now=T0 + 1)
    assert all(3 not in row for row in _assignment(builder))
    builder.validate()


def test_pretend_min_part_hours_passed() -> None:
    builder = _builder(min_part_hours=24)
    builder.rebalance(seed=1, now=T0)
    builder.add_dev(_dev(4))
    builder.pretend_min_part_hours_passed()
    assert builder.rebalance(seed=1, now=T0 + 1)[0] > 0


def test_seed_makes_it_deterministic() -> None:
    first, second = _builder(), _builder()
    first.rebalance(seed=42)
    second.rebalance(seed=42)
    assert _assignment(first) == _assignment(second)
    third = _builder()
    third.rebalance(seed=43)
    assert _assignment(third) != _assignment(first)


def test_rebalance_needs_weighted_devices() -> None:
    builder = RingBuilder(4, 3, 0)
    with pytest.raises(RingBuilderError):
        builder.rebalance()
    builder.add_dev(_dev(1, weight=0))
    with pytest.raises(RingBuilderError):
        builder.rebalance()


def test_add_dev_checks_devices() -> None:
    builder = _builder()
    with pytest.raises(RingBuilderError, match="already exists"):
        builder.add_dev(_dev(1, 0))
    with pytest.raises(RingBuilderError, match="missing"):
        builder.add_dev({"zone": 1, "ip": "1.2.3.4", "port": 1})
    with pytest.raises(RingBuilderError, match="port"):
        builder.add_dev({"zone": 1, "ip": "1.2.3.4", "port": 70000, "device": "x",
                         "weight": 1})
    with pytest.raises(RingBuilderError, match="taken"):
        builder.add_dev(dict(_dev(8), id=0))
    with pytest.raises(RingBuilderError):
        builder.set_dev_weight(99, 1)
    dev_id = builder.add_dev(dict(_dev(8), id=20))
    assert dev_id == 20 and builder.devs[20]["replication_port"] == 6200  # type: ignore[index]


def test_validate_catches_problems() -> None:
    builder = _builder()
    with pytest.raises(RingValidationError):
        builder.validate()
    builder.rebalance(seed=1)
    builder.remove_dev(0)
    with pytest.raises(RingValidationError, match="rebalance"):
        builder.validate()


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    builder = _builder(min_part_hours=2)
    builder.rebalance(seed=1, now=T0)
    builder.remove_dev(5)
    path = str(tmp_path / "object.builder")
    builder.save(path)
    loaded = RingBuilder.load(path)
    assert loaded.to_dict() == builder.to_dict()
    loaded.rebalance(seed=1, now=T0 + 1)
    assert loaded.devs[5] is None
    with pytest.raises(RingBuilderError, match="no builder file"):
        RingBuilder.load(str(tmp_path / "missing.builder"))
    (tmp_path / "bad.builder").write_text("{}")
    with pytest.raises(RingBuilderError, match="not a ring builder"):
        RingBuilder.load(str(tmp_path / "bad.builder"))


def test_write_ring_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builder = _builder(part_power=6)
    builder.rebalance(seed=1)
    path = str(tmp_path / "object.ring.gz")
    builder.write_ring(path)
    assert os.listdir(str(tmp_path)) == ["object.ring.gz"]
    with open(path, "rb") as old_reader:
        builder.add_dev(_dev(4))
        builder.rebalance(seed=1)
        builder.write_ring(path)
        # a reader holding the old file still reads the old ring, whole
        old = json.loads(gzip.decompress(old_reader.read()))
    new = json.loads(gzip.decompress(open(path, "rb").read()))
    assert len(old["devs"]) == 6 and len(new["devs"]) == 7

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    builder.add_dev(_dev(5))
    builder.rebalance(seed=1)
    with pytest.raises(OSError):
        builder.write_ring(path)
    assert os.listdir(str(tmp_path)) == ["object.ring.gz"]  # no temp file left
    assert len(json.loads(gzip.decompress(open(path, "rb").read()))["devs"]) == 7


def test_parse_add_value() -> None:
    assert parse_add_value("r2z3-10.0.0.1:6200/sdb1_ssd") == {
        "region": 2, "zone": 3, "ip": "10.0.0.1", "port": 6200, "device": "sdb1",
        "meta": "ssd"}
    dev = parse_add_value("z1-[::1]:6200R[fe80::2]:6300/d1")
    assert (dev["region"], dev["ip"], dev["replication_ip"], dev["replication_port"]) == (
        1, "::1", "fe80::2", 6300)
    for bad in ("", "r1-10.0.0.1:6200/d1", "z1-10.0.0.1/d1", "z1-10.0.0.1:6200", "z1 x"):
        with pytest.raises(RingBuilderError):
            parse_add_value(bad)


def test_search_devs() -> None:
    builder = _builder()
    assert parse_search_value("4") == {"id": 4}
    assert parse_search_value("d4") == {"id": 4}
    assert [d["id"] for d in builder.search_devs(parse_search_value("z2"))] == [2, 3]
    found = builder.search_devs(parse_search_value("10.1.0.3:6201/d1"))
    assert [d["id"] for d in found] == [5]
    assert builder.search_devs(parse_search_value("/d1")) == [
        builder.devs[1], builder.devs[3], builder.devs[5]]
    with pytest.raises(RingBuilderError):
        parse_search_value("what?")
