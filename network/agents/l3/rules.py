"""What a router namespace should contain, computed from the server's router
description (pure functions: the unit tests check them without a system).

Names (Neutron's): namespace ``qrouter-<router id>``; internal interface
``qr-<port id[:11]>``, gateway interface ``qg-<port id[:11]>``, each a veth whose
main-namespace end is ``tap<port id[:11]>``.

NAT (the namespace's whole ``nat`` table, given to ``iptables-restore``):

- ``stratus-PREROUTING``: metadata (tcp to 169.254.169.254:80 from ``qr-+``
  redirected to the proxy's port), then DNAT of each floating IP to its fixed IP;
- ``stratus-OUTPUT``: the same DNAT for the router's own traffic;
- ``stratus-POSTROUTING``: ACCEPT (no NAT) for what neither leaves through the
  gateway nor was DNATed: traffic between the router's internal subnets keeps
  its addresses;
- ``stratus-snat``: ``stratus-float-snat`` (fixed IP -> floating IP), then, with
  ``enable_snat``, everything leaving through ``qg-`` takes the gateway IP, as does
  DNATed traffic that did not come in through ``qg-`` (hairpin: a guest reaching
  another guest of its own subnet by its floating IP), told apart by the mark
  ``stratus-mark`` (mangle table) sets on what arrives through the gateway.
"""
from __future__ import annotations

from typing import Any

import netaddr

NS_PREFIX = "qrouter-"
METADATA_CIDR = "169.254.169.254/32"
EXTERNAL_MARK = "0x2/0xffff"
CHAINS = ("stratus-PREROUTING", "stratus-OUTPUT", "stratus-POSTROUTING", "stratus-snat",
          "stratus-float-snat")


def namespace(router_id: str) -> str:
    return NS_PREFIX + router_id


def internal_name(port_id: str) -> str:
    return "qr-" + port_id[:11]


def gateway_name(port_id: str) -> str:
    return "qg-" + port_id[:11]


def tap_name(port_id: str) -> str:
    return "tap" + port_id[:11]


def bridge_name(network_id: str) -> str:
    return "brq" + network_id[:11]


def port_cidrs(port: dict[str, Any]) -> list[str]:
    """``ip/prefixlen`` of each fixed IP of a port the server described."""
    return ["%s/%s" % (f["ip_address"], f["prefixlen"]) for f in port["fixed_ips"]]


def gateway_ipv4(router: dict[str, Any]) -> str | None:
    """The router's first IPv4 address on the external network."""
    gw = router.get("gw_port")
    for fixed in (gw or {}).get("fixed_ips", []):
        if netaddr.IPAddress(fixed["ip_address"]).version == 4:
            return str(fixed["ip_address"])
    return None


def floating_ips(router: dict[str, Any]) -> list[dict[str, Any]]:
    """The router's associated IPv4 floating IPs (only with a gateway)."""
    if not router.get("gw_port"):
        return []
    return [f for f in router.get("_floatingips", [])
            if f.get("fixed_ip_address") and f.get("floating_ip_address")
            and netaddr.IPAddress(f["floating_ip_address"]).version == 4]


def gateway_cidrs(router: dict[str, Any]) -> list[str]:
    """Addresses of ``qg-``: the external fixed IPs, then each floating IP as /32."""
    gw = router.get("gw_port")
    if not gw:
        return []
    return port_cidrs(gw) + ["%s/32" % f["floating_ip_address"] for f in floating_ips(router)]


def routes(router: dict[str, Any]) -> list[tuple[str, str]]:
    """``(destination, next hop)`` routes: the default routes via the external
    subnets' gateways, then the router's extra routes."""
    out: list[tuple[str, str]] = []
    gw = router.get("gw_port")
    if gw:
        seen: set[int] = set()
        for sub in gw.get("subnets", []):
            if sub.get("gateway_ip") and sub["ip_version"] not in seen:
                seen.add(sub["ip_version"])
                out.append(("default" if sub["ip_version"] == 4 else "::/0",
                            str(sub["gateway_ip"])))
    for route in router.get("routes", []):
        out.append((str(netaddr.IPNetwork(route["destination"]).cidr), route["nexthop"]))
    return out


def tables(router: dict[str, Any], metadata_port: int | None) -> str:
    """The namespace's ``mangle`` and ``nat`` tables, for ``iptables-restore`` (whole
    tables: restoring them twice gives the same result)."""
    lines = ["*mangle"]
    lines += [":%s ACCEPT [0:0]" % c for c in ("PREROUTING", "INPUT", "FORWARD", "OUTPUT",
                                                "POSTROUTING")]
    lines += [":stratus-mark - [0:0]", "-A PREROUTING -j stratus-mark"]
    gw = router.get("gw_port")
    if gw:
        lines.append("-A stratus-mark -i %s -j MARK --set-xmark %s"
                     % (gateway_name(gw["id"]), EXTERNAL_MARK))
    lines += ["COMMIT", "*nat"]
    lines += [":%s ACCEPT [0:0]" % c for c in ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING")]
    lines += [":%s - [0:0]" % c for c in CHAINS]
    lines += ["-A PREROUTING -j stratus-PREROUTING", "-A OUTPUT -j stratus-OUTPUT",
              "-A POSTROUTING -j stratus-POSTROUTING", "-A POSTROUTING -j stratus-snat"]
    if metadata_port:
        lines.append("-A stratus-PREROUTING -d %s -i qr-+ -p tcp -m tcp --dport 80 "
                     "-j REDIRECT --to-ports %d" % (METADATA_CIDR, metadata_port))
    if gw:
        qg = gateway_name(gw["id"])
        for fip in floating_ips(router):
            floating, fixed = fip["floating_ip_address"], fip["fixed_ip_address"]
            lines.append("-A stratus-PREROUTING -d %s/32 -j DNAT --to-destination %s"
                         % (floating, fixed))
            lines.append("-A stratus-OUTPUT -d %s/32 -j DNAT --to-destination %s"
                         % (floating, fixed))
            lines.append("-A stratus-float-snat -s %s/32 -j SNAT --to-source %s"
                         % (fixed, floating))
        lines.append("-A stratus-POSTROUTING ! -o %s -m conntrack ! --ctstate DNAT "
                     "-j ACCEPT" % qg)
        lines.append("-A stratus-snat -j stratus-float-snat")
        gw_ip = gateway_ipv4(router)
        if router.get("enable_snat", True) and gw_ip:
            lines.append("-A stratus-snat -o %s -j SNAT --to-source %s" % (qg, gw_ip))
            lines.append("-A stratus-snat -m mark ! --mark %s -m conntrack --ctstate DNAT "
                         "-j SNAT --to-source %s" % (EXTERNAL_MARK, gw_ip))
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"
