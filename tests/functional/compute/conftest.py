"""A compute cloud of real daemons, for the compute functional tests and the
compute benchmark (tools/bench/compute_bench.py imports :class:`ComputeCloud`).

:class:`ComputeCloud` runs, on scratch state under one directory: an image
service (registry + API), a network server (no agents: the fake driver plugs
nothing), and the five compute daemons (``stratus-compute-api``,
``-conductor``, ``-scheduler``, ``-metadata`` and one ``stratus-compute-node``
per fake host), configured as devstack/lib/compute.sh configures them (one
compute.conf; each node adds a file of its own with ``[DEFAULT] host``), on a
RabbitMQ vhost of their own, with catalog entries and service users in the
identity service. Every daemon is stopped by its pid; every vhost is deleted.
"""
from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import time
from typing import Any, Iterator

import pytest

from tests.functional.conftest import (
    ADMIN_PASSWORD, REPO, Daemon, IdentityCloud, ImageCloud, NetworkCloud, RabbitVhost,
    _tail, admin_session, free_port, make_user, register_service, script, wait_http)

NOVA_PASSWORD = "nova-pw"
METADATA_SECRET = "metadata-secret"
BINARIES = ("stratus-compute-conductor", "stratus-compute-scheduler",
            "stratus-compute-metadata", "stratus-compute-api", "stratus-compute-node")


class _NetworkForCompute(NetworkCloud):
    """A network server that may send port events to compute ([nova] credentials)."""

    def _write_conf(self) -> str:
        path = super()._write_conf()
        ident = self.identity.url
        with open(path, "a") as handle:
            handle.write("\n".join([
                "[nova]", "auth_url = %s" % ident, "auth_type = password",
                "username = nova", "password = %s" % NOVA_PASSWORD,
                "project_name = service", "user_domain_name = Default",
                "project_domain_name = Default", "region_name = RegionOne"]) + "\n")
        return path


def _client_section(group: str, auth_url: str) -> list[str]:
    return ["[%s]" % group, "auth_url = %s" % auth_url, "auth_type = password",
            "username = nova", "password = %s" % NOVA_PASSWORD, "project_name = service",
            "user_domain_name = Default", "project_domain_name = Default",
            "region_name = RegionOne"]


class ComputeCloud:
    """Image, network and compute services for ``identity``, under ``state``.

    ``nodes``: the fake compute hosts, one ``stratus-compute-node`` process
    each. ``extra_conf``: text appended to compute.conf (e.g. a
    ``[fake_driver]`` section). ``wait_nodes``: wait until every node shows
    in os-hypervisors (the benchmark waits itself).
    """

    def __init__(self, state: str, identity: IdentityCloud,
                 nodes: tuple[str, ...] = ("fake-node-1",), extra_conf: str = "",
                 debug: bool = True, wait_nodes: bool = True) -> None:
        self.state = state
        self.identity = identity
        self.port = free_port()
        self.metadata_port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.endpoint = self.url + "/v2.1"
        self.daemons: dict[str, Daemon] = {}
        self.node_hosts = list(nodes)
        self.image: ImageCloud | None = None
        self.network: NetworkCloud | None = None
        self.vhost: RabbitVhost | None = None
        self._restarts = 0
        try:
            # The service project, the admin and service roles and user nova
            # first: then image and network can register side by side.
            register_service(identity, "compute", "nova", self.endpoint, "nova",
                             NOVA_PASSWORD)
            with concurrent.futures.ThreadPoolExecutor(3) as pool:
                image = pool.submit(ImageCloud, os.path.join(state, "image"), identity)
                network = pool.submit(_NetworkForCompute, os.path.join(state, "network"),
                                      identity)
                vhost = pool.submit(RabbitVhost)
                try:
                    self.vhost = vhost.result()
                    self.conf = self._write_conf(extra_conf, debug)
                    self._manage("db", "sync")
                finally:
                    for future, attr in ((image, "image"), (network, "network")):
                        if future.exception() is None:
                            setattr(self, attr, future.result())
                image.result()
                network.result()
            for binary in BINARIES[:4]:
                self._start(binary, binary.replace("stratus-", ""))
            for url, name in (("http://127.0.0.1:%d/healthcheck" % self.metadata_port,
                               "compute-metadata"),
                              (self.url + "/healthcheck", "compute-api")):
                try:
                    wait_http(url, proc=self.daemons[name].proc)
                except RuntimeError as err:
                    raise RuntimeError("%s\n%s" % (err, self.logs())) from None
            # Nodes call the conductor as they start: only once it consumes.
            self.wait_services({"nova-conductor", "nova-scheduler"})
            for host in nodes:
                self.start_node(host)
            if wait_nodes:
                self.wait_nodes()
        except BaseException:
            self.stop()
            raise

    # -- configuration and daemons --------------------------------------------

    def _write_conf(self, extra: str, debug: bool) -> str:
        etc = os.path.join(self.state, "etc")
        os.makedirs(etc, exist_ok=True)
        with open(os.path.join(REPO, "etc", "compute", "api-paste.ini")) as src:
            paste = src.read()
        with open(os.path.join(etc, "api-paste.ini"), "w") as dst:
            dst.write(paste)
        ident = self.identity.url
        assert self.vhost is not None
        lines = [
            "[DEFAULT]", "state_path = %s" % self.state,
            "transport_url = %s" % self.vhost.transport_url,
            "host = compute-controller", "debug = %s" % debug,
            # Heartbeats every second, so os-services shows the daemons up at once.
            "report_interval = 1",
            "[api]", "bind_host = 127.0.0.1", "bind_port = %d" % self.port,
            "public_endpoint = %s" % self.url,
            "[compute]", "compute_driver = fake",
            "[metadata]", "bind_host = 127.0.0.1", "bind_port = %d" % self.metadata_port,
            "metadata_proxy_shared_secret = %s" % METADATA_SECRET,
            "[keystone_authtoken]", "www_authenticate_uri = %s" % ident,
            "auth_url = %s" % ident, "auth_type = password", "username = nova",
            "password = %s" % NOVA_PASSWORD, "project_name = service",
            "user_domain_name = Default", "project_domain_name = Default",
            *_client_section("service_user", ident),
            *_client_section("glance", ident),
            *_client_section("neutron", ident),
            *_client_section("cinder", ident),
            "[oslo_messaging_notifications]", "driver = messagingv2",
            extra]
        path = os.path.join(etc, "compute.conf")
        with open(path, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        return path

    def _manage(self, *args: str) -> str:
        result = subprocess.run([script("stratus-manage"), "compute", "--config-file",
                                 self.conf, *args], capture_output=True, text=True,
                                timeout=120)
        if result.returncode != 0:
            raise RuntimeError("stratus-manage compute %s failed:\n%s%s"
                               % (" ".join(args), result.stdout, result.stderr))
        return result.stdout

    def _start(self, binary: str, name: str, *conf_files: str) -> Daemon:
        log = os.path.join(self.state, name + ".log")
        argv = [script(binary), "--config-file", self.conf]
        for extra in conf_files:
            argv += ["--config-file", extra]
        daemon = Daemon(argv + ["--log-file", log], log)
        self.daemons[name] = daemon
        return daemon

    def start_node(self, host: str) -> Daemon:
        """Start (or start again) the node process of fake host ``host``."""
        path = os.path.join(self.state, "etc", "node-%s.conf" % host)
        with open(path, "w") as handle:
            handle.write("[DEFAULT]\nhost = %s\n" % host)
        name = "compute-node-%s" % host
        old = self.daemons.get(name)
        if old is not None and old.proc.poll() is None:
            raise RuntimeError("node %s still runs (pid %d)" % (host, old.proc.pid))
        if old is not None:
            # Keep the old stdout capture: the restarted daemon gets its own.
            self._restarts += 1
            os.replace(old.log + ".stdout", "%s.stdout.%d" % (old.log, self._restarts))
        return self._start("stratus-compute-node", name, path)

    def node(self, host: str) -> Daemon:
        return self.daemons["compute-node-%s" % host]

    def kill_node(self, host: str) -> None:
        """``kill -9`` the node process of ``host`` (no chance to clean up)."""
        daemon = self.node(host)
        os.kill(daemon.proc.pid, signal.SIGKILL)
        daemon.proc.wait(timeout=10)

    def pids(self) -> dict[str, int]:
        return {name: d.proc.pid for name, d in self.daemons.items() if d.proc.poll() is None}

    def check_alive(self) -> None:
        for name, daemon in self.daemons.items():
            if daemon.proc.poll() is not None:
                raise RuntimeError("%s exited (%s)\n%s%s" % (
                    name, daemon.proc.returncode, _tail(daemon.log),
                    _tail(daemon.log + ".stdout")))

    def logs(self, size: int = 3000) -> str:
        return "\n".join(_tail(d.log, size) + "\n" + _tail(d.log + ".stdout", 1000)
                         for d in self.daemons.values())

    # -- clients ----------------------------------------------------------------

    def session(self, user: str = "admin", password: str = ADMIN_PASSWORD,
                project: str = "admin") -> Any:
        from keystoneauth1 import session as ks_session
        from keystoneauth1.identity import v3

        if user == "admin":
            return admin_session(self.identity)
        auth = v3.Password(auth_url=self.identity.auth_url, username=user, password=password,
                           user_domain_id="default", project_name=project,
                           project_domain_id="default")
        return ks_session.Session(auth=auth)

    def api(self, sess: Any, microversion: str | None = None) -> Any:
        """A keystoneauth Adapter on the compute endpoint (raise_exc=False)."""
        from keystoneauth1 import adapter

        return adapter.Adapter(sess, service_type="compute", interface="public",
                               region_name="RegionOne", raise_exc=False,
                               default_microversion=microversion)

    def net_api(self, sess: Any) -> Any:
        from keystoneauth1 import adapter

        return adapter.Adapter(sess, service_type="network", interface="public",
                               region_name="RegionOne", raise_exc=False)

    def image_api(self, sess: Any) -> Any:
        from keystoneauth1 import adapter

        return adapter.Adapter(sess, service_type="image", interface="public",
                               region_name="RegionOne", raise_exc=False)

    def env(self, user: str = "admin", password: str = ADMIN_PASSWORD,
            project: str = "admin") -> dict[str, str]:
        return self.identity.env(user, password, project)

    def openstack(self, *args: str, env: dict[str, str] | None = None,
                  check: bool = True) -> subprocess.CompletedProcess[str]:
        """The ``openstack`` CLI; a failure shows the compute daemons' logs too."""
        result = self.identity.openstack(*args, env=env, check=False)
        if check and result.returncode != 0:
            raise AssertionError("openstack %s failed (%d):\n%s%s\n%s" % (
                " ".join(args), result.returncode, result.stdout, result.stderr,
                self.logs()))
        return result

    def user(self, project: str, user: str, password: str) -> tuple[str, str]:
        """A project and a member user of it; (project_id, user_id)."""
        return make_user(self.identity, project, user, password)

    def upload_image(self, name: str = "fake-image", data: bytes = b"\0" * 4096) -> str:
        """A public active raw image (uploaded as admin); its id."""
        api = self.image_api(self.session())
        resp = api.post("/v2/images", json={"name": name, "disk_format": "raw",
                                            "container_format": "bare",
                                            "visibility": "public"})
        assert resp.status_code == 201, resp.text
        image_id = str(resp.json()["id"])
        resp = api.put("/v2/images/%s/file" % image_id, data=data,
                       headers={"Content-Type": "application/octet-stream"})
        assert resp.status_code == 204, resp.text
        return image_id

    def wait_services(self, binaries: set[str], timeout: float = 60.0) -> None:
        """Until os-services shows ``binaries`` (Nova's names) up."""
        api = self.api(self.session())
        deadline = time.monotonic() + timeout
        up: set[str] = set()
        while time.monotonic() < deadline:
            self.check_alive()
            resp = api.get("/os-services")
            if resp.status_code == 200:
                up = {s["binary"] for s in resp.json()["services"] if s["state"] == "up"}
                if binaries <= up:
                    return
            time.sleep(0.2)
        raise RuntimeError("after %ss: services up: %s, want %s\n%s" % (
            timeout, sorted(up), sorted(binaries), self.logs()))

    def wait_nodes(self, timeout: float = 60.0) -> None:
        """Until os-hypervisors lists every node up."""
        api = self.api(self.session())
        deadline = time.monotonic() + timeout
        missing: set[str] = set(self.node_hosts)
        while time.monotonic() < deadline:
            self.check_alive()
            resp = api.get("/os-hypervisors/detail")
            if resp.status_code == 200:
                seen = {h["hypervisor_hostname"] for h in resp.json()["hypervisors"]
                        if h.get("state") == "up"}
                missing = set(self.node_hosts) - seen
                if not missing:
                    return
            time.sleep(0.2)
        raise RuntimeError("after %ss: nodes not up in os-hypervisors: %s\n%s" % (
            timeout, sorted(missing), self.logs()))

    def stop(self) -> None:
        """Stop every daemon (side by side: each may take seconds) and drop the vhosts."""
        # Nodes first: one stopping finishes its calls in flight, which need the
        # conductor (and the image and network services) still up.
        nodes: list[Any] = [d.stop for n, d in self.daemons.items()
                            if n.startswith("compute-node-")]
        others: list[Any] = [d.stop for n, d in self.daemons.items()
                             if not n.startswith("compute-node-")]
        others += [c.stop for c in (self.network, self.image) if c is not None]
        try:
            for stoppers in (nodes, others):
                with concurrent.futures.ThreadPoolExecutor(len(stoppers) or 1) as pool:
                    for future in [pool.submit(stop) for stop in stoppers]:
                        future.result()
        finally:
            if self.vhost is not None:
                self.vhost.delete()


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (0 when it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


@pytest.fixture(scope="module")
def compute_cloud(identity_cloud: IdentityCloud,
                  tmp_path_factory: Any) -> Iterator[ComputeCloud]:
    cloud = ComputeCloud(str(tmp_path_factory.mktemp("compute")), identity_cloud)
    yield cloud
    cloud.stop()
