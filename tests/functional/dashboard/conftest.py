"""A dashboard in front of a real cloud, for the dashboard's functional and
browser tests.

Two targets:

- by default (CI), a cloud of real daemons under a scratch directory: identity,
  image, network (server only) and compute with the fake virt driver
  (:class:`tests.functional.compute.conftest.ComputeCloud`), plus a
  ``stratus-dashboard`` process configured against it; a demo project and user,
  and an external network ``public`` for floating IPs;
- with ``STRATUS_E2E_CLOUD=/opt/stratus``, the cloud ``devstack/stack.sh`` runs
  there (its dashboard on port 8000, libvirt guests, block storage, the L3 agent):
  the whole end-to-end flow of the dashboard issue runs against it.

Every daemon started here is stopped by its pid.
"""
from __future__ import annotations

import dataclasses
import os
import re
from typing import Any, Iterator

import pytest

from tests.functional.conftest import (
    ADMIN_PASSWORD, REPO, Daemon, IdentityCloud, _tail, free_port, make_user, script,
    wait_http)

DEMO_PASSWORD = "demo-pw"
ARTIFACTS = os.environ.get("STRATUS_TEST_ARTIFACTS", os.path.join(REPO, "test-artifacts"))


@dataclasses.dataclass
class Target:
    """What the tests drive: the dashboard's URL, the users, and what the cloud can do."""
    url: str
    auth_url: str
    demo_user: str
    demo_password: str
    demo_project: str
    admin_password: str
    external_network: str
    real_guests: bool           # libvirt guests (console shows the boot) or the fake driver
    services: set[str]
    guest_image: dict[str, Any] | None = None    # kernel_id/ramdisk_id... to boot an upload

    def connection(self, user: str, password: str, project: str) -> Any:
        import openstack

        return openstack.connect(auth_url=self.auth_url, username=user, password=password,
                                 project_name=project, user_domain_name="Default",
                                 project_domain_name="Default", region_name="RegionOne",
                                 app_name="stratus-dashboard-tests")

    def demo(self) -> Any:
        return self.connection(self.demo_user, self.demo_password, self.demo_project)

    def admin(self) -> Any:
        return self.connection("admin", self.admin_password, "admin")


class DashboardDaemon:
    """``stratus-dashboard`` on a free port, logging users in at ``auth_url``."""

    def __init__(self, state: str, auth_url: str) -> None:
        os.makedirs(state, exist_ok=True)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = os.path.join(state, "dashboard.log")
        conf = os.path.join(state, "dashboard.conf")
        with open(conf, "w") as handle:
            handle.write("\n".join([
                "[DEFAULT]", "state_path = %s" % state, "log_file = %s" % self.log,
                "[api]", "bind_host = 127.0.0.1", "bind_port = %d" % self.port,
                "[dashboard]", "auth_url = %s" % auth_url]) + "\n")
        self.daemon = Daemon([script("stratus-dashboard"), "--config-file", conf], self.log)
        try:
            wait_http(self.url + "/auth/login/", proc=self.daemon.proc, log=self.log)
        except BaseException:
            self.daemon.stop()
            raise

    def stop(self) -> None:
        self.daemon.stop()

    def logs(self) -> str:
        return _tail(self.log)


def _openrc(path: str) -> dict[str, str]:
    found = {}
    with open(path) as handle:
        for line in handle:
            match = re.match(r"\s*export (OS_[A-Z_]+)=['\"]?([^'\"\n]*)", line)
            if match:
                found[match.group(1)] = match.group(2)
    return found


def _devstack_target(home: str) -> Target:
    admin = _openrc(os.path.join(home, "openrc"))
    demo = _openrc(os.path.join(home, "openrc.demo"))
    target = Target(url=os.environ.get("STRATUS_E2E_DASHBOARD", "http://127.0.0.1:8000"),
                    auth_url=admin["OS_AUTH_URL"].rstrip("/"), demo_user=demo["OS_USERNAME"],
                    demo_password=demo["OS_PASSWORD"], demo_project=demo["OS_PROJECT_NAME"],
                    admin_password=admin["OS_PASSWORD"], external_network="public",
                    real_guests=True, services=set())
    conn = target.admin()
    target.services = {s.type for s in conn.identity.services()}
    guest = conn.image.find_image("stratus-guest")
    if guest is not None:
        # openstacksdk gives these as attributes, not in ``properties``.
        boot = {k: getattr(guest, k, None) for k in ("kernel_id", "ramdisk_id",
                                                     "os_command_line")}
        target.guest_image = {"disk_format": guest.disk_format,
                              **{k: v for k, v in boot.items() if v}}
    return target


class _Scratch:
    """The CI target: a compute cloud with the fake driver and a dashboard."""

    def __init__(self, state: str, identity: IdentityCloud) -> None:
        from tests.functional.compute.conftest import ComputeCloud

        self.compute: Any = None
        self.dashboard: DashboardDaemon | None = None
        try:
            self.compute = ComputeCloud(os.path.join(state, "compute"), identity,
                                        nodes=("fake-node-1", "fake-node-2"))
            self.dashboard = DashboardDaemon(os.path.join(state, "dashboard"),
                                             identity.auth_url)
            make_user(identity, "demo", "demo", DEMO_PASSWORD)
            self.target = Target(url=self.dashboard.url, auth_url=identity.auth_url,
                                 demo_user="demo", demo_password=DEMO_PASSWORD,
                                 demo_project="demo", admin_password=ADMIN_PASSWORD,
                                 external_network="public", real_guests=False,
                                 services={"identity", "compute", "image", "network"})
            self._external_network()
        except BaseException:
            self.stop()
            raise

    def _external_network(self) -> None:
        conn = self.target.admin()
        if conn.compute.find_flavor("m1.tiny") is None:
            conn.compute.create_flavor(name="m1.tiny", ram=128, vcpus=1, disk=1)
        net = conn.network.create_network(name="public", is_router_external=True)
        conn.network.create_subnet(network_id=net.id, name="public-subnet", ip_version=4,
                                   cidr="172.24.4.0/24", enable_dhcp=False)

    def stop(self) -> None:
        if self.dashboard is not None:
            self.dashboard.stop()
        if self.compute is not None:
            self.compute.stop()


@pytest.fixture(scope="session")
def target(tmp_path_factory: Any) -> Iterator[Target]:
    home = os.environ.get("STRATUS_E2E_CLOUD")
    if home:
        yield _devstack_target(home)
        return
    identity = IdentityCloud(str(tmp_path_factory.mktemp("dash-identity")))
    try:
        scratch = _Scratch(str(tmp_path_factory.mktemp("dash-cloud")), identity)
        try:
            yield scratch.target
        finally:
            scratch.stop()
    finally:
        identity.daemon.stop()


@pytest.fixture(scope="module")
def artifacts(request: Any) -> str:
    """Where a test module keeps its screenshots and figures (kept after the run)."""
    path = os.path.join(ARTIFACTS, request.module.__name__.rsplit(".", 1)[-1])
    os.makedirs(path, exist_ok=True)
    return path


class WebUser:
    """A browser-less dashboard user (requests, with the CSRF token of each form)."""

    def __init__(self, url: str) -> None:
        import requests

        self.url = url
        self.http = requests.Session()

    def csrf(self, path: str) -> str:
        page = self.http.get(self.url + path, timeout=30)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert match, "no CSRF token on %s (%d)" % (path, page.status_code)
        return match.group(1)

    def login(self, user: str, password: str) -> Any:
        token = self.csrf("/auth/login/")
        resp = self.http.post(self.url + "/auth/login/", timeout=30,
                              data={"csrfmiddlewaretoken": token, "domain": "Default",
                                    "username": user, "password": password, "next": "/"},
                              headers={"Referer": self.url + "/auth/login/"})
        assert resp.status_code == 200, resp.text[-2000:]
        assert resp.url.endswith("/project/overview/"), resp.url
        return resp

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.http.get(self.url + path, timeout=60, allow_redirects=False, **kwargs)
