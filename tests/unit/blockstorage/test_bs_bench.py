"""The block storage bench's CPU accounting (``tools/bench/blockstorage_bench.py``):
the daemons' pids from their pid files, their CPU time from /proc."""
from __future__ import annotations

import importlib.util
import os
import pathlib
import subprocess
import sys
import time
from types import ModuleType

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[3] / "tools" / "bench" / "blockstorage_bench.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("blockstorage_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_daemon_pids_reads_the_blockstorage_pid_files(bench: ModuleType,
                                                      tmp_path: pathlib.Path) -> None:
    (tmp_path / "stratus-blockstorage-api.pid").write_text("123\n")
    (tmp_path / "stratus-blockstorage-volume.pid").write_text("456")
    (tmp_path / "stratus-blockstorage-backup.pid").write_text("not a pid")
    (tmp_path / "stratus-compute-api.pid").write_text("789")
    assert bench.daemon_pids(str(tmp_path)) == {"api": 123, "volume": 456}
    assert bench.daemon_pids(str(tmp_path / "missing")) == {}


def test_cpu_seconds_counts_user_and_system_time(bench: ModuleType) -> None:
    before = bench.cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    after = bench.cpu_seconds(os.getpid())
    assert before is not None and after is not None and after - before >= 0.1
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert bench.cpu_seconds(gone.pid) is None


def test_meter_reports_ms_per_volume(bench: ModuleType) -> None:
    meter = bench.CPUMeter({"api": os.getpid(), "gone": 2 ** 22 + 1})
    meter.start()
    deadline = time.process_time() + 0.1
    while time.process_time() < deadline:
        pass
    meter.stop()
    assert set(meter.used) == {"api"} and meter.used["api"] >= 0.05
    meter.used = {"api": 0.5, "scheduler": 0.25}
    assert meter.report(100) == ("CPU per volume: api 5.0 ms, scheduler 2.5 ms "
                                 "(total 7.5 ms)")
    assert "no block storage daemon" in bench.CPUMeter({}).report(10)
