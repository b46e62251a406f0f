"""Functional-test fixtures: real daemons as processes, killed by pid."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from typing import Any, Iterator

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
ADMIN_PASSWORD = "secret"


def script(name: str) -> str:
    path = os.path.join(BIN, name)
    if not os.path.exists(path):
        pytest.fail("console script %s is not installed next to %s; install the project "
                    "(tools/run-tests.sh does)" % (name, sys.executable))
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None,
              log: str | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except OSError:
            time.sleep(0.1)
    tail = open(log).read()[-3000:] if log and os.path.exists(log) else ""
    raise RuntimeError("%s did not answer within %ss\n%s" % (url, timeout, tail))


class Daemon:
    """One started daemon; ``stop`` sends SIGTERM to its pid, then SIGKILL."""

    def __init__(self, argv: list[str], log: str) -> None:
        self.log = log
        self._out = open(log + ".stdout", "wb")
        self.proc = subprocess.Popen(argv, stdout=self._out, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._out.close()


def write_identity_conf(state: str, port: int, connection: str | None) -> str:
    etc = os.path.join(state, "etc")
    os.makedirs(etc, exist_ok=True)
    with open(os.path.join(REPO, "etc", "identity", "api-paste.ini")) as src:
        paste = src.read()
    with open(os.path.join(etc, "api-paste.ini"), "w") as dst:
        dst.write(paste)
    lines = ["[DEFAULT]", "state_path = %s" % state,
             "log_file = %s" % os.path.join(state, "identity-api.log"),
             "[api]", "bind_host = 127.0.0.1", "bind_port = %d" % port,
             "public_endpoint = http://127.0.0.1:%d" % port,
             "[identity]", "password_hash_rounds = 4",
             "[fernet_tokens]", "key_repository = %s" % os.path.join(state, "keys")]
    if connection:
        lines += ["[database]", "connection = %s" % connection]
    path = os.path.join(etc, "identity.conf")
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def manage(conf_path: str, *args: str) -> str:
    result = subprocess.run([script("stratus-manage"), "identity", "--config-file", conf_path,
                             *args], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError("stratus-manage identity %s failed:\n%s%s"
                           % (" ".join(args), result.stdout, result.stderr))
    return result.stdout


class IdentityCloud:
    def __init__(self, state: str, connection: str | None = None) -> None:
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.auth_url = self.url + "/v3"
        self.conf = write_identity_conf(state, self.port, connection)
        manage(self.conf, "db", "sync")
        manage(self.conf, "fernet-setup")
        manage(self.conf, "bootstrap", "--bootstrap-password", ADMIN_PASSWORD,
               "--bootstrap-public-url", self.auth_url)
        self.daemon = Daemon([script("stratus-identity-api"), "--config-file", self.conf],
                             os.path.join(state, "identity-api.log"))
        wait_http(self.url + "/healthcheck", proc=self.daemon.proc, log=self.daemon.log + ".stdout")

    def env(self, user: str = "admin", password: str = ADMIN_PASSWORD,
            project: str = "admin") -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(OS_AUTH_URL=self.auth_url, OS_IDENTITY_API_VERSION="3", OS_USERNAME=user,
                   OS_PASSWORD=password, OS_PROJECT_NAME=project, OS_USER_DOMAIN_NAME="Default",
                   OS_PROJECT_DOMAIN_NAME="Default", OS_REGION_NAME="RegionOne",
                   OS_INTERFACE="public")
        return env

    def openstack(self, *args: str, env: dict[str, str] | None = None,
                  check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([script("openstack"), *args], env=env or self.env(),
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError("openstack %s failed (%d):\n%s%s" % (
                " ".join(args), result.returncode, result.stdout, result.stderr))
        return result


@pytest.fixture(scope="module")
def identity_cloud(tmp_path_factory: Any) -> Iterator[IdentityCloud]:
    cloud = IdentityCloud(str(tmp_path_factory.mktemp("identity")))
    yield cloud
    cloud.daemon.stop()


def unique(prefix: str) -> str:
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])
