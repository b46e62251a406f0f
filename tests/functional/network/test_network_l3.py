"""The L3 and metadata agents end to end, as root: identity, the network server,
the L3 agent (``plug_into_bridge = true``) and the metadata agent as processes
over a RabbitMQ vhost.

An external flat network (physnet ``public``) lives on a test bridge with an
"outside" namespace on it (the external subnet's gateway); two internal networks
hang off one router with its gateway there; "guest" namespaces carry their
ports' fixed IPs statically. Checked: guest A reaches guest B through the router;
the outside reaches guest A by its floating IP; traffic leaving is SNATed (the
outside sees the gateway IP from guest B, the floating IP from guest A); guest
A's metadata request reaches a stand-in compute metadata API (an HTTP server in
this process) with the right X-Instance-ID and signature; deleting everything
removes the router namespace, its metadata proxy and its tap devices.
Everything the test creates is removed even on failure (processes by pid only).
"""
from __future__ import annotations

import hashlib
import hmac
import http.server
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.functional.conftest import IdentityCloud, NetworkCloud, free_port

SECRET = "l3-test-secret"
EXT_CIDR, EXT_GW = "203.0.113.0/24", "203.0.113.1"


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces, bridges, iptables)"
    for tool in ("ip", "iptables-restore", "sysctl"):
        if shutil.which(tool) is None:
            return "%s is not installed (apt-get install iproute2 iptables procps)" % tool
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check,
                          timeout=30)


def _in_ns(ns: str, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True,
                          text=True, timeout=timeout)


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


def _pid_alive(pid: int) -> bool:
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _proxy_pids(state: str) -> list[int]:
    """Metadata proxies the agent left under ``state`` (checked by cmdline)."""
    pids = []
    for name in os.listdir(state) if os.path.isdir(state) else []:
        pid_file = os.path.join(state, name, "metadata_proxy.pid")
        try:
            with open(pid_file, encoding="ascii") as f:
                pid = int(f.read().strip())
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if b"ns_proxy" in f.read() and _pid_alive(pid):
                    pids.append(pid)
        except (OSError, ValueError):
            continue
    return pids


class StandInMetadata:
    """Plays the compute metadata API: records each request's headers, answers
    ``instance-id`` with the X-Instance-ID it was given."""

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


class Env:
    def __init__(self, cloud: NetworkCloud, state: str, ext_bridge: str,
                 outside: str, metadata: StandInMetadata) -> None:
        self.cloud, self.state, self.ext_bridge = cloud, state, ext_bridge
        self.outside, self.metadata = outside, metadata
        # Links the test makes (or makes the agent make) in the main namespace:
        # removed after the agents stopped (a running agent would remake bridges).
        self.links: list[str] = []
        self.namespaces: list[str] = []


@pytest.fixture
def env(tmp_path: Any) -> Iterator[Env]:
    suffix = uuid.uuid4().hex[:8]
    ext_bridge, outside, out_veth = "sbx" + suffix, "sl3o-" + suffix, "slo" + suffix
    identity = IdentityCloud(str(tmp_path / "identity"))
    network: NetworkCloud | None = None
    metadata = StandInMetadata()
    state = tempfile.mkdtemp(prefix="stratus-l3-")
    made: Env | None = None
    try:
        _ip("link", "add", ext_bridge, "type", "bridge")
        _ip("link", "set", ext_bridge, "up")
        _ip("netns", "add", outside)
        _ip("link", "add", out_veth, "type", "veth", "peer", "name", "eth0", "netns", outside)
        _ip("link", "set", out_veth, "master", ext_bridge)
        _ip("link", "set", out_veth, "up")
        _ip("-n", outside, "addr", "add", EXT_GW + "/24", "dev", "eth0")
        _ip("-n", outside, "link", "set", "eth0", "up")
        _ip("-n", outside, "link", "set", "lo", "up")
        (tmp_path / "network").mkdir()
        network = NetworkCloud(str(tmp_path / "network"), identity)
        host = "l3-test-%s" % suffix
        socket_path = os.path.join(state, "metadata_proxy")
        network.start_agent("stratus-network-metadata-agent", "metadata-agent", "\n".join([
            "host = %s" % host, "[metadata]", "metadata_proxy_socket = %s" % socket_path,
            "nova_metadata_host = 127.0.0.1", "nova_metadata_port = %d" % metadata.port,
            "metadata_proxy_shared_secret = %s" % SECRET,
            "[agent]", "report_interval = 2"]))
        network.start_agent("stratus-network-l3-agent", "l3-agent", "\n".join([
            "host = %s" % host, "[l3]", "state_path = %s" % os.path.join(state, "l3"),
            "plug_into_bridge = true", "external_bridge = %s" % ext_bridge,
            "resync_interval = 2", "python_binary = %s" % sys.executable,
            "[metadata]", "metadata_proxy_socket = %s" % socket_path,
            "[agent]", "report_interval = 2"]))
        made = Env(network, state, ext_bridge, outside, metadata)
        yield made
    finally:
        if network is not None:
            network.stop()
        identity.daemon.stop()
        metadata.stop()
        for pid in _proxy_pids(os.path.join(state, "l3")):
            os.kill(pid, signal.SIGTERM)
        for ns in [outside] + (made.namespaces if made is not None else []):
            if ns in _namespaces():
                _ip("netns", "delete", ns, check=False)
        for link in [out_veth, ext_bridge] + (made.links if made is not None else []):
            if _link_exists(link):
                _ip("link", "delete", link, check=False)
        shutil.rmtree(state, ignore_errors=True)


class Api:
    def __init__(self, cloud: NetworkCloud) -> None:
        self.sess = cloud.session()
        self.url = cloud.url + "/v2.0"

    def post(self, path: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.sess.post(self.url + path, json={kind: body})
        assert resp.status_code == 201, resp.text
        return dict(resp.json()[kind])

    def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.sess.put(self.url + path, json=body)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def get(self, path: str) -> dict[str, Any]:
        resp = self.sess.get(self.url + path)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def delete(self, path: str) -> None:
        resp = self.sess.delete(self.url + path)
        assert resp.status_code == 204, resp.text


def _guest(ns: str, veth: str, port: dict[str, Any], prefixlen: int, gateway: str,
           bridge: str) -> None:
    _ip("netns", "add", ns)
    _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
    _ip("link", "set", veth, "master", bridge)
    _ip("link", "set", veth, "up")
    _ip("-n", ns, "link", "set", "eth0", "address", port["mac_address"], "mtu", "1400")
    _ip("-n", ns, "addr", "add", "%s/%d" % (port["fixed_ips"][0]["ip_address"], prefixlen),
        "dev", "eth0")
    _ip("-n", ns, "link", "set", "eth0", "up")
    _ip("-n", ns, "link", "set", "lo", "up")
    _ip("-n", ns, "route", "add", "default", "via", gateway)


PING = """
import os, socket, struct, sys, time
def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xffff)
    return ~(total + (total >> 16)) & 0xffff
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
sock.settimeout(1)
ident = os.getpid() & 0xffff
for seq in range(int(sys.argv[2])):
    payload = b"stratus-l3-test"
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    packet = struct.pack("!BBHHH", 8, 0, checksum(header + payload + b"\\0"), ident, seq)
    sock.sendto(packet + payload, (sys.argv[1], 0))
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        try:
            data, peer = sock.recvfrom(2048)
        except socket.timeout:
            break
        icmp = data[(data[0] & 0x0f) * 4:]
        if icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident:
            sys.exit(0)
sys.exit(1)
"""


def _ping(ns: str, address: str, attempts: int = 10) -> bool:
    """ICMP echo from namespace ``ns`` (a raw socket: no ping binary needed)."""
    return _in_ns(ns, sys.executable, "-c", PING, address, str(attempts)).returncode == 0


TCP_SERVER = """
import socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", int(sys.argv[1])))
srv.listen(4)
srv.settimeout(20)
print("ready", flush=True)
for _ in range(int(sys.argv[2])):
    conn, peer = srv.accept()
    print(peer[0], flush=True)
    conn.close()
"""

TCP_CLIENT = """
import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10).close()
"""

HTTP_GET = """
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=15).read().decode())
"""


def _sources_seen_outside(env: Env, clients: list[str]) -> list[str]:
    """Each client namespace connects out to the outside namespace; the sources seen."""
    server = subprocess.Popen(["ip", "netns", "exec", env.outside, sys.executable, "-c",
                               TCP_SERVER, "8099", str(len(clients))],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "ready"
        for ns in clients:
            done = _in_ns(ns, sys.executable, "-c", TCP_CLIENT, EXT_GW, "8099")
            assert done.returncode == 0, done.stderr + env.cloud.logs()
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            os.kill(server.pid, signal.SIGKILL)
            server.wait()
    return out.split()


def test_router_routes_nats_floats_and_serves_metadata(env: Env) -> None:
    cloud = env.cloud
    api = Api(cloud)
    suffix = uuid.uuid4().hex[:8]
    guest_a, guest_b = "sl3a-" + suffix, "sl3b-" + suffix
    veth_a, veth_b = "sga" + suffix, "sgb" + suffix
    env.links.extend([veth_a, veth_b])
    env.namespaces.extend([guest_a, guest_b])
    try:
        ext = api.post("/networks", "network", {
            "name": "ext-" + suffix, "router:external": True,
            "provider:network_type": "flat", "provider:physical_network": "public"})
        api.post("/subnets", "subnet", {
            "network_id": ext["id"], "ip_version": 4, "cidr": EXT_CIDR, "gateway_ip": EXT_GW,
            "enable_dhcp": False,
            "allocation_pools": [{"start": "203.0.113.10", "end": "203.0.113.50"}]})
        nets, subs = [], []
        for i, cidr in enumerate(("10.81.1.0/24", "10.81.2.0/24")):
            net = api.post("/networks", "network", {"name": "int%d-%s" % (i, suffix)})
            nets.append(net["id"])
            env.links.append("brq" + net["id"][:11])
            subs.append(api.post("/subnets", "subnet", {
                "network_id": net["id"], "ip_version": 4, "cidr": cidr,
                "enable_dhcp": False})["id"])
        router = api.post("/routers", "router", {
            "name": "r-" + suffix, "external_gateway_info": {"network_id": ext["id"]}})
        router_id = router["id"]
        env.namespaces.append("qrouter-" + router_id)
        gw_ip = router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
        for sub in subs:
            api.put("/routers/%s/add_router_interface" % router_id, {"subnet_id": sub})
        instance_a, instance_b = str(uuid.uuid4()), str(uuid.uuid4())
        port_a = api.post("/ports", "port", {"network_id": nets[0], "device_id": instance_a,
                                             "device_owner": "compute:nova"})
        port_b = api.post("/ports", "port", {"network_id": nets[1], "device_id": instance_b,
                                             "device_owner": "compute:nova"})
        fip = api.post("/floatingips", "floatingip", {"floating_network_id": ext["id"],
                                                     "port_id": port_a["id"]})
        fip_ip = fip["floating_ip_address"]

        ns = "qrouter-" + router_id
        router_ports = [p for p in api.get("/ports?device_id=" + router_id)["ports"]]
        taps = ["tap" + p["id"][:11] for p in router_ports]
        assert len(taps) == 3

        def wired() -> bool:
            if ns not in _namespaces() or not all(_link_exists(t) for t in taps):
                return False
            addrs = _ip("-n", ns, "addr", "show").stdout
            return fip_ip + "/32" in addrs and _proxy_pids(os.path.join(env.state, "l3")) != []
        _wait("the router namespace, its interfaces, floating IP and proxy", wired, cloud)
        for p in api.get("/ports?device_id=" + router_id)["ports"]:
            assert p["binding:host_id"].startswith("l3-test-"), p
            assert p["binding:vif_type"] == "bridge", p

        _guest(guest_a, veth_a, port_a, 24, "10.81.1.1", "brq" + nets[0][:11])
        _guest(guest_b, veth_b, port_b, 24, "10.81.2.1", "brq" + nets[1][:11])

        # East-west through the router, no NAT between internal subnets.
        assert _ping(guest_a, port_b["fixed_ips"][0]["ip_address"]), cloud.logs()
        # North-south: the outside reaches guest A by its floating IP.
        assert _ping(env.outside, fip_ip), cloud.logs()
        # SNAT: B leaves as the gateway IP, A as its floating IP.
        assert _sources_seen_outside(env, [guest_b, guest_a]) == [gw_ip, fip_ip]

        # Metadata through the router's proxy and the metadata agent.
        got = _in_ns(guest_a, sys.executable, "-c", HTTP_GET,
                     "http://169.254.169.254/latest/meta-data/instance-id")
        assert got.returncode == 0, got.stderr + cloud.logs()
        assert got.stdout.strip() == instance_a
        seen = env.metadata.requests[-1]
        assert seen["path"] == "/latest/meta-data/instance-id"
        assert seen["X-Instance-ID"] == instance_a
        assert seen["X-Forwarded-For"] == port_a["fixed_ips"][0]["ip_address"]
        assert seen["X-Instance-ID-Signature"] == hmac.new(
            SECRET.encode(), instance_a.encode(), hashlib.sha256).hexdigest()

        _wait("the floating IP to be ACTIVE", lambda: api.get(
            "/floatingips/" + fip["id"])["floatingip"]["status"] == "ACTIVE", cloud)
        agents = api.get("/agents")["agents"]
        types = {a["agent_type"] for a in agents if a["alive"]}
        assert {"L3 agent", "Metadata agent"} <= types, agents

        # Everything goes: the namespace, its proxy and the tap devices with it.
        for guest in (guest_a, guest_b):
            _ip("netns", "delete", guest)
        api.delete("/floatingips/" + fip["id"])
        for port_id in (port_a["id"], port_b["id"]):
            api.delete("/ports/" + port_id)
        for sub in subs:
            api.put("/routers/%s/remove_router_interface" % router_id, {"subnet_id": sub})
        api.delete("/routers/" + router_id)
        _wait("the router namespace, proxy and taps to go",
              lambda: ns not in _namespaces() and not any(_link_exists(t) for t in taps)
              and _proxy_pids(os.path.join(env.state, "l3")) == [], cloud)
        assert not any(_link_exists("brq" + n[:11]) for n in nets)
        assert not os.path.exists(os.path.join(env.state, "l3", router_id))
    finally:
        for guest in (guest_a, guest_b):
            if guest in _namespaces():
                _ip("netns", "delete", guest, check=False)
