"""tools/bench/objectstore_bench.py --scratch-cluster: its own cluster (tempauth, no
keystone) with the replica count asked for, every process gone afterwards. Speed is
not checked (a benchmark prints figures; tests assert behaviour)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.functional.conftest import REPO

BENCH = os.path.join(REPO, "tools", "bench", "objectstore_bench.py")
#: Large enough for its CPU time to show in /proc/<pid>/stat (10 ms ticks).
BIG_MIB = 24


def _cmdlines() -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as handle:
                    found.append(handle.read().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                continue
    return found


def test_one_replica_scratch_cluster(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, BENCH, "--scratch-cluster", "--replicas", "1",
         "--scratch-dir", str(tmp_path), "--keep", "--seconds", "0.3",
         "--concurrency", "2", "--big-mib", str(BIG_MIB), "--listing", "20"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    label = "[scratch cluster, 1 replica]"
    small = [line for line in lines if line.startswith("2 ")]
    assert len(small) == 1 and label in small[0] and "errors" not in small[0]
    big = [line for line in lines if line.startswith("%d MiB object" % BIG_MIB)]
    assert len(big) == 1 and "identical: True" in big[0] and label in big[0]
    for way in ("PUT", "GET"):
        cpu = [line for line in lines if "CPU per MB %s: total" % way in line]
        assert len(cpu) == 1
        if way == "PUT":  # the object server's share is tens of milliseconds
            assert "object " in cpu[0]
    assert any(line.startswith("listing of 20 objects") for line in lines)

    (state,) = tmp_path.iterdir()
    # one replica: the large object is on exactly one of the three devices
    copies = [path for path in state.glob("node/*/objects/*/*/*/*.data")
              if path.stat().st_size == BIG_MIB * 1024 * 1024]
    assert len(copies) == 1
    # and nothing of the cluster runs any more
    assert not [cmd for cmd in _cmdlines() if str(state) in cmd]
