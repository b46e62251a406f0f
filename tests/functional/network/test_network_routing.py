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
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.network import guests, netns
from tests.functional.network.netns import Api

SECRET = "l3-test-secret"

pytestmark = netns.skip_unless("network namespaces, bridges, iptables",
                               ("ip", "iptables-restore", "sysctl"))


@pytest.fixture
def env(tmp_path: Any) -> Iterator[netns.Setup]:
    with netns.host_setup(tmp_path) as made:
        made.add_outside()
        made.start_metadata_agent(SECRET)
        made.start_l3_agent(plug_into_bridge=True, external_bridge=made.ext_bridge)
        yield made


def _guest(env: netns.Setup, name: str, port: dict[str, Any], gateway: str,
           network_id: str) -> str:
    """A guest namespace with ``port``'s fixed IP (static), in the network's bridge."""
    ns, veth = "sl3%s-%s" % (name, env.suffix), "sg%s%s" % (name, env.suffix)
    env.namespaces.append(ns)
    env.links.append(veth)
    guests.add_guest(ns, veth, port["mac_address"], 1400, "brq" + network_id[:11])
    guests.set_address(ns, port["fixed_ips"][0]["ip_address"] + "/24", gateway)
    return ns


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

def _sources_seen_outside(env: netns.Setup, clients: list[str]) -> list[str]:
    """Each client namespace connects out to the outside namespace; the sources seen."""
    server = subprocess.Popen(["ip", "netns", "exec", env.outside, sys.executable, "-c",
                               TCP_SERVER, "8099", str(len(clients))],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "ready"
        for ns in clients:
            done = guests.in_ns(ns, sys.executable, "-c", TCP_CLIENT, netns.EXT_GW, "8099")
            assert done.returncode == 0, done.stderr + env.cloud.logs()
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            os.kill(server.pid, signal.SIGKILL)
            server.wait()
    return out.split()


def test_router_routes_nats_floats_and_serves_metadata(env: netns.Setup) -> None:
    cloud = env.cloud
    assert env.metadata is not None
    api = Api(cloud)
    ext, _ = netns.external_network(api, "ext-" + env.suffix)
    nets, subs = [], []
    for i, cidr in enumerate(("10.81.1.0/24", "10.81.2.0/24")):
        net = api.post("/networks", "network", {"name": "int%d-%s" % (i, env.suffix)})
        nets.append(net["id"])
        env.network(net)
        subs.append(api.post("/subnets", "subnet", {
            "network_id": net["id"], "ip_version": 4, "cidr": cidr,
            "enable_dhcp": False})["id"])
    router = api.post("/routers", "router", {
        "name": "r-" + env.suffix, "external_gateway_info": {"network_id": ext["id"]}})
    router_id = router["id"]
    ns = "qrouter-" + router_id
    env.namespaces.append(ns)
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

    router_ports = [p for p in api.get("/ports?device_id=" + router_id)["ports"]]
    taps = ["tap" + p["id"][:11] for p in router_ports]
    assert len(taps) == 3

    def wired() -> bool:
        if ns not in netns.namespaces() or not all(netns.link_exists(t) for t in taps):
            return False
        addrs = netns.ip("-n", ns, "addr", "show").stdout
        return fip_ip + "/32" in addrs and netns.proxy_pids(env.l3_state) != []
    netns.wait("the router namespace, its interfaces, floating IP and proxy", wired, cloud)
    for p in api.get("/ports?device_id=" + router_id)["ports"]:
        assert p["binding:host_id"] == env.host, p
        assert p["binding:vif_type"] == "bridge", p

    guest_a = _guest(env, "a", port_a, "10.81.1.1", nets[0])
    guest_b = _guest(env, "b", port_b, "10.81.2.1", nets[1])

    # East-west through the router, no NAT between internal subnets.
    assert guests.ping(guest_a, port_b["fixed_ips"][0]["ip_address"], 10), cloud.logs()
    # North-south: the outside reaches guest A by its floating IP.
    assert guests.ping(env.outside, fip_ip, 10), cloud.logs()
    # SNAT: B leaves as the gateway IP, A as its floating IP.
    assert _sources_seen_outside(env, [guest_b, guest_a]) == [gw_ip, fip_ip]

    # Metadata through the router's proxy and the metadata agent.
    got = guests.http_get(guest_a, "http://169.254.169.254/latest/meta-data/instance-id")
    assert got.returncode == 0, got.stderr + cloud.logs()
    assert got.stdout.strip() == instance_a
    seen = env.metadata.requests[-1]
    assert seen["path"] == "/latest/meta-data/instance-id"
    assert seen["X-Instance-ID"] == instance_a
    assert seen["X-Forwarded-For"] == port_a["fixed_ips"][0]["ip_address"]
    assert seen["X-Instance-ID-Signature"] == hmac.new(
        SECRET.encode(), instance_a.encode(), hashlib.sha256).hexdigest()

    netns.wait("the floating IP to be ACTIVE",
               lambda: api.status("floatingip", fip["id"]) == "ACTIVE", cloud)
    agents = api.get("/agents")["agents"]
    types = {a["agent_type"] for a in agents if a["alive"]}
    assert {netns.L3_AGENT, netns.METADATA_AGENT} <= types, agents

    # Everything goes: the namespace, its proxy and the tap devices with it.
    for guest in (guest_a, guest_b):
        netns.ip("netns", "delete", guest)
    api.delete("/floatingips/" + fip["id"])
    for port_id in (port_a["id"], port_b["id"]):
        api.delete("/ports/" + port_id)
    for sub in subs:
        api.put("/routers/%s/remove_router_interface" % router_id, {"subnet_id": sub})
    api.delete("/routers/" + router_id)
    netns.wait("the router namespace, proxy and taps to go",
               lambda: ns not in netns.namespaces()
               and not any(netns.link_exists(t) for t in taps)
               and netns.proxy_pids(env.l3_state) == [], cloud)
    assert not any(netns.link_exists("brq" + n[:11]) for n in nets)
    assert not os.path.exists(os.path.join(env.l3_state, router_id))
