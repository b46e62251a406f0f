"""The bridge agent end to end, as root: identity, the network server, the DHCP
agent (``bridge_mode = none``) and the bridge agent as processes over a RabbitMQ
vhost. Two "guest" namespaces, each attached by a veth whose main-namespace end is
its port's ``tap<port id[:11]>``, are plugged by the bridge agent into the VXLAN
network's bridge, get their addresses from dnsmasq and ping each other; security
groups then block and allow ICMP through iptables; deleting everything removes the
bridge, the VXLAN device, the chains and the namespaces. Everything the test
creates is removed even on failure (processes killed by pid only)."""
from __future__ import annotations

import os
import random
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

TOOLS = ("ip", "bridge", "dnsmasq", "iptables-save", "iptables-restore",
         "ip6tables-save", "ip6tables-restore")


def _busybox() -> str | None:
    return shutil.which("busybox")


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (namespaces, bridges, VXLAN, iptables, dnsmasq)"
    for tool in TOOLS:
        if shutil.which(tool) is None:
            return "%s is not installed (apt-get install iproute2 iptables dnsmasq-base)" \
                % tool
    if _busybox() is None:
        return "busybox (udhcpc, ping) is not installed (apt-get install busybox)"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check,
                          timeout=60)


def _link_exists(name: str) -> bool:
    return _run("ip", "link", "show", "dev", name, check=False).returncode == 0


def _namespaces() -> list[str]:
    return [line.split()[0] for line in _run("ip", "netns", "list").stdout.splitlines()
            if line]


def _chains(ipv6: bool = False) -> set[str]:
    saved = _run("ip6tables-save" if ipv6 else "iptables-save", "-t", "filter").stdout
    return {line[1:].split()[0] for line in saved.splitlines() if line.startswith(":")}


def _wait(what: str, cond: Callable[[], bool], cloud: NetworkCloud,
          timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.5)
    raise AssertionError("timed out waiting for %s\n%s" % (what, cloud.logs()))


def _ping(ns: str, ip: str) -> bool:
    busybox = _busybox()
    assert busybox is not None
    return _run("ip", "netns", "exec", ns, busybox, "ping", "-c", "1", "-W", "1", ip,
                check=False).returncode == 0


def _dnsmasq_pid(pid_file: str) -> int | None:
    try:
        with open(pid_file, encoding="ascii") as f:
            pid = int(f.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            if b"dnsmasq" not in f.read():
                return None
    except (OSError, ValueError):
        return None
    return pid


def _remove_chains(names: set[str]) -> None:
    """Flush and delete ``names`` (both families) where they exist."""
    for ipv6 in (False, True):
        present = sorted(names & _chains(ipv6))
        if not present:
            continue
        text = "*filter\n" + "".join(":%s - [0:0]\n" % c for c in present) + \
            "".join("-X %s\n" % c for c in present) + "COMMIT\n"
        subprocess.run(["ip6tables-restore" if ipv6 else "iptables-restore", "--noflush"],
                       input=text, text=True, capture_output=True, timeout=60)


def _remove_idle_top_chains() -> None:
    """The agent's top chains and FORWARD jump, once they filter no device (another
    agent's, still in use, are left alone)."""
    for ipv6 in (False, True):
        saved = _run("ip6tables-save" if ipv6 else "iptables-save", "-t", "filter").stdout
        if "--physdev" in saved or ":stratus-FORWARD" not in saved:
            continue
        text = "*filter\n:stratus-FORWARD - [0:0]\n:stratus-sg - [0:0]\n"
        if "-A FORWARD -j stratus-FORWARD" in saved:
            text += "-D FORWARD -j stratus-FORWARD\n"
        text += "-X stratus-FORWARD\n-X stratus-sg\nCOMMIT\n"
        subprocess.run(["ip6tables-restore" if ipv6 else "iptables-restore", "--noflush"],
                       input=text, text=True, capture_output=True, timeout=60)


@pytest.fixture
def cloud(tmp_path: Any) -> Iterator[tuple[NetworkCloud, str, str]]:
    identity = IdentityCloud(str(tmp_path / "identity"))
    network: NetworkCloud | None = None
    # dnsmasq drops to "nobody": its state directory's parents must be traversable.
    dhcp_state = tempfile.mkdtemp(prefix="stratus-dhcp-")
    os.chmod(dhcp_state, 0o755)
    host = "bridge-test-%s" % uuid.uuid4().hex[:8]
    try:
        (tmp_path / "network").mkdir()
        network = NetworkCloud(str(tmp_path / "network"), identity)
        network.start_agent("stratus-network-dhcp-agent", "dhcp-agent", "\n".join([
            "host = %s" % host, "[dhcp]", "state_path = %s" % dhcp_state,
            "bridge_mode = none", "resync_interval = 2", "[agent]",
            "report_interval = 2"]))
        network.start_agent("stratus-network-bridge-agent", "bridge-agent", "\n".join([
            "host = %s" % host, "[vxlan]", "enable_vxlan = true", "local_ip = 127.0.0.1",
            "[agent]", "report_interval = 2", "polling_interval = 0.5",
            "resync_interval = 10", "[securitygroup]", "firewall_driver = iptables"]))
        yield network, dhcp_state, host
    finally:
        if network is not None:
            network.stop()
        identity.daemon.stop()
        for name in os.listdir(dhcp_state):
            pid = _dnsmasq_pid(os.path.join(dhcp_state, name, "pid"))
            if pid is not None:
                os.kill(pid, signal.SIGTERM)
        shutil.rmtree(dhcp_state, ignore_errors=True)
        _remove_idle_top_chains()


def _guest(ns: str, tap: str, mac: str, mtu: int) -> None:
    _run("ip", "netns", "add", ns)
    _run("ip", "link", "add", tap, "type", "veth", "peer", "name", "eth0", "netns", ns)
    _run("ip", "-n", ns, "link", "set", "eth0", "address", mac, "mtu", str(mtu))
    _run("ip", "-n", ns, "link", "set", "eth0", "up")
    _run("ip", "-n", ns, "link", "set", "lo", "up")


def _dhcp(ns: str) -> str:
    busybox = _busybox()
    assert busybox is not None
    # The default script configures the lease's address on eth0.
    script = os.path.join(tempfile.mkdtemp(prefix="stratus-udhcpc-"), "script")
    with open(script, "w", encoding="ascii") as f:
        f.write("#!/bin/sh\n[ \"$1\" = bound ] || [ \"$1\" = renew ] || exit 0\n"
                "ip addr flush dev \"$interface\"\n"
                "ip addr add \"$ip/${mask:-24}\" dev \"$interface\"\n")
    os.chmod(script, 0o755)
    try:
        got = _run("ip", "netns", "exec", ns, busybox, "udhcpc", "-i", "eth0", "-n", "-q",
                   "-f", "-t", "8", "-T", "2", "-s", script, check=False)
    finally:
        shutil.rmtree(os.path.dirname(script), ignore_errors=True)
    return got.stdout + got.stderr


def _cleanup(guests: list[str], taps: list[str], net_id: str, vni: int,
             port_ids: list[str], dhcp_state: str) -> None:
    """Whatever the test (or the agents, had they failed) left behind."""
    for ns in guests:
        if ns in _namespaces():
            _run("ip", "netns", "delete", ns, check=False)
    for tap in taps:
        if _link_exists(tap):
            _run("ip", "link", "delete", tap, check=False)
    if net_id:
        pid = _dnsmasq_pid(os.path.join(dhcp_state, net_id, "pid"))
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
        if "qdhcp-" + net_id in _namespaces():
            _run("ip", "netns", "delete", "qdhcp-" + net_id, check=False)
        for link in ("brq" + net_id[:11], "vxlan-%d" % vni):
            if _link_exists(link):
                _run("ip", "link", "delete", link, check=False)
    _remove_chains({"strat-%s%s" % (k, p[:10]) for k in "ios" for p in port_ids})


def _network(sess: Any, api: str, suffix: str, vni: int) -> tuple[str, int]:
    """A VXLAN network (VNI ``vni``) with a DHCP subnet: its id and MTU."""
    net = sess.post(api + "/networks", json={"network": {
        "name": "bridge-" + suffix, "provider:network_type": "vxlan",
        "provider:segmentation_id": vni}})
    assert net.status_code == 201, net.text
    net_id = net.json()["network"]["id"]
    cidr = "10.%d.%d.0/24" % (random.randint(100, 250), random.randint(0, 255))
    sub = sess.post(api + "/subnets", json={"subnet": {
        "network_id": net_id, "ip_version": 4, "cidr": cidr, "enable_dhcp": True}})
    assert sub.status_code == 201, sub.text
    return net_id, int(net.json()["network"]["mtu"])


def test_guests_get_addresses_ping_and_security_groups_filter(
        cloud: tuple[NetworkCloud, str, str]) -> None:
    network, dhcp_state, host = cloud
    sess = network.session()
    api = network.url + "/v2.0"
    suffix = uuid.uuid4().hex[:8]
    vni = random.randint(100000, 16000000)
    guests = ["sbrga-" + suffix, "sbrgb-" + suffix]
    net_id, taps, port_ids, sg_id = "", [], [], ""
    try:
        net_id, mtu = _network(sess, api, suffix, vni)
        ports = []
        for _ in guests:
            port = sess.post(api + "/ports", json={"port": {
                "network_id": net_id, "binding:host_id": host}})
            assert port.status_code == 201, port.text
            ports.append(port.json()["port"])
            port_ids.append(port.json()["port"]["id"])
        bridge, vxlan = "brq" + net_id[:11], "vxlan-%d" % vni

        def dhcp_plugged() -> bool:
            ns = "qdhcp-" + net_id
            if ns not in _namespaces() or not _link_exists(bridge):
                return False
            found = _run("ip", "-o", "link", "show", "master", bridge, check=False).stdout
            return " tap" in found and vxlan in found
        _wait("the DHCP port plugged into the bridge with its VXLAN uplink",
              dhcp_plugged, network)

        ips = []
        for ns, port in zip(guests, ports, strict=True):
            tap = "tap" + port["id"][:11]
            taps.append(tap)
            _guest(ns, tap, port["mac_address"], mtu)
            ips.append(port["fixed_ips"][0]["ip_address"])

        def active() -> bool:
            return all(sess.get(api + "/ports/" + p).json()["port"]["status"] == "ACTIVE"
                       for p in port_ids)
        _wait("both ports ACTIVE", active, network)
        for ns, ip in zip(guests, ips, strict=True):
            output = _dhcp(ns)
            assert "lease of %s obtained" % ip in output, output + network.logs()

        _wait("guest A pinging guest B (default group)", lambda: _ping(guests[0], ips[1]),
              network, timeout=30)
        assert _ping(guests[1], ips[0])
        chains = _chains()
        for port_id in port_ids:
            assert {"strat-i" + port_id[:10], "strat-o" + port_id[:10],
                    "strat-s" + port_id[:10]} <= chains

        sg = sess.post(api + "/security-groups", json={"security_group": {
            "name": "bridge-" + suffix}})
        assert sg.status_code == 201, sg.text
        sg_id = sg.json()["security_group"]["id"]
        moved = sess.put(api + "/ports/" + port_ids[1], json={"port": {
            "security_groups": [sg_id]}})
        assert moved.status_code == 200, moved.text
        _wait("ICMP to guest B blocked by its new group", lambda: not _ping(guests[0], ips[1]),
              network, timeout=30)

        rule = sess.post(api + "/security-group-rules", json={"security_group_rule": {
            "security_group_id": sg_id, "direction": "ingress", "ethertype": "IPv4",
            "protocol": "icmp"}})
        assert rule.status_code == 201, rule.text
        _wait("ICMP to guest B allowed by the new rule", lambda: _ping(guests[0], ips[1]),
              network, timeout=30)

        agents = sess.get(api + "/agents", params={"agent_type": "Linux bridge agent"}).json()
        mine = [a for a in agents["agents"] if a["host"] == host]
        assert mine and mine[0]["alive"], agents
        assert mine[0]["configurations"]["tunneling_ip"] == "127.0.0.1"

        # Delete everything: guests, ports, group, network.
        for ns in guests:
            _run("ip", "netns", "delete", ns)
        for port_id in port_ids:
            assert sess.delete(api + "/ports/" + port_id).status_code == 204
        assert sess.delete(api + "/security-groups/" + sg_id).status_code == 204
        assert sess.delete(api + "/networks/" + net_id).status_code == 204

        def all_gone() -> bool:
            chains = _chains()
            return not _link_exists(bridge) and not _link_exists(vxlan) \
                and "qdhcp-" + net_id not in _namespaces() \
                and not any(c.endswith(p[:10]) for c in chains for p in port_ids)
        _wait("the bridge, VXLAN device, chains and namespaces to go", all_gone, network)
        assert not set(guests) & set(_namespaces())
    finally:
        _cleanup(guests, taps, net_id, vni, port_ids, dhcp_state)
