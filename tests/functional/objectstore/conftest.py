"""An object store of real daemons, for the object store's functional and probe tests
(and ``tools/bench/objectstore_bench.py --scratch-cluster``).

:class:`ObjectStoreCloud` runs, on scratch state under one directory: three device
directories (``d1``, ``d2``, ``d3``), rings built with ``stratus-manage objectstore
ring`` (part power 6, ``replicas`` replicas (3 by default), min_part_hours 0, one zone
per device), the proxy (``stratus-objectstore-proxy``: keystone auth through a real
identity daemon, or tempauth with its ``standalone`` pipeline when no identity daemon
is given) and the storage servers. ``per_device=False`` runs one account,
one container and one object server for all three devices (as a one-node install
does); ``per_device=True`` runs one server of each kind per device, each on its own
port, so that a test can take one replica's server down (the probe tests). Every
process is stopped by its pid.
"""
from __future__ import annotations

import concurrent.futures
import configparser
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any, Iterator

import pytest

from tests.functional.conftest import (
    REPO, Daemon, IdentityCloud, _find_or_create, _tail, admin_session, free_port,
    make_user, register_service, script, wait_http)

SWIFT_PASSWORD = "swift-pw"
DEMO_PASSWORD = "demo-pw"
OTHER_PASSWORD = "other-pw"
HASH_SUFFIX = "functional-test-suffix"
DEVICES = ("d1", "d2", "d3")
KINDS = ("account", "container", "object")
#: Ring name -> console script of its storage server.
SERVER_SCRIPTS = {"account": "stratus-objectstore-account",
                  "container": "stratus-objectstore-container",
                  "object": "stratus-objectstore-object"}


def wait_port(port: int, proc: Any, log: str, timeout: float = 30.0) -> None:
    """Until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d did not open within %ss (exit %s)\n%s%s" % (
        port, timeout, proc.poll(), _tail(log), _tail(log + ".stdout")))


def md5_file(path: str) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


#: The tempauth user of a cloud without identity (account ``AUTH_<TEMPAUTH_ACCOUNT>``).
TEMPAUTH_ACCOUNT = "bench"
TEMPAUTH_USER = "tester"


class ObjectStoreCloud:
    """Proxy + storage servers on three devices, registered in ``identity`` (or, when
    ``identity`` is None, behind tempauth with one user of its own: :meth:`token`).

    ``replicas`` (1 to 3) is the replica count of the three rings; ``threads`` the
    worker threads of each storage server (None: the servers' default)."""

    def __init__(self, state: str, identity: IdentityCloud | None, per_device: bool = False,
                 catalog: bool = True, extra_conf: str = "", replicas: int = 3,
                 threads: int | None = 8) -> None:
        if not 1 <= replicas <= len(DEVICES):
            raise ValueError("replicas must be 1 to %d" % len(DEVICES))
        self.state = state
        self.identity = identity
        self.per_device = per_device
        self.catalog = catalog
        self.replicas = replicas
        self.threads = threads
        # tempauth's key when there is no identity daemon
        self.tempauth_key = secrets.token_hex(8)
        self.etc = os.path.join(state, "etc")
        self.devices = os.path.join(state, "node")
        self.swift_dir = os.path.join(state, "rings")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proxy_log = os.path.join(state, "proxy.log")
        # kind -> device -> port (all devices share one port without per_device)
        self.ports: dict[str, dict[str, int]] = {}
        for kind in KINDS:
            shared = free_port()
            self.ports[kind] = {dev: free_port() if per_device else shared
                                for dev in DEVICES}
        self.servers: dict[tuple[str, str], Daemon] = {}
        self.proxy: Daemon | None = None
        for path in (self.etc, self.swift_dir):
            os.makedirs(path, exist_ok=True)
        for dev in DEVICES:
            os.makedirs(os.path.join(self.devices, dev), exist_ok=True)
        try:
            self.conf = self._write_conf(extra_conf)
            self._build_rings()
            if identity is not None:
                self._register()
            else:
                self.demo_account = "AUTH_" + TEMPAUTH_ACCOUNT
            for kind in KINDS:
                for dev in self._server_devices():
                    self.start_server(kind, dev)
            self.start_proxy()
        except BaseException:
            self.stop()
            raise

    # -- configuration -------------------------------------------------------

    def _server_devices(self) -> tuple[str, ...]:
        """The device whose port each server of one kind listens on."""
        return DEVICES if self.per_device else DEVICES[:1]

    def _write_paste(self) -> str:
        """The repository's proxy-paste.ini; without identity, its ``standalone``
        (tempauth) pipeline as ``main`` and this cloud's one tempauth user."""
        source = os.path.join(REPO, "etc", "objectstore", "proxy-paste.ini")
        paste = os.path.join(self.etc, "proxy-paste.ini")
        if self.identity is not None:
            shutil.copy(source, paste)
            return paste
        parser = configparser.RawConfigParser()
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(source)
        parser.set("pipeline:main", "pipeline", parser.get("pipeline:standalone", "pipeline"))
        for name, _value in parser.items("filter:tempauth"):
            if name.startswith("user_"):
                parser.remove_option("filter:tempauth", name)
        parser.set("filter:tempauth", "user_%s_%s" % (TEMPAUTH_ACCOUNT, TEMPAUTH_USER),
                   "%s .admin" % self.tempauth_key)
        with open(paste, "w") as handle:
            parser.write(handle)
        return paste

    def _write_conf(self, extra: str) -> str:
        paste = self._write_paste()
        lines = [
            "[DEFAULT]", "state_path = %s" % self.state,
            "[api]", "bind_host = 127.0.0.1", "bind_port = %d" % self.port,
            "public_endpoint = %s" % self.url, "api_paste_config = %s" % paste,
            "[objectstore]", "devices = %s" % self.devices,
            "swift_dir = %s" % self.swift_dir, "hash_path_suffix = %s" % HASH_SUFFIX,
            "ring_check_interval = 1",
            "[daemons]", "my_ip = 127.0.0.1", "conn_timeout = 0.5", "node_timeout = 5",
            "[replicator]", "concurrency = 2",
            "[auditor]", "files_per_second = 0", "bytes_per_second = 0",
            "[proxy]", "conn_timeout = 0.5", "node_timeout = 10",
            "error_suppression_interval = 1",
        ]
        for kind in KINDS:
            lines += ["[%s_server]" % kind, "bind_host = 127.0.0.1",
                      "bind_port = %d" % self.ports[kind][DEVICES[0]]]
            if self.threads is not None:
                lines.append("threads = %d" % self.threads)
        if self.identity is not None:
            ident = self.identity.url
            lines += [
                "[keystone_authtoken]", "www_authenticate_uri = %s" % ident,
                "auth_url = %s" % ident, "auth_type = password", "username = swift",
                "password = %s" % SWIFT_PASSWORD, "project_name = service",
                "user_domain_name = Default", "project_domain_name = Default"]
        lines.append(extra)
        path = os.path.join(self.etc, "objectstore.conf")
        with open(path, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        return path

    def _server_conf(self, kind: str, dev: str) -> list[str]:
        """``--config-file`` arguments of the ``kind`` server of device ``dev``."""
        args = ["--config-file", self.conf]
        if self.per_device:
            path = os.path.join(self.etc, "%s-%s.conf" % (kind, dev))
            with open(path, "w") as handle:
                handle.write("[%s_server]\nbind_port = %d\n" % (kind, self.ports[kind][dev]))
            args += ["--config-file", path]
        return args

    def ring_manage(self, *args: str) -> str:
        result = subprocess.run([script("stratus-manage"), "objectstore", "ring", *args],
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError("stratus-manage objectstore ring %s failed:\n%s%s"
                               % (" ".join(args), result.stdout, result.stderr))
        return result.stdout

    def _build_ring(self, kind: str) -> None:
        builder = os.path.join(self.swift_dir, "%s.builder" % kind)
        self.ring_manage("create", builder, "6", str(self.replicas), "0")
        for zone, dev in enumerate(DEVICES, 1):
            self.ring_manage("add", builder, "r1z%d-127.0.0.1:%d/%s"
                             % (zone, self.ports[kind][dev], dev), "100")
        self.ring_manage("rebalance", builder, "--seed", "7")

    def _build_rings(self) -> None:
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            for future in [pool.submit(self._build_ring, kind) for kind in KINDS]:
                future.result()

    def _register(self) -> None:
        """The service user, the catalog entry (``catalog``), the roles, a demo user
        and a user of another project (all found again when they exist)."""
        identity = self._identity()
        if self.catalog:
            register_service(identity, "object-store", "swift",
                             self.url + "/v1/AUTH_%(project_id)s", "swift", SWIFT_PASSWORD)
        else:
            make_user(identity, "service", "swift", SWIFT_PASSWORD,
                      roles=("admin", "service"))
        sess = admin_session(identity)
        for role in ("member", "ResellerAdmin"):
            _find_or_create(sess, identity, "role", role, {})
        self.demo_project, self.demo_user = make_user(
            identity, "os-demo", "os-demo", DEMO_PASSWORD)
        self.other_project, self.other_user = make_user(
            identity, "os-other", "os-other", OTHER_PASSWORD)
        self.demo_account = "AUTH_" + self.demo_project
        self.other_account = "AUTH_" + self.other_project

    # -- processes -----------------------------------------------------------

    def server_log(self, kind: str, dev: str) -> str:
        return os.path.join(self.state, "%s-%s.log" % (kind, dev))

    def start_server(self, kind: str, dev: str) -> Daemon:
        """Start the ``kind`` server of device ``dev`` (with per_device=False, ``d1``
        names the one server of that kind)."""
        log = self.server_log(kind, dev)
        daemon = Daemon([script(SERVER_SCRIPTS[kind]), *self._server_conf(kind, dev),
                         "--log-file", log], log)
        self.servers[(kind, dev)] = daemon
        wait_port(self.ports[kind][dev], daemon.proc, log)
        return daemon

    def stop_server(self, kind: str, dev: str) -> None:
        daemon = self.servers.pop((kind, dev))
        daemon.stop()

    def start_proxy(self) -> None:
        self.proxy = Daemon([script("stratus-objectstore-proxy"), "--config-file", self.conf,
                             "--log-file", self.proxy_log], self.proxy_log)
        try:
            wait_http(self.url + "/healthcheck", proc=self.proxy.proc)
        except RuntimeError as err:
            raise RuntimeError("%s\n%s" % (err, _tail(self.proxy_log))) from None

    def run_daemon(self, name: str, *args: str, timeout: float = 120) -> str:
        """One pass (``--once``) of ``stratus-objectstore-<name>``; its log text."""
        log = os.path.join(self.state, "%s.log" % name)
        start = os.path.getsize(log) if os.path.exists(log) else 0
        result = subprocess.run([script("stratus-objectstore-" + name), "--config-file",
                                 self.conf, "--log-file", log, "--once", *args],
                                capture_output=True, text=True, timeout=timeout)
        with open(log) as handle:
            handle.seek(start)
            text = handle.read()
        if result.returncode != 0:
            raise AssertionError("stratus-objectstore-%s --once failed (%d):\n%s%s%s" % (
                name, result.returncode, result.stdout, result.stderr, text))
        return text

    def logs(self) -> str:
        paths = [self.proxy_log] + [self.server_log(k, d) for k, d in self.servers]
        return "\n".join(_tail(p) for p in paths)

    def tracebacks(self) -> list[str]:
        """Log files of this cloud (proxy, servers, daemons) that hold a traceback."""
        found = []
        for name in sorted(os.listdir(self.state)):
            path = os.path.join(self.state, name)
            if name.endswith((".log", ".log.stdout")) and os.path.isfile(path):
                with open(path, errors="replace") as handle:
                    if "Traceback (most recent call last)" in handle.read():
                        found.append(path)
        return found

    def stop(self) -> None:
        daemons = list(self.servers.values()) + ([self.proxy] if self.proxy else [])
        for daemon in daemons:  # all at once (each takes about a second to stop) ...
            if daemon.proc.poll() is None:
                os.kill(daemon.proc.pid, signal.SIGTERM)
        for daemon in daemons:  # ... then wait for each (SIGKILL after 15 s)
            daemon.stop()
        self.servers.clear()
        self.proxy = None

    # -- clients -------------------------------------------------------------

    def _identity(self) -> IdentityCloud:
        if self.identity is None:
            raise RuntimeError("this object store runs without identity (tempauth)")
        return self.identity

    def env(self, user: str = "os-demo", password: str = DEMO_PASSWORD,
            project: str | None = None) -> dict[str, str]:
        """The environment of the ``swift``/``openstack`` clients: keystone's OS_*
        variables, or without identity swift's ST_* ones for the tempauth user."""
        if self.identity is None:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_"))}
            env.update(ST_AUTH=self.url + "/auth/v1.0",
                       ST_USER="%s:%s" % (TEMPAUTH_ACCOUNT, TEMPAUTH_USER),
                       ST_KEY=self.tempauth_key)
            return env
        return self.identity.env(user, password, project or user)

    def other_env(self) -> dict[str, str]:
        return self.env("os-other", OTHER_PASSWORD)

    def token(self, user: str = "os-demo", password: str = DEMO_PASSWORD) -> str:
        """A token of ``user`` (keystone), or of the tempauth user without identity."""
        if self.identity is None:
            status, headers, body = http("GET", self.url + "/auth/v1.0", {
                "X-Auth-User": "%s:%s" % (TEMPAUTH_ACCOUNT, TEMPAUTH_USER),
                "X-Auth-Key": self.tempauth_key})
            if status // 100 != 2:
                raise RuntimeError("tempauth login answered %d: %r" % (status, body[:200]))
            return headers["X-Auth-Token"]
        from keystoneauth1 import session as ks_session
        from keystoneauth1.identity import v3

        auth = v3.Password(auth_url=self._identity().auth_url, username=user,
                           password=password, user_domain_id="default",
                           project_name=user, project_domain_id="default")
        return str(ks_session.Session(auth=auth).get_token())

    def swift(self, *args: str, env: dict[str, str] | None = None, check: bool = True,
              cwd: str | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([script("swift"), *args], env=env or self.env(),
                                capture_output=True, text=True, timeout=180, cwd=cwd)
        if check and result.returncode != 0:
            raise AssertionError("swift %s failed (%d):\n%s%s" % (
                " ".join(args), result.returncode, result.stdout, result.stderr))
        return result

    def openstack(self, *args: str, env: dict[str, str] | None = None, check: bool = True,
                  cwd: str | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([script("openstack"), *args], env=env or self.env(),
                                capture_output=True, text=True, timeout=180, cwd=cwd)
        if check and result.returncode != 0:
            raise AssertionError("openstack %s failed (%d):\n%s%s" % (
                " ".join(args), result.returncode, result.stdout, result.stderr))
        return result

    def request(self, method: str, path: str, token: str | None = None,
                headers: dict[str, str] | None = None,
                body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
        """A plain HTTP request to the proxy; (status, headers, body)."""
        headers = dict(headers or {})
        if token:
            headers["X-Auth-Token"] = token
        return http(method, self.url + path, headers, body)


def http(method: str, url: str, headers: dict[str, str] | None = None,
         body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request; (status, headers, body), also for 4xx/5xx answers."""
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers.items()), err.read()


# The fixtures are package-scoped so that the test modules of this directory share
# one identity daemon and one cloud per pytest(-xdist) worker: each start costs
# tens of seconds on two cores. (Without __init__.py files pytest tears them down
# at the end of the session.)

@pytest.fixture(scope="package")
def objectstore_identity(tmp_path_factory: Any) -> Iterator[IdentityCloud]:
    """An identity daemon of the object store tests' own."""
    cloud = IdentityCloud(str(tmp_path_factory.mktemp("objectstore-identity")))
    yield cloud
    cloud.daemon.stop()


@pytest.fixture(scope="package")
def objectstore_cloud(objectstore_identity: IdentityCloud,
                      tmp_path_factory: Any) -> Iterator[ObjectStoreCloud]:
    """Proxy + one account, container and object server for three devices, in the
    catalog of ``objectstore_identity``."""
    cloud = ObjectStoreCloud(str(tmp_path_factory.mktemp("objectstore")),
                             objectstore_identity)
    yield cloud
    cloud.stop()


@pytest.fixture(scope="package")
def objectstore_probe_cloud(objectstore_identity: IdentityCloud,
                            tmp_path_factory: Any) -> Iterator[ObjectStoreCloud]:
    """Proxy + one server of each kind per device (a replica's server can be stopped);
    not in the catalog (the probe tests talk to it by URL)."""
    cloud = ObjectStoreCloud(str(tmp_path_factory.mktemp("objectstore-probe")),
                             objectstore_identity, per_device=True, catalog=False)
    yield cloud
    cloud.stop()
