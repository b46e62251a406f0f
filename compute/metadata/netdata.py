"""An instance's addresses from its ``network_info`` cache (the Nova-shaped list
:mod:`compute.network_info` builds), as the metadata documents give them:
``network_data.json`` (links, networks, services) and the EC2 ``local-ipv4`` /
``public-ipv4`` leaves.

``network_data.json`` follows Nova's format::

    {"links": [{"id": "tap…", "vif_id": port id, "type": vif type ("bridge"),
                "mtu": network MTU, "ethernet_mac_address": mac}],
     "networks": [{"id": "network0", "type": "ipv4" | "ipv4_dhcp" | "ipv6" |
                   "ipv6_slaac" | "ipv6_dhcpv6-stateful" | "ipv6_dhcpv6-stateless",
                   "link": link id, "network_id": network uuid,
                   # not for ipv4_dhcp (the guest asks DHCP):
                   "ip_address", "netmask", "routes": [{"network", "netmask", "gateway"}],
                   "services": [{"type": "dns", "address"}]}],
     "services": [{"type": "dns", "address"}]}

An IPv4 subnet whose ``meta.dhcp_server`` is known is ``ipv4_dhcp``; every
fixed address gets its own network entry.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from typing import Any

NetworkInfo = Sequence[dict[str, Any]]
_V6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")


def _subnets(vif: dict[str, Any]) -> list[dict[str, Any]]:
    return list((vif.get("network") or {}).get("subnets") or [])


def _fixed(network_info: NetworkInfo | None) -> Iterator[dict[str, Any]]:
    for vif in network_info or []:
        for subnet in _subnets(vif):
            for ip in subnet.get("ips") or []:
                if ip.get("address") and ip.get("type", "fixed") == "fixed":
                    yield ip


def _version(ip: dict[str, Any]) -> int:
    return int(ip.get("version") or ipaddress.ip_address(ip["address"]).version)


def fixed_ips(network_info: NetworkInfo | None, version: int | None = None) -> list[str]:
    """Fixed addresses in port order (only IPv4 or IPv6 ones with ``version``)."""
    return [ip["address"] for ip in _fixed(network_info)
            if version is None or _version(ip) == version]


def floating_ips(network_info: NetworkInfo | None) -> list[str]:
    """Floating addresses associated with the fixed ones, in port order."""
    return [fip["address"] for ip in _fixed(network_info)
            for fip in ip.get("floating_ips") or [] if fip.get("address")]


def _address(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("address")
    return str(value) if value else None


def _mtu(vif: dict[str, Any]) -> int | None:
    network = vif.get("network") or {}
    mtu = network.get("mtu") or (network.get("meta") or {}).get("mtu")
    return int(mtu) if mtu else None


def _link(vif: dict[str, Any], index: int) -> dict[str, Any]:
    return {"id": vif.get("devname") or "interface%d" % index,
            "vif_id": vif.get("id"),
            "type": vif.get("type") or "bridge",
            "mtu": _mtu(vif),
            "ethernet_mac_address": vif.get("address")}


def _routes(subnet: dict[str, Any], version: int) -> list[dict[str, Any]]:
    routes = []
    gateway = _address(subnet.get("gateway"))
    if gateway:
        anywhere = "0.0.0.0" if version == 4 else "::"
        routes.append({"network": anywhere, "netmask": anywhere, "gateway": gateway})
    for route in subnet.get("routes") or []:
        hop = _address(route.get("gateway"))
        if not route.get("cidr") or not hop:
            continue
        net = ipaddress.ip_network(route["cidr"], strict=False)
        routes.append({"network": str(net.network_address), "netmask": str(net.netmask),
                       "gateway": hop})
    return routes


def _dns(subnet: dict[str, Any]) -> list[dict[str, str]]:
    found = [_address(d) for d in subnet.get("dns") or []]
    return [{"type": "dns", "address": a} for a in found if a]


def _v6_type(subnet: dict[str, Any]) -> str:
    mode = subnet.get("ipv6_address_mode") or (subnet.get("meta") or {}).get(
        "ipv6_address_mode")
    return "ipv6_%s" % mode if mode in _V6_MODES else "ipv6"


def _network(vif: dict[str, Any], subnet: dict[str, Any], ip: dict[str, Any], number: int,
             link_id: str) -> dict[str, Any]:
    version = _version(ip)
    net_id = (vif.get("network") or {}).get("id")
    entry: dict[str, Any] = {"id": "network%d" % number, "link": link_id,
                             "network_id": net_id}
    if version == 4 and (subnet.get("meta") or {}).get("dhcp_server"):
        entry["type"] = "ipv4_dhcp"
        return entry
    entry["type"] = "ipv4" if version == 4 else _v6_type(subnet)
    cidr = subnet.get("cidr")
    if cidr:
        netmask = str(ipaddress.ip_network(cidr, strict=False).netmask)
    else:
        netmask = "255.255.255.255" if version == 4 else "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
    entry.update({"ip_address": ip["address"], "netmask": netmask,
                  "routes": _routes(subnet, version), "services": _dns(subnet)})
    return entry


def network_data(network_info: NetworkInfo | None) -> dict[str, Any]:
    """``network_data.json`` of an instance (empty lists without ports)."""
    links: list[dict[str, Any]] = []
    networks: list[dict[str, Any]] = []
    services: list[dict[str, str]] = []
    for index, vif in enumerate(network_info or []):
        link = _link(vif, index)
        links.append(link)
        for subnet in _subnets(vif):
            for ip in subnet.get("ips") or []:
                if not ip.get("address") or ip.get("type", "fixed") != "fixed":
                    continue
                networks.append(_network(vif, subnet, ip, len(networks), link["id"]))
            for dns in _dns(subnet):
                if dns not in services:
                    services.append(dns)
    return {"links": links, "networks": networks, "services": services}
