"""A host's uptime(1) line: the format (compute.virt.uptime), read from /proc and
utmp files, the fake and libvirt drivers, the base driver's 501, and the node's
``get_host_uptime`` through the real RPC client class (1.4)."""
from __future__ import annotations

import pathlib
import re
import struct
import time
from typing import Any

import pytest

from common import context
from compute import rpcapi
from compute.node import manager as node_manager
from compute.virt import driver as virt_driver
from compute.virt import exception
from compute.virt import fake
from compute.virt import uptime
from compute.virt.libvirt import driver as libvirt_driver
from tests.fixtures import compute_node as node_fx
from tests.fixtures import libvirt as libvirt_fx

AT = time.struct_time((2026, 12, 6, 17, 1, 2, 6, 340, 0))
LINE = re.compile(r"^ \d\d:\d\d:\d\d up .+,\s+\d+ users?,  load average: "
                  r"\d+\.\d\d, \d+\.\d\d, \d+\.\d\d$")


@pytest.mark.parametrize("seconds,users,expected", [
    (3 * 86400 + 2 * 3600 + 3 * 60 + 59, 0,
     " 17:01:02 up 3 days,  2:03,  0 users,  load average: 0.10, 0.20, 0.30"),
    (86400 + 12 * 3600, 1,
     " 17:01:02 up 1 day, 12:00,  1 user,  load average: 0.10, 0.20, 0.30"),
    (86400 + 5 * 60, 12,
     " 17:01:02 up 1 day, 5 min, 12 users,  load average: 0.10, 0.20, 0.30"),
    (42, 2, " 17:01:02 up 0 min,  2 users,  load average: 0.10, 0.20, 0.30"),
    (-5, 0, " 17:01:02 up 0 min,  0 users,  load average: 0.10, 0.20, 0.30"),
])
def test_the_line_as_uptime_prints_it(seconds: float, users: int, expected: str) -> None:
    assert uptime.format_line(AT, seconds, users, (0.1, 0.2, 0.3)) == expected


def _utmp_record(kind: int, user: bytes) -> bytes:
    record = bytearray(384)
    struct.pack_into("<h", record, 0, kind)
    record[44:44 + len(user)] = user
    return bytes(record)


def test_users_are_the_login_records_of_utmp(tmp_path: pathlib.Path) -> None:
    utmp = tmp_path / "utmp"
    utmp.write_bytes(_utmp_record(2, b"reboot") + _utmp_record(7, b"alice")
                     + _utmp_record(7, b"") + _utmp_record(7, b"bob")
                     + _utmp_record(8, b"carol") + b"\0" * 100)  # a torn last record
    assert uptime.count_users(str(utmp)) == 2
    assert uptime.count_users(str(tmp_path / "missing")) == 0


def test_the_host_line_from_proc(tmp_path: pathlib.Path) -> None:
    (tmp_path / "uptime").write_text("273845.12 1000.00\n")
    (tmp_path / "loadavg").write_text("0.46 0.86 1.24 1/1108 22479\n")
    line = uptime.host_line(str(tmp_path / "uptime"), str(tmp_path / "loadavg"),
                            str(tmp_path / "no-utmp"))
    assert line.endswith(" up 3 days,  4:04,  0 users,  load average: 0.46, 0.86, 1.24")
    assert LINE.match(line)
    (tmp_path / "uptime").write_text("garbage")
    with pytest.raises(ValueError):
        uptime.host_line(str(tmp_path / "uptime"), str(tmp_path / "loadavg"))
    # This machine's own /proc (Linux) reads as well.
    assert LINE.match(uptime.host_line())


def test_fake_driver_counts_from_its_start() -> None:
    driver = fake.FakeDriver("h1")
    assert " up 0 min,  0 users,  load average: 0.00, 0.00, 0.00" in driver.get_host_uptime()
    driver.started_at -= 2 * 86400 + 3600 + 120
    assert LINE.match(driver.get_host_uptime())
    assert " up 2 days,  1:02,  0 users," in driver.get_host_uptime()
    driver.fail_next("get_host_uptime", exception.HypervisorUnavailable(host="h1"))
    with pytest.raises(exception.HypervisorUnavailable):
        driver.get_host_uptime()


class _NoUptime(fake.FakeDriver):
    get_host_uptime = virt_driver.ComputeDriver.get_host_uptime


def test_a_driver_without_the_hook_is_not_implemented() -> None:
    with pytest.raises(exception.HostUptimeNotSupported) as caught:
        _NoUptime("h1").get_host_uptime()
    assert caught.value.code == 501
    assert str(caught.value.message) == "The fake driver does not report the host's uptime."


def test_libvirt_driver_reads_its_host(tmp_path: pathlib.Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    drv = libvirt_driver.LibvirtDriver(libvirt_fx.make_conf(tmp_path), "h1")
    assert LINE.match(drv.get_host_uptime())

    def unreadable(*args: Any) -> str:
        raise OSError("no /proc here")

    monkeypatch.setattr(uptime, "host_line", unreadable)
    with pytest.raises(exception.HostUptimeNotSupported):
        drv.get_host_uptime()


def test_the_node_answers_through_the_client(tmp_path: pathlib.Path) -> None:
    cloud = node_fx.Cloud(str(tmp_path))
    try:
        cloud.add_node("h1")
        cloud.add_node("h2", driver=_NoUptime("h2"))
        ctxt = context.RequestContext(user_id="u", project_id="p", is_admin=True)
        # FakeComputeRPC is the real client class with its transport replaced.
        assert isinstance(cloud.rpc, rpcapi.ComputeNodeAPI)
        assert LINE.match(cloud.rpc.get_host_uptime(ctxt, "h1"))
        with pytest.raises(exception.HostUptimeNotSupported):
            cloud.rpc.get_host_uptime(ctxt, "h2")
    finally:
        cloud.close()


def test_the_client_asks_for_1_4(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []

    class Prepared:
        def call(self, ctxt: Any, method: str, **kwargs: Any) -> str:
            sent.append(dict(kwargs, method=method))
            return " 17:01:02 up 0 min,  0 users,  load average: 0.00, 0.00, 0.00"

    def prepare(self: Any, server: str | None = None, timeout: float | None = None,
                version: str = "1.0") -> Prepared:
        sent.append({"server": server, "version": version})
        return Prepared()

    monkeypatch.setattr(rpcapi.ComputeNodeAPI, "__init__", lambda self: None)
    monkeypatch.setattr(rpcapi.ComputeNodeAPI, "_prepare", prepare)
    client = rpcapi.ComputeNodeAPI()
    assert client.get_host_uptime(None, "h1").startswith(" 17:01:02 up")
    assert sent == [{"server": "h1", "version": "1.4"}, {"method": "get_host_uptime"}]
    assert node_manager.ComputeManager.RPC_API_VERSION == "1.4"
