"""The daemons' shared pieces: options, device discovery, the pass loop, pool, limiter."""
from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from typing import Any

from oslo_config import cfg

from objectstore import conf as objectstore_conf
from objectstore.conf import daemons as daemons_conf
from objectstore.daemons import base


def make_conf(tmp_path: Any, *args: str) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    daemons_conf.register_cli_opts(conf)
    objectstore_conf.register_opts(conf)
    conf(list(args), project="stratus-test", default_config_files=[])
    conf.set_override("devices", str(tmp_path / "node"), group="objectstore")
    conf.set_override("swift_dir", str(tmp_path), group="objectstore")
    return conf


class DevList:
    """A ring's ``devs`` (all device discovery reads)."""

    def __init__(self, devs: list[dict[str, Any] | None]) -> None:
        self.devs = devs


def dev(dev_id: int, ip: str, device: str, port: int = 6200) -> dict[str, Any]:
    return {"id": dev_id, "ip": ip, "port": port, "device": device}


def test_options_registered_and_listed(tmp_path: Any) -> None:
    conf = make_conf(tmp_path)
    assert conf.replicator.reclaim_age == 7 * 24 * 3600
    assert conf.reaper.delay_reaping == 0
    assert conf.auditor.files_per_second == 20.0
    assert conf.daemons.my_ip is None
    groups = dict(daemons_conf.list_opts())
    assert set(groups) == {"daemons", "replicator", "auditor", "updater", "reaper"}


def test_cli_switches(tmp_path: Any) -> None:
    conf = make_conf(tmp_path, "--once", "--devices", "d1,d2", "--partitions", "3,7")
    assert conf.once is True
    assert base.cli_filters(conf) == {"only_devices": ["d1", "d2"],
                                      "only_partitions": ["3", "7"]}
    daemon = base.Daemon(conf, **base.cli_filters(conf))
    assert daemon.partition_wanted(7) and daemon.partition_wanted("3")
    assert not daemon.partition_wanted(4)


def test_local_ips_include_loopback() -> None:
    ips = base.local_ips()
    assert "127.0.0.1" in ips


def test_local_devices_by_ip_and_directory(tmp_path: Any) -> None:
    conf = make_conf(tmp_path)
    for name in ("d1", "d2"):
        (tmp_path / "node" / name).mkdir(parents=True)
    ring = DevList([dev(0, "127.0.0.1", "d1"), None, dev(2, "127.0.0.1", "d2"),
                    dev(3, "127.0.0.1", "d3"),  # no directory here
                    dev(4, "192.0.2.200", "d1")])  # another host
    found = base.local_devices(conf, ring)
    assert sorted(d["id"] for d in found) == [0, 2]
    assert [d["id"] for d in base.local_devices(conf, ring, only=["d2"])] == [2]
    conf.set_override("devices", ["d1"], group="daemons")
    assert [d["id"] for d in base.local_devices(conf, ring)] == [0]


def test_local_devices_with_my_ip(tmp_path: Any) -> None:
    conf = make_conf(tmp_path)
    (tmp_path / "node" / "d1").mkdir(parents=True)
    conf.set_override("my_ip", "192.0.2.200", group="daemons")
    ring = DevList([dev(0, "127.0.0.1", "d1"), dev(1, "192.0.2.200", "d1")])
    assert [d["id"] for d in base.local_devices(conf, ring)] == [1]


def test_local_devices_mount_check(tmp_path: Any) -> None:
    conf = make_conf(tmp_path)
    (tmp_path / "node" / "d1").mkdir(parents=True)
    conf.set_override("mount_check", True, group="objectstore")
    assert base.local_devices(conf, DevList([dev(0, "127.0.0.1", "d1")])) == []


class Counting(base.Daemon):
    name = "counting"
    group = "updater"

    def __init__(self, conf: cfg.ConfigOpts, fail_on: int = -1) -> None:
        super().__init__(conf)
        self.fail_on = fail_on
        self.calls = 0

    def run_once(self) -> None:
        self.calls += 1
        self.stats.incr("work", self.calls)
        if self.calls == self.fail_on:
            raise RuntimeError("broken pass")


def test_run_once_returns_stats(tmp_path: Any) -> None:
    daemon = Counting(make_conf(tmp_path))
    daemon.run(once=True)
    assert daemon.calls == 1 and daemon.passes == 1
    assert daemon.run_pass() == {"work": 2}


def test_failed_pass_is_counted_not_raised(tmp_path: Any) -> None:
    daemon = Counting(make_conf(tmp_path), fail_on=1)
    assert daemon.run_pass() == {"work": 1, "pass_errors": 1}


def test_run_forever_repeats_until_stopped(tmp_path: Any) -> None:
    conf = make_conf(tmp_path)
    conf.set_override("interval", 0, group="updater")
    daemon = Counting(conf)
    thread = threading.Thread(target=daemon.run_forever)
    thread.start()
    deadline = time.monotonic() + 5
    while daemon.calls < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    daemon.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert daemon.calls >= 3


def test_run_forever_waits_interval_and_stops_promptly(tmp_path: Any) -> None:
    conf = make_conf(tmp_path)
    conf.set_override("interval", 3600, group="updater")
    daemon = Counting(conf)
    thread = threading.Thread(target=daemon.run_forever)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    daemon.stop()
    thread.join(5)
    assert daemon.calls == 1
    assert time.monotonic() - started < 2


def test_run_parallel_isolates_errors() -> None:
    done: list[int] = []
    lock = threading.Lock()

    def work(item: int) -> None:
        if item == 3:
            raise ValueError("bad item")
        with lock:
            done.append(item)

    base.run_parallel(work, range(6), concurrency=3)
    assert sorted(done) == [0, 1, 2, 4, 5]
    done.clear()
    stop = threading.Event()
    stop.set()
    base.run_parallel(work, range(6), concurrency=1, stop=stop)
    assert done == []


def test_rate_limiter_paces() -> None:
    limiter = base.RateLimiter(50)
    started = time.monotonic()
    for _ in range(11):
        limiter.wait()
    assert time.monotonic() - started >= 0.19
    unlimited = base.RateLimiter(0)
    started = time.monotonic()
    for _ in range(1000):
        unlimited.wait()
    assert time.monotonic() - started < 0.5


def _run_script(module: str, tmp_path: Any, *args: str,
                term_after: str | None = None) -> tuple[int, str]:
    """Run a console script; with ``term_after``, send SIGTERM once that text was
    logged (and a moment more, for the signal handlers to be in place)."""
    config = tmp_path / "objectstore.conf"
    config.write_text("[DEFAULT]\nstate_path = %s\n" % tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "--config-file", str(config), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    try:
        lines = []
        if term_after is not None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if term_after in line:
                    time.sleep(0.5)
                    proc.send_signal(signal.SIGTERM)
                    break
        out, _ = proc.communicate()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, "".join(lines) + out


def test_console_scripts_run_one_pass(tmp_path: Any) -> None:
    for name in ("replicator", "auditor", "updater", "reaper"):
        code, out = _run_script("objectstore.cmd." + name, tmp_path, "--once",
                                "--devices", "d1", "--partitions", "0")
        assert code == 0, out
        assert "pass done" in out  # no ring yet: the pass logs it and ends


def test_console_script_runs_until_sigterm(tmp_path: Any) -> None:
    code, out = _run_script("objectstore.cmd.updater", tmp_path, term_after="started (pid")
    assert code == 0, out
    assert "pass done" in out and "Stopped" in out
