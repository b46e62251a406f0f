"""Functional-test fixtures: real daemons as processes, killed by pid."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
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


# ---------------------------------------------------------------------------
# Identity as a registry of services: service users, catalog entries, projects
# ---------------------------------------------------------------------------

def admin_session(cloud: IdentityCloud) -> Any:
    """A keystoneauth session of the bootstrap admin (project admin)."""
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3

    auth = v3.Password(auth_url=cloud.auth_url, username="admin", password=ADMIN_PASSWORD,
                       user_domain_id="default", project_name="admin",
                       project_domain_id="default")
    return ks_session.Session(auth=auth)


def _find_or_create(sess: Any, cloud: IdentityCloud, kind: str, name: str,
                    body: dict[str, Any]) -> str:
    found = sess.get("%s/%ss" % (cloud.auth_url, kind), params={"name": name}).json()
    if found["%ss" % kind]:
        return str(found["%ss" % kind][0]["id"])
    created = sess.post("%s/%ss" % (cloud.auth_url, kind), json={kind: {"name": name, **body}})
    return str(created.json()[kind]["id"])


def make_user(cloud: IdentityCloud, project: str, user: str, password: str,
              roles: tuple[str, ...] = ("member",)) -> tuple[str, str]:
    """Create (or find) a project and a user with ``roles`` on it; (project_id, user_id)."""
    sess = admin_session(cloud)
    project_id = _find_or_create(sess, cloud, "project", project, {"domain_id": "default"})
    user_id = _find_or_create(sess, cloud, "user", user,
                              {"domain_id": "default", "password": password,
                               "default_project_id": project_id})
    for role in roles:
        role_id = _find_or_create(sess, cloud, "role", role, {})
        sess.put("%s/projects/%s/users/%s/roles/%s" % (cloud.auth_url, project_id, user_id,
                                                      role_id))
    return project_id, user_id


def register_service(cloud: IdentityCloud, service_type: str, name: str, url: str,
                     user: str, password: str) -> None:
    """A service user (admin and service roles on project service) and the
    service's public/internal/admin endpoints in RegionOne."""
    make_user(cloud, "service", user, password, roles=("admin", "service"))
    sess = admin_session(cloud)
    service = sess.post(cloud.auth_url + "/services",
                        json={"service": {"type": service_type, "name": name}})
    service_id = service.json()["service"]["id"]
    for interface in ("public", "internal", "admin"):
        sess.post(cloud.auth_url + "/endpoints", json={"endpoint": {
            "service_id": service_id, "interface": interface, "url": url,
            "region_id": "RegionOne"}})


# ---------------------------------------------------------------------------
# RabbitMQ: one vhost per test cloud (RPC topics are fixed, e.g. image-registry)
# ---------------------------------------------------------------------------
RABBIT = os.environ.get("STRATUS_TEST_RABBIT", "guest:guest@127.0.0.1:5672")


class RabbitVhost:
    """A RabbitMQ vhost of its own, made with ``rabbitmqctl``; ``delete`` drops it."""

    def __init__(self) -> None:
        self.ctl = shutil.which("rabbitmqctl") or ""
        if not self.ctl:
            pytest.skip("rabbitmqctl is not installed: these tests give each cloud its own "
                        "RabbitMQ vhost (apt-get install rabbitmq-server, run as root)")
        self.name = "stratus-test-%s" % uuid.uuid4().hex[:12]
        self._ctl("add_vhost", self.name)
        user = RABBIT.split(":", 1)[0]
        self._ctl("set_permissions", "-p", self.name, user, ".*", ".*", ".*")
        self.transport_url = "rabbit://%s/%s" % (RABBIT, self.name)

    def _ctl(self, *args: str) -> None:
        result = subprocess.run([self.ctl, "-q", *args], capture_output=True, text=True,
                                timeout=60)
        if result.returncode != 0:
            raise RuntimeError("rabbitmqctl %s failed (it needs root or the broker's Erlang "
                               "cookie, and a running broker):\n%s%s"
                               % (" ".join(args), result.stdout, result.stderr))

    def delete(self) -> None:
        self._ctl("delete_vhost", self.name)


# ---------------------------------------------------------------------------
# Image: stratus-image-registry and stratus-image-api as processes
# ---------------------------------------------------------------------------
GLANCE_PASSWORD = "glance-pw"


def _tail(path: str, size: int = 3000) -> str:
    if not os.path.exists(path):
        return ""
    with open(path, "rb") as handle:
        handle.seek(max(0, os.path.getsize(path) - size))
        return "--- %s ---\n%s" % (path, handle.read().decode("utf-8", "replace"))


class ImageCloud:
    """An image service (registry + API) registered in ``identity``'s catalog,
    on its own RabbitMQ vhost and SQLite database under ``state``."""

    def __init__(self, state: str, identity: IdentityCloud, registry_timeout: int = 5,
                 extra_conf: str = "") -> None:
        self.state = state
        self.identity = identity
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.api_log = os.path.join(state, "image-api.log")
        self.registry_log = os.path.join(state, "image-registry.log")
        self.datadir = os.path.join(state, "images", "data")
        self.registry_timeout = registry_timeout
        self.registry: Daemon | None = None
        self.api: Daemon | None = None
        self.vhost = RabbitVhost()
        try:
            register_service(identity, "image", "glance", self.url, "glance", GLANCE_PASSWORD)
            self.conf = self._write_conf(extra_conf)
            self.manage("db", "sync")
            self.start_registry()
            self.api = Daemon([script("stratus-image-api"), "--config-file", self.conf,
                               "--log-file", self.api_log], self.api_log)
            try:
                wait_http(self.url + "/healthcheck", proc=self.api.proc)
            except RuntimeError as err:
                raise RuntimeError("%s\n%s\n%s" % (err, _tail(self.api_log),
                                                   _tail(self.registry_log))) from None
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def _write_conf(self, extra: str) -> str:
        etc = os.path.join(self.state, "etc")
        os.makedirs(etc, exist_ok=True)
        with open(os.path.join(REPO, "etc", "image", "api-paste.ini")) as src:
            paste = src.read()
        with open(os.path.join(etc, "api-paste.ini"), "w") as dst:
            dst.write(paste)
        ident = self.identity.url
        text = "\n".join([
            "[DEFAULT]", "state_path = %s" % self.state,
            "transport_url = %s" % self.vhost.transport_url,
            "[api]", "bind_host = 127.0.0.1", "bind_port = %d" % self.port,
            "public_endpoint = %s" % self.url,
            "[store]", "filesystem_store_datadir = %s" % self.datadir,
            "[image]", "staging_dir = %s" % os.path.join(self.state, "images", "staging"),
            "registry_timeout = %d" % self.registry_timeout,
            "[keystone_authtoken]", "www_authenticate_uri = %s" % ident,
            "auth_url = %s" % ident, "auth_type = password", "username = glance",
            "password = %s" % GLANCE_PASSWORD, "project_name = service",
            "user_domain_name = Default", "project_domain_name = Default",
            "[oslo_messaging_notifications]", "driver = messagingv2", extra])
        path = os.path.join(etc, "image.conf")
        with open(path, "w") as handle:
            handle.write(text + "\n")
        return path

    def manage(self, *args: str) -> str:
        result = subprocess.run([script("stratus-manage"), "image", "--config-file", self.conf,
                                 *args], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError("stratus-manage image %s failed:\n%s%s"
                               % (" ".join(args), result.stdout, result.stderr))
        return result.stdout

    def start_registry(self) -> None:
        if self.registry is not None:
            self.registry.stop()
        self.registry = Daemon([script("stratus-image-registry"), "--config-file", self.conf,
                                "--log-file", self.registry_log], self.registry_log)

    def token(self) -> str:
        return str(admin_session(self.identity).get_token())

    def list_status(self, token: str, timeout: float = 10.0) -> int:
        req = urllib.request.Request(self.url + "/v2/images?limit=1",
                                     headers={"X-Auth-Token": token})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as err:
            return int(err.code)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the API lists images (which needs the registry over RPC)."""
        token = self.token()
        deadline = time.monotonic() + timeout
        status = 0
        while time.monotonic() < deadline:
            for daemon in (self.registry, self.api):
                if daemon is not None and daemon.proc.poll() is not None:
                    raise RuntimeError("%s exited (%s)\n%s%s" % (
                        daemon.log, daemon.proc.returncode, _tail(daemon.log),
                        _tail(daemon.log + ".stdout")))
            try:
                status = self.list_status(token)
            except OSError:
                status = 0
            if status == 200:
                return
            time.sleep(0.2)
        raise RuntimeError("GET %s/v2/images still answers %s after %ss\n%s\n%s" % (
            self.url, status, timeout, _tail(self.api_log), _tail(self.registry_log)))

    def env(self, user: str = "admin", password: str = ADMIN_PASSWORD,
            project: str = "admin") -> dict[str, str]:
        return self.identity.env(user, password, project)

    def openstack(self, *args: str, env: dict[str, str] | None = None,
                  check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.identity.openstack(*args, env=env, check=check)

    def stop(self) -> None:
        for daemon in (self.api, self.registry):
            if daemon is not None:
                daemon.stop()
        self.vhost.delete()


@pytest.fixture(scope="module")
def image_cloud(identity_cloud: IdentityCloud, tmp_path_factory: Any) -> Iterator[ImageCloud]:
    cloud = ImageCloud(str(tmp_path_factory.mktemp("image")), identity_cloud)
    yield cloud
    cloud.stop()


# ---------------------------------------------------------------------------
# Network: stratus-network-server and (optionally) agents as processes
# ---------------------------------------------------------------------------
NEUTRON_PASSWORD = "neutron-pw"


class NetworkCloud:
    """A network server registered in ``identity``'s catalog, on its own RabbitMQ
    vhost and SQLite database under ``state``; agents start with ``start_agent``."""

    def __init__(self, state: str, identity: IdentityCloud) -> None:
        self.state = state
        self.identity = identity
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = os.path.join(state, "network-server.log")
        self.server: Daemon | None = None
        self.agents: list[Daemon] = []
        self.vhost = RabbitVhost()
        try:
            register_service(identity, "network", "neutron", self.url, "neutron",
                             NEUTRON_PASSWORD)
            self.conf = self._write_conf()
            result = subprocess.run([script("stratus-manage"), "network", "--config-file",
                                     self.conf, "db", "sync"], capture_output=True,
                                    text=True, timeout=120)
            if result.returncode != 0:
                raise RuntimeError("network db sync failed:\n%s%s"
                                   % (result.stdout, result.stderr))
            self.server = Daemon([script("stratus-network-server"), "--config-file",
                                  self.conf, "--log-file", self.log], self.log)
            try:
                wait_http(self.url + "/healthcheck", proc=self.server.proc)
            except RuntimeError as err:
                raise RuntimeError("%s\n%s" % (err, _tail(self.log))) from None
        except BaseException:
            self.stop()
            raise

    def _write_conf(self) -> str:
        etc = os.path.join(self.state, "etc")
        os.makedirs(etc, exist_ok=True)
        shutil.copy(os.path.join(REPO, "etc", "network", "api-paste.ini"),
                    os.path.join(etc, "api-paste.ini"))
        ident = self.identity.url
        text = "\n".join([
            "[DEFAULT]", "state_path = %s" % self.state,
            "transport_url = %s" % self.vhost.transport_url,
            "[api]", "bind_host = 127.0.0.1", "bind_port = %d" % self.port,
            "public_endpoint = %s" % self.url,
            "[ml2]", "type_drivers = flat,vlan,vxlan", "tenant_network_types = vxlan",
            "[ml2_type_flat]", "flat_networks = public",
            "[ml2_type_vxlan]", "vni_ranges = 1:1000",
            "[keystone_authtoken]", "www_authenticate_uri = %s" % ident,
            "auth_url = %s" % ident, "auth_type = password", "username = neutron",
            "password = %s" % NEUTRON_PASSWORD, "project_name = service",
            "user_domain_name = Default", "project_domain_name = Default",
            "[oslo_messaging_notifications]", "driver = messagingv2"])
        path = os.path.join(etc, "network.conf")
        with open(path, "w") as handle:
            handle.write(text + "\n")
        return path

    def start_agent(self, binary: str, name: str, conf_text: str) -> Daemon:
        """Start agent ``binary`` with the vhost's transport_url plus ``conf_text``."""
        path = os.path.join(self.state, "etc", name + ".conf")
        with open(path, "w") as handle:
            handle.write("[DEFAULT]\ntransport_url = %s\n%s\n"
                         % (self.vhost.transport_url, conf_text))
        log = os.path.join(self.state, name + ".log")
        agent = Daemon([script(binary), "--config-file", path, "--log-file", log], log)
        self.agents.append(agent)
        return agent

    def session(self) -> Any:
        return admin_session(self.identity)

    def logs(self) -> str:
        return "\n".join([_tail(self.log)] + [_tail(a.log) for a in self.agents])

    def stop(self) -> None:
        for daemon in [*self.agents, self.server]:
            if daemon is not None:
                daemon.stop()
        self.vhost.delete()
