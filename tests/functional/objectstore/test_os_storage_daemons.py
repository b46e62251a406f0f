"""The storage server daemons as processes: they serve on their group's port, stop on
SIGTERM with status 0, and refuse to start (status 2, one line) on devices whose file
system keeps no user xattrs (a ramfs mount: root only)."""
from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from typing import Any, Iterator

import pytest

from tests.functional.conftest import free_port

SERVERS = {"account": ("account_server", "objectstore.cmd.account_server"),
           "container": ("container_server", "objectstore.cmd.container_server"),
           "object": ("object_server", "objectstore.cmd.object_server")}


def _write_conf(state: str, group: str, port: int) -> str:
    path = os.path.join(state, "objectstore.conf")
    with open(path, "w") as handle:
        handle.write("\n".join([
            "[DEFAULT]", "state_path = %s" % state,
            "[objectstore]", "devices = %s" % os.path.join(state, "node"),
            "swift_dir = %s" % state, "hash_path_suffix = test",
            "[%s]" % group, "bind_host = 127.0.0.1", "bind_port = %d" % port,
            "threads = 4", ""]))
    return path


def _start(state: str, kind: str) -> tuple[subprocess.Popen[bytes], int]:
    group, module = SERVERS[kind]
    port = free_port()
    conf = _write_conf(state, group, port)
    proc = subprocess.Popen([sys.executable, "-m", module, "--config-file", conf],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    return proc, port


def _wait_port(proc: subprocess.Popen[bytes], port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("HEAD", "/d1/0/AUTH_probe")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("port %d never answered" % port)


@pytest.fixture
def state(tmp_path: Any) -> Iterator[str]:
    os.makedirs(tmp_path / "node" / "d1")
    yield str(tmp_path)


@pytest.mark.parametrize("kind", sorted(SERVERS))
def test_daemon_serves_and_stops_on_sigterm(state: str, kind: str) -> None:
    proc, port = _start(state, kind)
    try:
        _wait_port(proc, port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("HEAD", "/d1/0/AUTH_probe/c/o" if kind == "object" else
                     "/d1/0/AUTH_probe" + ("/c" if kind == "container" else ""))
        assert conn.getresponse().status == 404
        conn.close()
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a ramfs needs root")
def test_object_server_refuses_devices_without_xattrs(state: str) -> None:
    device = os.path.join(state, "node", "d1")
    subprocess.run(["mount", "-t", "ramfs", "ramfs", device], check=True)
    try:
        proc, _port = _start(state, "object")
        _out, err = proc.communicate(timeout=30)
    finally:
        subprocess.run(["umount", device], check=True)
    assert proc.returncode == 2
    lines = err.decode().strip().splitlines()
    assert lines[-1].startswith("stratus-objectstore-object: cannot start: ")
    assert device in lines[-1] and "xattr" in lines[-1]
    assert "Traceback" not in err.decode()
