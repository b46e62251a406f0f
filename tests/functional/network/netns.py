"""What the functional network tests share (they run as root): the skip reason,
``ip`` and namespaces, the processes the agents start (found by pid file or by
their unique state directory, killed by pid only), the bridge agent's iptables
chains, "guest" namespaces with DHCP and ping, the agents' configurations, the
network API, and a stand-in compute metadata API.

Not a conftest: the test modules import it (``from tests.functional.network import
netns``).
"""
from __future__ import annotations

import contextlib
import http.server
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from network.agents.bridge import driver as bridge_driver
from network.agents.bridge import firewall as bridge_firewall
from tests.functional.network.guests import add_guest, busybox, dhcp, ip, ping, run, set_address
from tests.functional.conftest import Daemon, IdentityCloud, NetworkCloud, free_port

# Agent types as the server lists them (GET /v2.0/agents).
BRIDGE_AGENT, DHCP_AGENT = "Linux bridge agent", "DHCP agent"
L3_AGENT, METADATA_AGENT = "L3 agent", "Metadata agent"

# ---------------------------------------------------------------------------
# Skipping
# ---------------------------------------------------------------------------


def skip_unless(why: str, tools: tuple[str, ...], dhcp_client: bool = False) -> Any:
    """``pytestmark``: skip unless root and ``tools`` (and busybox's udhcpc) exist."""
    reason = None
    if os.geteuid() != 0:
        reason = "needs root (%s)" % why
    else:
        for tool in tools:
            if shutil.which(tool) is None:
                reason = "%s is not installed (apt-get install iproute2 iptables " \
                    "dnsmasq-base procps)" % tool
                break
        else:
            if dhcp_client and busybox() is None:
                reason = "busybox (its udhcpc is the guests' DHCP client) is not " \
                    "installed (apt-get install busybox)"
    return pytest.mark.skipif(reason is not None, reason=reason or "")


# ---------------------------------------------------------------------------
# Commands, links and namespaces
# ---------------------------------------------------------------------------


def link_exists(name: str) -> bool:
    return ip("link", "show", "dev", name, check=False).returncode == 0


def namespaces() -> list[str]:
    return [line.split()[0] for line in ip("netns", "list").stdout.splitlines() if line]


def bridge_ports(bridge: str) -> list[str]:
    """Names of the links enslaved to ``bridge`` (none when it does not exist)."""
    try:
        return sorted(os.listdir("/sys/class/net/%s/brif" % bridge))
    except FileNotFoundError:
        return []


def remove(netns: Sequence[str] = (), links: Sequence[str] = ()) -> None:
    """Delete those of ``netns`` and ``links`` that exist (the test's own, by name)."""
    present = namespaces()
    for ns in netns:
        if ns in present:
            ip("netns", "delete", ns, check=False)
    for link in links:
        if link_exists(link):
            ip("link", "delete", link, check=False)


def wait(what: str, cond: Callable[[], bool], cloud: NetworkCloud, timeout: float = 60.0,
         detail: Callable[[], object] | None = None) -> None:
    """Until ``cond()``; on timeout the failure shows ``detail()`` and the logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.5)
    raise AssertionError("timed out waiting for %s%s\n%s" % (
        what, ": %s" % (detail(),) if detail else "", cloud.logs()))


# ---------------------------------------------------------------------------
# Processes the agents start (dnsmasq, metadata proxies): by pid only
# ---------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    """Running, not a zombie (daemonised children may never be reaped)."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _cmdline(pid: int) -> bytes:
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read()
    except OSError:
        return b""


def process_pid(pid_file: str, marker: str) -> int | None:
    """The live process of ``pid_file`` if its command line names ``marker``."""
    try:
        with open(pid_file, encoding="ascii") as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return None
    return pid if marker.encode() in _cmdline(pid) and pid_alive(pid) else None


def dnsmasq_pid(pid_file: str) -> int | None:
    return process_pid(pid_file, "dnsmasq")


def processes(marker: str, directory: str) -> list[int]:
    """Live processes whose command line names ``marker`` and ``directory`` (a
    test's own unique state directory): found even when their pid file is gone."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            cmdline = _cmdline(int(entry))
            if marker.encode() in cmdline and directory.encode() in cmdline \
                    and pid_alive(int(entry)):
                found.append(int(entry))
    return sorted(found)


def proxy_pids(state: str) -> list[int]:
    """The metadata proxies an L3 agent with ``[l3] state_path = state`` runs."""
    return processes("network.agents.metadata.ns_proxy", state)


def kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


# ---------------------------------------------------------------------------
# The bridge agent's iptables chains
# ---------------------------------------------------------------------------


def _save(ipv6: bool) -> str:
    return run("ip6tables-save" if ipv6 else "iptables-save", "-t", "filter").stdout


def _restore(ipv6: bool, text: str) -> None:
    run("ip6tables-restore" if ipv6 else "iptables-restore", "-w", "--noflush",
        stdin=text, check=False)


def _declared(saved: str) -> set[str]:
    return {line[1:].split()[0] for line in saved.splitlines() if line.startswith(":")}


def chains(ipv6: bool = False) -> set[str]:
    return _declared(_save(ipv6))


def agent_chains(host: str) -> bridge_firewall.Chains:
    """The names of the iptables chains of the bridge agent on ``host``."""
    return bridge_firewall.Chains.for_host(host)


def port_chains(host: str, port_ids: list[str]) -> set[str]:
    """The chains of ``port_ids`` (ingress, egress, anti-spoofing) of ``host``'s agent."""
    names = agent_chains(host)
    return {names.port(kind, port_id) for kind in "ios" for port_id in port_ids}


def port_filters(host: str, port_ids: list[str], taps: list[str]) -> list[str]:
    """The chains of ``port_ids`` and the rules naming them or ``taps``, in either
    family (other agents' chains and rules are not looked at)."""
    mine = port_chains(host, port_ids)
    found = sorted(mine & (chains() | chains(True)))
    for ipv6 in (False, True):
        found += [line for line in _save(ipv6).splitlines() if line.startswith("-A ")
                  and line.split()[1] not in mine and set(line.split()) & (mine | set(taps))]
    return found


def remove_agent_filters(host: str) -> None:
    """Once ``host``'s bridge agent stopped: all its chains and its FORWARD jump (the
    agent leaves them, as Neutron's does), removed the way the agent would."""
    bridge_firewall.IptablesFirewall(bridge_driver.IpDriver(), agent_chains(host)).remove_all()


EXT_CIDR, EXT_GW = "203.0.113.0/24", "203.0.113.1"
EXT_POOL = {"start": "203.0.113.10", "end": "203.0.113.50"}


def _conf(host: str, groups: dict[str, dict[str, object]]) -> str:
    lines = ["host = %s" % host]
    for group, options in groups.items():
        lines.append("[%s]" % group)
        lines += ["%s = %s" % (k, str(v).lower() if isinstance(v, bool) else v)
                  for k, v in options.items()]
    return "\n".join(lines)


class Setup:
    """One test's cloud (identity and the network server as processes), the state
    directory of its agents (one ``host``; files as devstack/lib/network.sh writes
    them, with short intervals), and the names of what it made or made the agents
    make: removed by :func:`host_setup` once the agents stopped (a running agent would
    remake them)."""

    def __init__(self, state: str) -> None:
        self.suffix = uuid.uuid4().hex[:8]
        self.host = "net-test-" + self.suffix
        self.state = state
        self.dhcp_state = os.path.join(state, "dhcp")
        self.l3_state = os.path.join(state, "l3")
        self.socket = os.path.join(state, "metadata_proxy")
        self._cloud: NetworkCloud | None = None
        self.metadata: StandInMetadata | None = None
        self.ext_bridge = self.outside = self.out_veth = ""
        self.namespaces: list[str] = []
        self.links: list[str] = []
        self.guest_ports: list[str] = []
        self.guest_taps: list[str] = []

    @property
    def cloud(self) -> NetworkCloud:
        assert self._cloud is not None
        return self._cloud

    def network(self, net: dict[str, Any]) -> None:
        """The names the agents derive from network ``net``'s id (not its VNI: that of
        a network the test did not choose a VNI for is other clouds' too)."""
        self.namespaces.append("qdhcp-" + net["id"])
        self.links.append("brq" + net["id"][:11])

    def add_outside(self) -> None:
        """The external network's bridge, with an "outside" namespace on it holding
        the external subnet's gateway address ``EXT_GW``."""
        self.ext_bridge = "sx" + self.suffix
        self.outside, self.out_veth = "so-" + self.suffix, "so" + self.suffix
        self.namespaces.append(self.outside)
        self.links += [self.out_veth, self.ext_bridge]
        ip("link", "add", self.ext_bridge, "type", "bridge")
        ip("link", "set", self.ext_bridge, "up")
        add_guest(self.outside, self.out_veth, bridge=self.ext_bridge)
        set_address(self.outside, EXT_GW + "/24")

    def start_dhcp_agent(self, bridge_mode: str) -> Daemon:
        return self.cloud.start_agent("stratus-network-dhcp-agent", "dhcp-agent", _conf(
            self.host, {"dhcp": {"state_path": self.dhcp_state, "bridge_mode": bridge_mode,
                                 "resync_interval": 2},
                        "metadata": {"metadata_proxy_socket": self.socket},
                        "agent": {"report_interval": 2}}))

    def start_bridge_agent(self, bridge_mappings: str = "",
                           resync_interval: float = 10) -> Daemon:
        return self.cloud.start_agent("stratus-network-bridge-agent", "bridge-agent", _conf(
            self.host, {"linux_bridge": {"bridge_mappings": bridge_mappings},
                        "vxlan": {"enable_vxlan": True, "local_ip": "127.0.0.1"},
                        "securitygroup": {"enable_security_group": True,
                                          "firewall_driver": "iptables"},
                        "agent": {"report_interval": 2, "polling_interval": 0.5,
                                  "resync_interval": resync_interval}}))

    def start_metadata_agent(self, secret: str) -> Daemon:
        """The metadata agent, forwarding to a :class:`StandInMetadata` of the test."""
        self.metadata = StandInMetadata()
        return self.cloud.start_agent("stratus-network-metadata-agent", "metadata-agent",
                                      _conf(self.host, {"metadata": {
                                          "metadata_proxy_socket": self.socket,
                                          "nova_metadata_host": "127.0.0.1",
                                          "nova_metadata_port": self.metadata.port,
                                          "metadata_proxy_shared_secret": secret},
                                          "agent": {"report_interval": 2}}))

    def start_l3_agent(self, plug_into_bridge: bool, external_bridge: str = "") -> Daemon:
        return self.cloud.start_agent("stratus-network-l3-agent", "l3-agent", _conf(
            self.host, {"l3": {"state_path": self.l3_state,
                               "plug_into_bridge": plug_into_bridge,
                               "external_bridge": external_bridge, "resync_interval": 2,
                               "python_binary": sys.executable},
                        "metadata": {"metadata_proxy_socket": self.socket},
                        "agent": {"report_interval": 2}}))

    def wait_agents(self, *types: str) -> None:
        """Until an agent of each of ``types`` on this host is alive."""
        api = Api(self.cloud)
        wait("agents %s alive" % ", ".join(types), lambda: {
            a["agent_type"] for a in api.get("/agents")["agents"]
            if a["host"] == self.host and a["alive"]} >= set(types), self.cloud)

    def cleanup(self, bridge_agent: bool) -> None:
        """Once the agents stopped: their processes (by pid), then the names."""
        if self.metadata is not None:
            self.metadata.stop()
        kill(processes("dnsmasq", self.state) + proxy_pids(self.state))
        remove(self.namespaces, self.links)
        if bridge_agent:
            remove_agent_filters(self.host)


@contextlib.contextmanager
def host_setup(tmp_path: Any, bridge_agent: bool = False) -> Iterator[Setup]:
    """A :class:`Setup` with its cloud running; on exit everything is stopped and
    removed. ``bridge_agent``: the test runs one (its iptables chains go too)."""
    # Traversable by dnsmasq, which drops to "nobody" (tmp_path is 0700).
    made = Setup(tempfile.mkdtemp(prefix="stratus-net-"))
    os.chmod(made.state, 0o755)
    identity: IdentityCloud | None = None
    try:
        identity = IdentityCloud(str(tmp_path / "identity"))
        (tmp_path / "network").mkdir()
        made._cloud = NetworkCloud(str(tmp_path / "network"), identity)
        yield made
    finally:
        if made._cloud is not None:
            made._cloud.stop()
        if identity is not None:
            identity.daemon.stop()
        made.cleanup(bridge_agent)
        shutil.rmtree(made.state, ignore_errors=True)


# ---------------------------------------------------------------------------
# The network API
# ---------------------------------------------------------------------------


class Api:
    """The network API as the admin of the test cloud; each call asserts its status."""

    def __init__(self, cloud: NetworkCloud) -> None:
        self.cloud = cloud
        self.sess = cloud.session()
        self.url = cloud.url + "/v2.0"

    def post(self, path: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.sess.post(self.url + path, json={kind: body}, raise_exc=False)
        assert resp.status_code == 201, resp.text
        return dict(resp.json()[kind])

    def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.sess.put(self.url + path, json=body, raise_exc=False)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def get(self, path: str) -> dict[str, Any]:
        resp = self.sess.get(self.url + path, raise_exc=False)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def delete(self, path: str) -> None:
        resp = self.sess.delete(self.url + path, raise_exc=False)
        assert resp.status_code == 204, resp.text

    def status(self, kind: str, obj_id: str) -> str:
        return str(self.get("/%ss/%s" % (kind, obj_id))[kind]["status"])


def random_cidr(taken: tuple[str, ...] = ()) -> str:
    """A /24 in 10.100-250.x.0 not in ``taken``."""
    while True:
        cidr = "10.%d.%d.0/24" % (random.randint(100, 250), random.randint(0, 255))
        if cidr not in taken:
            return cidr


def vxlan_network(api: Api, env: Setup, name: str,
                  cidr: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A VXLAN network with a DHCP subnet ``cidr``, recorded in ``env``: (network,
    subnet). Its VNI is random and far above ``vni_ranges``: the VNIs a cloud
    allocates itself (1, 2…) are those of any other cloud on this host (devstack's),
    whose ``vxlan-<vni>`` a bridge agent would take as its own."""
    vni = random.randint(100000, 16000000)
    net = api.post("/networks", "network", {
        "name": name, "provider:network_type": "vxlan", "provider:segmentation_id": vni})
    env.network(net)
    env.links.append("vxlan-%d" % vni)
    sub = api.post("/subnets", "subnet", {"network_id": net["id"], "ip_version": 4,
                                          "cidr": cidr, "enable_dhcp": True})
    return net, sub


def wait_ports_active(api: Api, ports: list[dict[str, Any]]) -> None:
    wait("ports %s ACTIVE" % ", ".join(p["id"] for p in ports), lambda: all(
        api.status("port", p["id"]) == "ACTIVE" for p in ports), api.cloud)


def lease(ns: str, port: dict[str, Any], cloud: NetworkCloud) -> str:
    """DHCP in guest ``ns``, which must get ``port``'s (first) fixed IP: that IP."""
    fixed_ip = str(port["fixed_ips"][0]["ip_address"])
    output = dhcp(ns)
    assert "lease of %s obtained" % fixed_ip in output, output + cloud.logs()
    return fixed_ip


def block_then_allow_icmp(api: Api, port_id: str, src: str, dst_ip: str,
                          name: str) -> str:
    """Security groups at work: port ``port_id`` (address ``dst_ip``) moved to a new
    group without rules stops answering pings from namespace ``src``; an ICMP
    ingress rule in the group lets it answer again. :returns: the group's id."""
    sg = api.post("/security-groups", "security_group", {"name": name})
    api.put("/ports/" + port_id, {"port": {"security_groups": [sg["id"]]}})
    wait("ICMP to %s blocked by its new group" % dst_ip, lambda: not ping(src, dst_ip),
         api.cloud, timeout=30)
    api.post("/security-group-rules", "security_group_rule", {
        "security_group_id": sg["id"], "direction": "ingress", "ethertype": "IPv4",
        "protocol": "icmp"})
    wait("ICMP to %s allowed by the new rule" % dst_ip, lambda: ping(src, dst_ip),
         api.cloud, timeout=30)
    return str(sg["id"])


def external_network(api: Api, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The flat external network on physical network ``public`` with its subnet
    ``EXT_CIDR`` (gateway ``EXT_GW``, the outside's address; no DHCP)."""
    net = api.post("/networks", "network", {
        "name": name, "router:external": True, "provider:network_type": "flat",
        "provider:physical_network": "public"})
    sub = api.post("/subnets", "subnet", {
        "network_id": net["id"], "ip_version": 4, "cidr": EXT_CIDR, "gateway_ip": EXT_GW,
        "enable_dhcp": False, "allocation_pools": [EXT_POOL]})
    return net, sub


# ---------------------------------------------------------------------------
# A stand-in compute metadata API
# ---------------------------------------------------------------------------


class StandInMetadata:
    """Plays the compute metadata API: records each request's headers, answers
    with the X-Instance-ID it was given."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append(dict(self.headers.items(), path=self.path))
                body = (self.headers.get("X-Instance-ID") or "").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
