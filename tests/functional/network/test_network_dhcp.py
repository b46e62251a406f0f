"""The DHCP agent end to end, as root: identity, the network server and the DHCP
agent as processes over a RabbitMQ vhost; a "guest" namespace plugged into the
network's bridge gets its port's fixed IP from the agent's dnsmasq, and deleting
the network removes the namespace, dnsmasq and bridge. Everything the test
creates is removed even on failure (processes killed by pid only)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.network import guests, netns
from tests.functional.network.netns import Api

pytestmark = netns.skip_unless("network namespaces, bridges, dnsmasq", ("ip", "dnsmasq"),
                               dhcp_client=True)


@pytest.fixture
def env(tmp_path: Any) -> Iterator[netns.Setup]:
    with netns.host_setup(tmp_path) as made:
        made.start_dhcp_agent("standalone")
        yield made


def test_guest_gets_its_fixed_ip_and_network_delete_cleans_up(env: netns.Setup) -> None:
    api = Api(env.cloud)
    net = api.post("/networks", "network", {"name": "dhcp-" + env.suffix})
    env.network(net)
    api.post("/subnets", "subnet", {"network_id": net["id"], "ip_version": 4,
                                    "cidr": "10.77.0.0/24", "enable_dhcp": True,
                                    "dns_nameservers": ["10.77.0.53"]})
    port = api.post("/ports", "port", {"network_id": net["id"]})
    mac = port["mac_address"]
    ns, bridge = "qdhcp-" + net["id"], "brq" + net["id"][:11]
    directory = os.path.join(env.dhcp_state, net["id"])

    def served() -> bool:
        if not (ns in netns.namespaces() and netns.link_exists(bridge)
                and netns.dnsmasq_pid(os.path.join(directory, "pid")) is not None):
            return False
        with open(os.path.join(directory, "host"), encoding="utf-8") as f:
            return mac in f.read()
    netns.wait("the DHCP namespace, bridge and dnsmasq", served, env.cloud)

    guest = "sdhcpg-" + env.suffix
    env.namespaces.append(guest)
    guests.add_guest(guest, "sdg" + env.suffix, mac, bridge=bridge)
    netns.lease(guest, port, env.cloud)

    agents = api.get("/agents?agent_type=DHCP+agent")["agents"]
    assert any(a["alive"] for a in agents), agents

    api.delete("/ports/" + port["id"])
    api.delete("/networks/" + net["id"])
    netns.wait("the DHCP namespace, bridge and dnsmasq to go",
               lambda: ns not in netns.namespaces() and not netns.link_exists(bridge)
               and netns.processes("dnsmasq", directory) == [], env.cloud)
    assert not os.path.exists(directory)
