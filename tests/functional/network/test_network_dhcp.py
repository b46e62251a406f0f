"""The DHCP agent end to end, as root: identity, the network server and the DHCP
agent as processes over a RabbitMQ vhost; a "guest" namespace plugged into the
network's bridge gets its port's fixed IP from the agent's dnsmasq, and deleting
the network removes the namespace, dnsmasq and bridge. Everything the test
creates is removed even on failure (processes killed by pid only)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.functional.conftest import IdentityCloud, NetworkCloud


def _dhcp_client() -> list[str] | None:
    if shutil.which("udhcpc"):
        return [str(shutil.which("udhcpc"))]
    if shutil.which("busybox"):
        return [str(shutil.which("busybox")), "udhcpc"]
    return None


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces, bridges, dnsmasq)"
    for tool in ("ip", "dnsmasq"):
        if shutil.which(tool) is None:
            return "%s is not installed (apt-get install iproute2 dnsmasq-base)" % tool
    if _dhcp_client() is None:
        return "no DHCP client: udhcpc or busybox (apt-get install busybox)"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check,
                          timeout=30)


def _link_exists(name: str) -> bool:
    return _ip("link", "show", "dev", name, check=False).returncode == 0


def _namespaces() -> list[str]:
    return [line.split()[0] for line in _ip("netns", "list").stdout.splitlines() if line]


def _wait(what: str, cond: Callable[[], bool], cloud: NetworkCloud,
          timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.5)
    raise AssertionError("timed out waiting for %s\n%s" % (what, cloud.logs()))


def _dnsmasq_pid(pid_file: str) -> int | None:
    try:
        with open(pid_file, encoding="ascii") as f:
            pid = int(f.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            if b"dnsmasq" not in f.read():
                return None
        with open("/proc/%d/stat" % pid, encoding="ascii") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return None
    except (OSError, ValueError, IndexError):
        return None
    return pid


@pytest.fixture
def cloud(tmp_path: Any) -> Iterator[tuple[NetworkCloud, str]]:
    identity = IdentityCloud(str(tmp_path / "identity"))
    network: NetworkCloud | None = None
    # dnsmasq drops to "nobody": its state directory's parents must be traversable,
    # which pytest's tmp_path (0700) is not.
    dhcp_state = tempfile.mkdtemp(prefix="stratus-dhcp-")
    os.chmod(dhcp_state, 0o755)
    try:
        (tmp_path / "network").mkdir()
        network = NetworkCloud(str(tmp_path / "network"), identity)
        host = "dhcp-test-%s" % uuid.uuid4().hex[:8]
        network.start_agent("stratus-network-dhcp-agent", "dhcp-agent", "\n".join([
            "host = %s" % host, "[dhcp]", "state_path = %s" % dhcp_state,
            "resync_interval = 2", "[agent]", "report_interval = 2"]))
        yield network, dhcp_state
    finally:
        if network is not None:
            network.stop()
        identity.daemon.stop()
        # dnsmasq of networks the agent did not get to remove: by pid file only.
        for name in os.listdir(dhcp_state):
            pid = _dnsmasq_pid(os.path.join(dhcp_state, name, "pid"))
            if pid is not None:
                os.kill(pid, signal.SIGTERM)
        shutil.rmtree(dhcp_state, ignore_errors=True)


def test_guest_gets_its_fixed_ip_and_network_delete_cleans_up(
        cloud: tuple[NetworkCloud, str]) -> None:
    network, dhcp_state = cloud
    sess = network.session()
    api = network.url + "/v2.0"
    suffix = uuid.uuid4().hex[:8]
    guest_ns, guest_veth = "sdhcpg-" + suffix, "sdg" + suffix
    net_id = ""
    try:
        net = sess.post(api + "/networks", json={"network": {"name": "dhcp-" + suffix}})
        assert net.status_code == 201, net.text
        net_id = net.json()["network"]["id"]
        sub = sess.post(api + "/subnets", json={"subnet": {
            "network_id": net_id, "ip_version": 4, "cidr": "10.77.0.0/24",
            "enable_dhcp": True, "dns_nameservers": ["10.77.0.53"]}})
        assert sub.status_code == 201, sub.text
        port = sess.post(api + "/ports", json={"port": {"network_id": net_id}})
        assert port.status_code == 201, port.text
        mac = port.json()["port"]["mac_address"]
        fixed_ip = port.json()["port"]["fixed_ips"][0]["ip_address"]
        ns, bridge = "qdhcp-" + net_id, "brq" + net_id[:11]
        pid_file = os.path.join(dhcp_state, net_id, "pid")
        hosts_file = os.path.join(dhcp_state, net_id, "host")

        def served() -> bool:
            if not (ns in _namespaces() and _link_exists(bridge)
                    and _dnsmasq_pid(pid_file) is not None):
                return False
            with open(hosts_file, encoding="utf-8") as f:
                return mac in f.read()
        _wait("the DHCP namespace, bridge and dnsmasq", served, network)

        _ip("netns", "add", guest_ns)
        _ip("link", "add", guest_veth, "type", "veth", "peer", "name", "eth0",
            "netns", guest_ns)
        _ip("link", "set", guest_veth, "master", bridge)
        _ip("link", "set", guest_veth, "up")
        _ip("-n", guest_ns, "link", "set", "eth0", "address", mac)
        _ip("-n", guest_ns, "link", "set", "eth0", "up")
        client = _dhcp_client()
        assert client is not None
        got = subprocess.run(["ip", "netns", "exec", guest_ns, *client, "-i", "eth0",
                              "-n", "-q", "-f", "-t", "6", "-T", "2", "-s", "/bin/true"],
                             capture_output=True, text=True, timeout=60)
        output = got.stdout + got.stderr
        assert "lease of %s obtained" % fixed_ip in output, output + network.logs()

        agents = sess.get(api + "/agents", params={"agent_type": "DHCP agent"}).json()
        assert any(a["alive"] for a in agents["agents"]), agents

        assert sess.delete(api + "/ports/" + port.json()["port"]["id"]).status_code == 204
        assert sess.delete(api + "/networks/" + net_id).status_code == 204
        _wait("the DHCP namespace, bridge and dnsmasq to go",
              lambda: ns not in _namespaces() and not _link_exists(bridge)
              and _dnsmasq_pid(pid_file) is None, network)
        assert not os.path.exists(os.path.join(dhcp_state, net_id))
    finally:
        if guest_ns in _namespaces():
            _ip("netns", "delete", guest_ns, check=False)
        if _link_exists(guest_veth):
            _ip("link", "delete", guest_veth, check=False)
        if net_id:
            pid = _dnsmasq_pid(os.path.join(dhcp_state, net_id, "pid"))
            if pid is not None:
                os.kill(pid, signal.SIGTERM)
            if "qdhcp-" + net_id in _namespaces():
                _ip("netns", "delete", "qdhcp-" + net_id, check=False)
            if _link_exists("brq" + net_id[:11]):
                _ip("link", "delete", "brq" + net_id[:11], check=False)
