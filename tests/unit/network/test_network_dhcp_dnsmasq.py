"""Rendering of dnsmasq's hosts file, options file and command line."""
from __future__ import annotations

from typing import Any

from network.agents.dhcp import dnsmasq

NET = "11111111-2222-3333-4444-555555555555"


def _network(**subnet: Any) -> dict[str, Any]:
    sub = {"id": "s1", "cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.1",
           "dns_nameservers": ["8.8.8.8", "1.1.1.1"], "host_routes": [],
           "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.254"}],
           "ip_version": 4, "enable_dhcp": True}
    sub.update(subnet)
    dhcp_port = {"id": "dhcpport-1234567", "mac_address": "fa:16:3e:00:00:02",
                 "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.2"}],
                 "device_owner": "network:dhcp"}
    vm = {"id": "vmport", "mac_address": "fa:16:3e:00:00:05",
          "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.5"},
                        {"subnet_id": "other", "ip_address": "192.168.0.5"}],
          "device_owner": "compute:nova"}
    return {"id": NET, "mtu": 1450, "subnets": [sub, {"id": "other",
                                                       "cidr": "192.168.0.0/24",
                                                       "gateway_ip": None,
                                                       "ip_version": 4,
                                                       "enable_dhcp": False}],
            "ports": [dhcp_port, vm], "dhcp_port": dhcp_port}


def test_hosts_are_static_entries_for_dhcp_subnets_only() -> None:
    assert dnsmasq.render_hosts(_network()) == (
        "fa:16:3e:00:00:02,host-10-0-0-2,10.0.0.2\n"
        "fa:16:3e:00:00:05,host-10-0-0-5,10.0.0.5\n")


def test_ipv6_addresses_are_bracketed() -> None:
    net = _network(id="s1", cidr="fd00::/64", ip_version=6)
    net["ports"][1]["fixed_ips"][0]["ip_address"] = "fd00::5"
    assert "fa:16:3e:00:00:05,host-fd00--5,[fd00::5]\n" in dnsmasq.render_hosts(net)


def test_options_router_dns_mtu_and_metadata_route() -> None:
    opts = dnsmasq.render_opts(_network(), {"s1"}).splitlines()
    assert opts == [
        "tag:subnet-s1,option:router,10.0.0.1",
        "tag:subnet-s1,option:dns-server,8.8.8.8,1.1.1.1",
        "tag:subnet-s1,option:mtu,1450",
        "tag:subnet-s1,option:classless-static-route,"
        "169.254.169.254/32,10.0.0.2,0.0.0.0/0,10.0.0.1",
    ]


def test_options_host_routes_without_metadata_or_gateway() -> None:
    net = _network(gateway_ip=None, dns_nameservers=[],
                   host_routes=[{"destination": "172.16.0.0/16", "nexthop": "10.0.0.9"}])
    net["mtu"] = 0
    assert dnsmasq.render_opts(net).splitlines() == [
        "tag:subnet-s1,option:router",
        "tag:subnet-s1,option:classless-static-route,172.16.0.0/16,10.0.0.9",
    ]


def test_argv_serves_dhcp_only_with_one_range_per_dhcp_subnet() -> None:
    argv = dnsmasq.render_argv(_network(), "/st/n1", "tapdhcpport-1", "/usr/sbin/dnsmasq",
                               600)
    assert argv[0] == "/usr/sbin/dnsmasq"
    assert "--port=0" in argv and "--no-resolv" in argv and "--bind-interfaces" in argv
    assert "--interface=tapdhcpport-1" in argv
    assert "--pid-file=/st/n1/pid" in argv and "--dhcp-hostsfile=/st/n1/host" in argv
    ranges = [a for a in argv if a.startswith("--dhcp-range=")]
    assert ranges == ["--dhcp-range=set:subnet-s1,10.0.0.0,static,255.255.255.0,600s"]


def test_port_cidrs_and_render() -> None:
    net = _network()
    assert dnsmasq.port_cidrs(net) == ["10.0.0.2/24"]
    config = dnsmasq.render(net, "/d", "tapx", "dnsmasq", 60, {"s1"})
    assert config.hosts == dnsmasq.render_hosts(net)
    assert config.opts == dnsmasq.render_opts(net, {"s1"})


def test_metadata_subnets() -> None:
    net = _network()
    assert dnsmasq.metadata_subnets(net, isolated=False, force=True) == {"s1"}
    assert dnsmasq.metadata_subnets(net, isolated=True, force=False) == {"s1"}
    net["subnets"][0]["isolated"] = False  # a router serves it
    assert dnsmasq.metadata_subnets(net, isolated=True, force=False) == set()
    assert dnsmasq.metadata_subnets(net, isolated=True, force=True) == {"s1"}
