"""The bridge agent end to end, as root: identity, the network server, the DHCP
agent (``bridge_mode = none``) and the bridge agent as processes over a RabbitMQ
vhost. Two "guest" namespaces, each attached by a veth whose main-namespace end is
its port's ``tap<port id[:11]>``, are plugged by the bridge agent into the VXLAN
network's bridge, get their addresses from dnsmasq and ping each other; security
groups then block and allow ICMP through iptables; deleting everything removes the
bridge, the VXLAN device, the chains and the namespaces. Everything the test
creates is removed even on failure (processes killed by pid only)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.network import guests, netns
from tests.functional.network.netns import Api

pytestmark = netns.skip_unless(
    "namespaces, bridges, VXLAN, iptables, dnsmasq",
    ("ip", "bridge", "dnsmasq", "iptables-save", "iptables-restore", "ip6tables-save",
     "ip6tables-restore"), dhcp_client=True)


@pytest.fixture
def env(tmp_path: Any) -> Iterator[netns.Setup]:
    with netns.host_setup(tmp_path, bridge_agent=True) as made:
        made.start_dhcp_agent("none")
        made.start_bridge_agent()
        yield made


def test_guests_get_addresses_ping_and_security_groups_filter(env: netns.Setup) -> None:
    api = Api(env.cloud)
    net, _ = netns.vxlan_network(api, env, "bridge-" + env.suffix, netns.random_cidr())
    names = ["sbrga-" + env.suffix, "sbrgb-" + env.suffix]
    ports = []
    for _ in names:
        port = api.post("/ports", "port", {"network_id": net["id"],
                                           "binding:host_id": env.host})
        ports.append(port)
        env.guest_ports.append(port["id"])
    bridge, vxlan = "brq" + net["id"][:11], "vxlan-%d" % net["provider:segmentation_id"]

    def dhcp_plugged() -> bool:
        found = netns.bridge_ports(bridge)
        return "qdhcp-" + net["id"] in netns.namespaces() and vxlan in found \
            and any(p.startswith("tap") for p in found)
    netns.wait("the DHCP port plugged into the bridge with its VXLAN uplink",
               dhcp_plugged, env.cloud)

    ips = []
    for ns, port in zip(names, ports, strict=True):
        env.namespaces.append(ns)
        env.guest_taps.append("tap" + port["id"][:11])
        guests.add_guest(ns, env.guest_taps[-1], port["mac_address"], int(net["mtu"]))
        ips.append(port["fixed_ips"][0]["ip_address"])

    netns.wait_ports_active(api, ports)
    for ns, port in zip(names, ports, strict=True):
        netns.lease(ns, port, env.cloud)

    netns.wait("guest A pinging guest B (default group)",
               lambda: guests.ping(names[0], ips[1]), env.cloud, timeout=30)
    assert guests.ping(names[1], ips[0])
    assert netns.port_chains(env.host, env.guest_ports) <= netns.chains()

    sg_id = netns.block_then_allow_icmp(api, ports[1]["id"], names[0], ips[1],
                                        "bridge-" + env.suffix)

    agents = api.get("/agents?agent_type=Linux+bridge+agent")["agents"]
    mine = [a for a in agents if a["host"] == env.host]
    assert mine and mine[0]["alive"], agents
    assert mine[0]["configurations"]["tunneling_ip"] == "127.0.0.1"

    # Delete everything: guests, ports, group, network.
    for ns in names:
        netns.ip("netns", "delete", ns)
    for port in ports:
        api.delete("/ports/" + port["id"])
    api.delete("/security-groups/" + sg_id)
    api.delete("/networks/" + net["id"])

    def left() -> list[str]:
        found = [link for link in (bridge, vxlan) if netns.link_exists(link)]
        found += [ns for ns in netns.namespaces() if ns == "qdhcp-" + net["id"]]
        return found + netns.port_filters(env.host, env.guest_ports, env.guest_taps)
    netns.wait("the bridge, VXLAN device, chains and namespaces to go", lambda: not left(),
               env.cloud, detail=left)
