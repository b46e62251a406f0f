"""``stratus-manage objectstore ring ...``: the ring commands end to end on disk."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from objectstore.cmd import manage
from objectstore.common.ring import Ring, RingBuilder

PROG = "stratus-manage objectstore"


class Cli:
    """Runs the command group with an empty config file (no host config leaks in)."""

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.conf_file = str(tmp_path / "objectstore.conf")
        Path(self.conf_file).write_text("[DEFAULT]\nstate_path = %s\n" % tmp_path)
        self.builder = str(tmp_path / "object.builder")
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            code = manage.register(PROG, ["--config-file", self.conf_file, "ring", *args])
        except SystemExit as exc:  # argparse rejects malformed command lines
            code = int(exc.code or 0)
        out = self.capsys.readouterr()
        return code, out.out, out.err


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, capsys)


def _three_zones(cli: Cli) -> None:
    assert cli("create", cli.builder, "8", "3", "0")[0] == 0
    for zone in (1, 2, 3):
        code, out, err = cli("add", cli.builder, "r1z%d-127.0.0.1:62%02d/d%d" % (zone, zone, zone),
                             "100")
        assert code == 0, err
        assert "d%d" % zone in out


def test_create_add_rebalance_writes_a_loadable_ring(cli: Cli, tmp_path: Path) -> None:
    _three_zones(cli)
    code, out, _err = cli("rebalance", cli.builder, "--seed", "3")
    assert code == 0
    assert "Reassigned 256 partition(s)" in out and "balance is now 0.00%" in out
    ring = Ring(str(tmp_path), "object")
    assert ring.replica_count == 3 and ring.partition_count == 256
    _part, nodes = ring.get_nodes("AUTH_a", "c", "o")
    assert sorted(node["zone"] for node in nodes) == [1, 2, 3]
    assert {node["port"] for node in nodes} == {6201, 6202, 6203}


def test_rebalance_with_nothing_to_move_still_succeeds(cli: Cli, tmp_path: Path) -> None:
    _three_zones(cli)
    assert cli("rebalance", cli.builder)[0] == 0
    code, out, _err = cli("rebalance", cli.builder)
    assert code == 0
    assert "Reassigned 0 partition(s)" in out and "balance" in out
    assert os.path.exists(tmp_path / "object.ring.gz")


def test_min_part_hours_is_reported(cli: Cli) -> None:
    assert cli("create", cli.builder, "6", "1", "24")[0] == 0
    assert cli("add", cli.builder, "z1-127.0.0.1:6200/d1", "1")[0] == 0
    assert cli("rebalance", cli.builder)[0] == 0
    assert cli("add", cli.builder, "z2-127.0.0.1:6200/d2", "1")[0] == 0
    code, out, _err = cli("rebalance", cli.builder)
    assert code == 0 and "cannot move again yet" in out
    assert cli("pretend-min-part-hours-passed", cli.builder)[0] == 0
    code, out, _err = cli("rebalance", cli.builder)
    assert code == 0 and "Reassigned 32 partition(s)" in out


def test_add_with_options(cli: Cli) -> None:
    assert cli("create", cli.builder, "4", "1", "0")[0] == 0
    code, _out, err = cli("add", cli.builder, "--region", "2", "--zone", "5", "--ip",
                          "10.0.0.9", "--port", "6200", "--replication-ip", "10.1.0.9",
                          "--replication-port", "6300", "--device", "sdb", "--weight", "50",
                          "--meta", "fast")
    assert code == 0, err
    dev = RingBuilder.load(cli.builder).devs[0]
    assert dev == {"id": 0, "region": 2, "zone": 5, "ip": "10.0.0.9", "port": 6200,
                   "replication_ip": "10.1.0.9", "replication_port": 6300,
                   "device": "sdb", "weight": 50.0, "meta": "fast"}


def test_show_lists_devices_and_balance(cli: Cli) -> None:
    _three_zones(cli)
    cli("rebalance", cli.builder)
    code, out, _err = cli("show", cli.builder)
    assert code == 0
    assert "256 partitions, 3 replicas, 1 regions, 3 zones, 3 devices, 0.00 balance" in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith(("0 ", "1 "))]
    assert len(rows) == 2 and all(row[7] == "256" for row in rows)


def test_set_weight_and_remove(cli: Cli) -> None:
    _three_zones(cli)
    cli("add", cli.builder, "r1z4-127.0.0.1:6204/d4", "100")
    cli("add", cli.builder, "r1z5-127.0.0.1:6205/d5", "100")
    cli("rebalance", cli.builder)
    code, out, _err = cli("set-weight", cli.builder, "d0", "50")
    assert code == 0 and "to 50" in out
    code, out, _err = cli("remove", cli.builder, "127.0.0.1:6202/d2")
    assert code == 0 and "d1r1z2" in out
    assert "removing" in cli("show", cli.builder)[1]
    assert cli("rebalance", cli.builder)[0] == 0
    builder = RingBuilder.load(cli.builder)
    assert builder.devs[1] is None and builder.devs[0]["weight"] == 50  # type: ignore[index]
    counts = builder.parts_per_dev()
    assert abs(counts[0] * 2 - counts[2]) <= 4  # half the weight, half the partitions


@pytest.mark.parametrize("args, message", [
    (("add", "{b}", "r1z1-127.0.0.1/d1", "100"), "invalid device"),
    (("add", "{b}", "r1z1-127.0.0.1:6200/d1", "heavy"), "invalid weight"),
    (("add", "{b}", "r1z1-127.0.0.1:6200/d1"), "weight is required"),
    (("add", "{b}", "--zone", "1", "--weight", "1"), "--ip"),
    (("set-weight", "{b}", "d9", "1"), "no device matches"),
    (("remove", "{b}", "bogus search"), "invalid device search"),
    (("create", "{b}", "8", "3", "0"), "already exists"),
    (("create", "{b}.new", "40", "3", "0"), "part_power"),
])
def test_bad_input_exits_2(cli: Cli, args: tuple[str, ...], message: str) -> None:
    assert cli("create", cli.builder, "8", "3", "0")[0] == 0
    code, _out, err = cli(*[arg.format(b=cli.builder) for arg in args])
    assert code == 2
    assert message in err and "Traceback" not in err


def test_missing_builder_exits_2(cli: Cli) -> None:
    for action in ("show", "rebalance", "add"):
        args = [action, cli.builder] + (["z1-1.2.3.4:6200/d1", "1"] if action == "add" else [])
        code, _out, err = cli(*args)
        assert code == 2 and "does not exist" in err


def test_rebalance_without_devices_exits_2(cli: Cli) -> None:
    cli("create", cli.builder, "8", "3", "0")
    code, _out, err = cli("rebalance", cli.builder)
    assert code == 2 and "no device with weight" in err


def test_malformed_command_line_exits_2(cli: Cli) -> None:
    assert cli("explode", cli.builder)[0] == 2
    assert cli("create", cli.builder, "eight", "3", "0")[0] == 2


def test_ring_file_name_beside_the_builder() -> None:
    assert manage.ring_file_for("/etc/x/object.builder") == "/etc/x/object.ring.gz"
    assert manage.ring_file_for("/etc/x/account") == "/etc/x/account.ring.gz"
