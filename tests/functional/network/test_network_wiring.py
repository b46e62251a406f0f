"""The network service's acceptance test, as root: identity, the network server and
all four agents as processes over a RabbitMQ vhost, the agents configured as
devstack/lib/network.sh writes them (one ``host``; bridge agent with ``public``
mapped to a test bridge and VXLAN from 127.0.0.1; DHCP agent with ``bridge_mode =
none`` and L3 agent with ``plug_into_bridge = false``, so the bridge agent plugs
every tap device; metadata agent).

Through the REST API only, as a user would: a VXLAN network with a DHCP subnet
and two guest ports bound to this host; "guest" namespaces attached as compute
would (a veth whose main-namespace end is ``tap<port id[:11]>``, the inner end
with the port's MAC) get their addresses and routes from dnsmasq and ping each
other, and their ports go ACTIVE; a security group without rules blocks ICMP and
an ICMP rule allows it again; a second network's guest reaches both through a
router; behind the router's gateway on a flat external network (a test bridge
with an "outside" namespace on it), a floating IP answers the outside and goes
ACTIVE; a guest's metadata request reaches a stand-in compute metadata API.
Deleting everything through the API removes the agents' wiring: namespaces,
bridges, VXLAN devices, tap devices, iptables chains, dnsmasq and metadata
proxies. Everything the test creates is removed even on failure (processes are
killed by pid only, and only this test's names are deleted).
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.conftest import NetworkCloud
from tests.functional.network import guests, netns
from tests.functional.network.netns import Api

pytestmark = netns.skip_unless(
    "namespaces, bridges, VXLAN, iptables, dnsmasq",
    ("ip", "bridge", "dnsmasq", "sysctl", "iptables-save", "iptables-restore",
     "ip6tables-save", "ip6tables-restore"), dhcp_client=True)

SECRET = "wiring-test-secret"
METADATA_URL = "http://169.254.169.254/latest/meta-data/instance-id"


@pytest.fixture
def env(tmp_path: Any) -> Iterator[netns.Setup]:
    with netns.host_setup(tmp_path, bridge_agent=True) as made:
        made.add_outside()
        # devstack's order; the bridge agent re-applies its filters every 5 s (another
        # bridge agent on this host, e.g. devstack's, removes them at its resyncs).
        made.start_bridge_agent("public:" + made.ext_bridge, resync_interval=5)
        made.start_dhcp_agent("none")
        made.start_metadata_agent(SECRET)
        made.start_l3_agent(plug_into_bridge=False)
        made.wait_agents(netns.BRIDGE_AGENT, netns.DHCP_AGENT, netns.METADATA_AGENT,
                         netns.L3_AGENT)
        yield made


def _guest_port(api: Api, env: netns.Setup, net: dict[str, Any]) -> dict[str, Any]:
    """A port as compute makes it for an instance on this host."""
    port = api.post("/ports", "port", {
        "network_id": net["id"], "binding:host_id": env.host,
        "device_owner": "compute:nova", "device_id": str(uuid.uuid4())})
    env.guest_ports.append(port["id"])
    env.guest_taps.append("tap" + port["id"][:11])
    return port


def _plug(env: netns.Setup, name: str, port: dict[str, Any]) -> str:
    """The guest namespace of ``port``, attached as compute would: the bridge agent
    is to plug ``tap<port id[:11]>``."""
    ns = "sw%s-%s" % (name, env.suffix)
    env.namespaces.append(ns)
    guests.add_guest(ns, "tap" + port["id"][:11], port["mac_address"])
    return ns


def _lease(ns: str, port: dict[str, Any], subnet: dict[str, Any], cloud: NetworkCloud) -> str:
    """DHCP in ``ns``: the port's address, and the subnet's gateway as default route."""
    fixed_ip = netns.lease(ns, port, cloud)
    route = netns.ip("-n", ns, "route", "show", "default").stdout
    assert "via %s " % subnet["gateway_ip"] in route, route
    return fixed_ip


def _dhcp_served(net: dict[str, Any], state: str) -> bool:
    """qdhcp- namespace, dnsmasq, and the DHCP port's tap in the network's bridge
    with its VXLAN uplink (plugged by the bridge agent)."""
    ports = netns.bridge_ports("brq" + net["id"][:11])
    return "qdhcp-" + net["id"] in netns.namespaces() \
        and netns.dnsmasq_pid(os.path.join(state, net["id"], "pid")) is not None \
        and "vxlan-%d" % net["provider:segmentation_id"] in ports \
        and any(p.startswith("tap") for p in ports)


def _metadata_problem(ns: str, instance_id: str) -> str | None:
    """Why guest ``ns`` does not read its instance id from the metadata service
    through the routes DHCP gave it; None when it does."""
    def read() -> tuple[bool, str]:
        got = guests.http_get(ns, METADATA_URL)
        return (got.returncode == 0 and got.stdout.strip() == instance_id,
                (got.stdout.strip() + " " + got.stderr.strip()).splitlines()[-1])
    ok, said = read()
    if ok:
        return None
    routes = netns.ip("-n", ns, "route", "show").stdout
    # Diagnosis: the same request through the default route (the router's proxy).
    netns.ip("-n", ns, "route", "del", "169.254.169.254/32", check=False)
    direct, direct_said = read()
    return ("GET %s from a guest failed (%s). Its routes, from DHCP:\n%s"
            "Without the route to 169.254.169.254, through its default gateway (the "
            "router's metadata proxy), the request %s"
            % (METADATA_URL, said, routes, "works." if direct else "fails too: " + direct_said))


def test_guests_routers_floating_ips_and_teardown(env: netns.Setup) -> None:
    cloud = env.cloud
    api = Api(cloud)
    s = env.suffix

    # -- one network, two guests: DHCP, ACTIVE ports, ping --------------------------
    cidr1 = netns.random_cidr()
    net1, sub1 = netns.vxlan_network(api, env, "w1-" + s, cidr1)
    port_a, port_b = _guest_port(api, env, net1), _guest_port(api, env, net1)
    netns.wait("DHCP for the first network", lambda: _dhcp_served(net1, env.dhcp_state),
               cloud)
    guest_a, guest_b = _plug(env, "a", port_a), _plug(env, "b", port_b)
    netns.wait_ports_active(api, [port_a, port_b])
    for port in (port_a, port_b):
        assert set(netns.bridge_ports("brq" + net1["id"][:11])) >= {"tap" + port["id"][:11]}
    ip_a = _lease(guest_a, port_a, sub1, cloud)
    ip_b = _lease(guest_b, port_b, sub1, cloud)
    netns.wait("guest A pinging guest B", lambda: guests.ping(guest_a, ip_b), cloud,
               timeout=30)
    assert guests.ping(guest_b, ip_a), cloud.logs()
    assert netns.port_chains(env.host, env.guest_ports) <= netns.chains(), cloud.logs()

    # -- security groups: a group without rules blocks, an ICMP rule allows ---------
    sg_id = netns.block_then_allow_icmp(api, port_b["id"], guest_a, ip_b, "w-" + s)

    # -- a second network behind a router ------------------------------------------
    net2, sub2 = netns.vxlan_network(api, env, "w2-" + s, netns.random_cidr((cidr1,)))
    port_c = _guest_port(api, env, net2)
    netns.wait("DHCP for the second network", lambda: _dhcp_served(net2, env.dhcp_state),
               cloud)
    guest_c = _plug(env, "c", port_c)
    netns.wait_ports_active(api, [port_c])
    _lease(guest_c, port_c, sub2, cloud)
    router = api.post("/routers", "router", {"name": "w-" + s})
    router_ns = "qrouter-" + router["id"]
    env.namespaces.append(router_ns)
    for sub in (sub1, sub2):
        api.put("/routers/%s/add_router_interface" % router["id"], {"subnet_id": sub["id"]})
    interfaces = api.get("/ports?device_id=" + router["id"])["ports"]
    assert len(interfaces) == 2, interfaces

    def routed() -> bool:
        # (The server shows router interfaces ACTIVE from the start: not a sign.)
        addrs = netns.ip("-n", router_ns, "addr", "show", check=False).stdout
        return all(" %s/24 " % sub["gateway_ip"] in addrs for sub in (sub1, sub2)) \
            and all("tap" + p["id"][:11] in netns.bridge_ports("brq" + p["network_id"][:11])
                    for p in interfaces)
    netns.wait("the router's interfaces, plugged by the bridge agent", routed, cloud)
    for port in api.get("/ports?device_id=" + router["id"])["ports"]:
        assert port["binding:host_id"] == env.host, port
    netns.wait("guest C pinging guest A through the router",
               lambda: guests.ping(guest_c, ip_a), cloud, timeout=30)
    assert guests.ping(guest_c, ip_b), cloud.logs()

    # -- the external network, the router's gateway and a floating IP --------------
    ext, _ = netns.external_network(api, "wx-" + s)
    env.network(ext)
    gateway = api.put("/routers/" + router["id"], {"router": {
        "external_gateway_info": {"network_id": ext["id"]}}})["router"]
    gw_ip = gateway["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    fip = api.post("/floatingips", "floatingip", {"floating_network_id": ext["id"],
                                                 "port_id": port_b["id"]})
    fip_ip = fip["floating_ip_address"]
    gw_port = api.get("/ports?device_owner=network:router_gateway&device_id="
                      + router["id"])["ports"][0]

    def gateway_wired() -> bool:
        addrs = netns.ip("-n", router_ns, "addr", "show", check=False).stdout
        return "tap" + gw_port["id"][:11] in netns.bridge_ports(env.ext_bridge) \
            and gw_ip + "/24" in addrs and fip_ip + "/32" in addrs
    netns.wait("the gateway in the external bridge with the floating IP", gateway_wired,
               cloud)
    netns.wait("the outside pinging the floating IP",
               lambda: guests.ping(env.outside, fip_ip), cloud, timeout=30)
    netns.wait("the floating IP ACTIVE",
               lambda: api.status("floatingip", fip["id"]) == "ACTIVE", cloud)
    assert guests.ping(guest_a, netns.EXT_GW), "guest A reaching the outside" + cloud.logs()

    # -- metadata, through the routes the guest got from DHCP ----------------------
    netns.wait("the router's metadata proxy", lambda: netns.proxy_pids(env.l3_state) != [],
               cloud)
    metadata_problem = _metadata_problem(guest_a, port_a["device_id"])

    # -- delete everything through the API -----------------------------------------
    all_ports = [p["id"] for n in (net1, net2, ext)
                 for p in api.get("/ports?network_id=" + n["id"])["ports"]]
    for guest in (guest_a, guest_b, guest_c):  # compute unplugs the instances first
        netns.ip("netns", "delete", guest)
    api.delete("/floatingips/" + fip["id"])
    for sub in (sub1, sub2):
        api.put("/routers/%s/remove_router_interface" % router["id"], {"subnet_id": sub["id"]})
    api.put("/routers/" + router["id"], {"router": {"external_gateway_info": {}}})
    api.delete("/routers/" + router["id"])
    for port in (port_a, port_b, port_c):
        api.delete("/ports/" + port["id"])
    api.delete("/security-groups/" + sg_id)
    for sub in (sub1, sub2):
        api.delete("/subnets/" + sub["id"])
    for net in (net1, net2, ext):
        api.delete("/networks/" + net["id"])

    def unwired() -> list[str]:
        """What of the agents' wiring is still there."""
        left = [ns for ns in netns.namespaces()
                if ns in ("qdhcp-" + net1["id"], "qdhcp-" + net2["id"], router_ns)]
        left += [link for link in env.links + ["tap" + p[:11] for p in all_ports]
                 if link not in (env.out_veth, env.ext_bridge)
                 if netns.link_exists(link)]
        left += [p for p in netns.bridge_ports(env.ext_bridge) if p != env.out_veth]
        left += netns.port_filters(env.host, all_ports, ["tap" + p[:11] for p in all_ports])
        left += ["dnsmasq %d" % p for p in netns.processes("dnsmasq", env.state)]
        left += ["metadata proxy %d" % p for p in netns.proxy_pids(env.state)]
        left += [d for d in (os.path.join(env.dhcp_state, net1["id"]),
                             os.path.join(env.dhcp_state, net2["id"]),
                             os.path.join(env.l3_state, router["id"])) if os.path.exists(d)]
        return left
    netns.wait("the agents to remove their wiring", lambda: not unwired(), cloud,
               detail=unwired)
    # Checked last so that a failure here still lets the rest of the test run.
    assert metadata_problem is None, metadata_problem
