"""Security groups as iptables rules (filter table, physdev matches), like
Neutron's iptables hybrid firewall: ``render`` is a pure function from the ports
and their groups to iptables-restore input; :class:`IptablesFirewall` applies it.

Layout (IPv4 in iptables, IPv6 in ip6tables), ``T`` being the agent's tag (six hex
digits of its host name, so two agents on one host — a test cloud beside a real
one — never touch each other's chains)::

    FORWARD -> stratus-fwd-T: packets leaving/entering a filtered tap -> stratus-sg-T;
                              packets of unfiltered taps -> ACCEPT; others RETURN
    stratus-sg-T: to tap X -> stTi<X> (ingress), from tap X -> stTo<X> (egress),
                  then ACCEPT (port chains RETURN what they allow and DROP the rest)
    stTo<X> -> stTs<X>: anti-spoofing (the port's MAC with its IPs and pairs)

Every apply declares (and so flushes and refills) all chains of the agent and
deletes its stale ones in the same iptables-restore transaction: idempotent and
atomic per table.
"""
from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
from typing import Any, Protocol

import netaddr

from network.agents.bridge import driver as bridge_driver

# Protocol names iptables knows, by number (others are given by number).
_NAMES = {1: "icmp", 6: "tcp", 17: "udp", 33: "dccp", 58: "ipv6-icmp", 132: "sctp",
          136: "udplite"}
_BY_NAME = {"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1,
            "icmpv6": 58, "igmp": 2, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44,
            "ipv6-icmp": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43,
            "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17,
            "udplite": 136, "vrrp": 112}
_PORT_MODULES = {6: "tcp", 17: "udp", 33: "dccp", 132: "sctp"}
# ICMPv6 a port always needs in: MLD (130-132), router advertisements (134),
# neighbour solicitation/advertisement (135, 136), MLDv2 reports (143).
_ICMPV6_IN = (130, 131, 132, 134, 135, 136, 143)


@dataclasses.dataclass(frozen=True)
class Chains:
    """The names of one agent's chains (all within iptables' 28 characters)."""

    tag: str

    @classmethod
    def for_host(cls, host: str) -> "Chains":
        return cls(hashlib.sha256(host.encode()).hexdigest()[:6])

    @property
    def top(self) -> str:
        return "stratus-fwd-" + self.tag

    @property
    def sg(self) -> str:
        return "stratus-sg-" + self.tag

    def port(self, kind: str, port_id: str) -> str:
        """``st<tag><kind><port id[:10]>``: kind ``i`` ingress, ``o`` egress, ``s`` spoofing."""
        return "st%s%s%s" % (self.tag, kind, port_id[:10])

    def ours(self, name: str) -> bool:
        return name in (self.top, self.sg) or (
            name.startswith("st" + self.tag) and len(name) == 19)


def filtered(port: dict[str, Any]) -> bool:
    """Ports of the network itself and ports without port security are not filtered."""
    return bool(port.get("port_security_enabled", True)) and \
        not str(port.get("device_owner") or "").startswith("network:")


def _protocol(value: str | None, ipv6: bool) -> str | None:
    if value is None or value == "any":
        return None
    number = int(value) if value.isdigit() else _BY_NAME.get(value)
    if number is None:
        return value
    if ipv6 and number == 1:
        number = 58  # "icmp" in an IPv6 rule means ICMPv6, as in Neutron
    return _NAMES.get(number, str(number))


def _port_match(proto: str, low: int | None, high: int | None, ipv6: bool) -> list[str]:
    if proto in ("icmp", "ipv6-icmp"):
        if low is None:
            return []
        kind = "%d/%d" % (low, high) if high is not None else str(low)
        return ["-m", "icmp6", "--icmpv6-type", kind] if ipv6 else \
            ["-m", "icmp", "--icmp-type", kind]
    if low is None:
        return []
    ports = str(low) if high is None or high == low else "%d:%d" % (low, high)
    number = _BY_NAME.get(proto)
    if number in _PORT_MODULES:
        return ["-m", proto, "--dport", ports]
    return ["-m", "multiport", "--dports", ports]


def rule_matches(rule: dict[str, Any], ipv6: bool,
                 members: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """The iptables matches (one list per line) of one security group rule in one
    family; empty when the rule is of the other family or its remote group is empty."""
    ethertype = "IPv6" if ipv6 else "IPv4"
    if rule.get("ethertype", "IPv4") != ethertype:
        return []
    args: list[str] = []
    proto = _protocol(rule.get("protocol"), ipv6)
    if proto is not None:
        args += ["-p", proto]
        args += _port_match(proto, rule.get("port_range_min"), rule.get("port_range_max"),
                            ipv6)
    flag = "-s" if rule["direction"] == "ingress" else "-d"
    prefix = rule.get("remote_ip_prefix")
    if rule.get("remote_group_id"):
        ips = members.get(rule["remote_group_id"], {}).get(ethertype, [])
        return [[flag, _host(ip)] + args for ip in ips]
    if prefix and ipaddress.ip_network(prefix, strict=False).prefixlen > 0:
        return [[flag, str(ipaddress.ip_network(prefix, strict=False))] + args]
    return [args]


def _host(ip: str) -> str:
    net = ipaddress.ip_network(ip, strict=False)
    return str(net)


def _line(chain_name: str, matches: list[str], target: str) -> str:
    return " ".join(["-A", chain_name, *matches, "-j", target])


def _physdev(direction: str, tap: str) -> list[str]:
    return ["-m", "physdev", "--physdev-%s" % direction, tap, "--physdev-is-bridged"]


def _spoof_lines(c: Chains, port: dict[str, Any], ipv6: bool) -> list[str]:
    name = c.port("s", port["port_id"])
    mac = str(port["mac_address"]).lower()
    pairs = [(ip, mac) for ip in port.get("fixed_ips", [])]
    pairs += [(p["ip_address"], str(p.get("mac_address") or mac).lower())
              for p in port.get("allowed_address_pairs", [])]
    if ipv6:
        pairs.append((str(netaddr.EUI(mac).ipv6_link_local()), mac))
    lines = []
    for ip, pair_mac in sorted(set(pairs)):
        if (":" in ip) != ipv6:
            continue
        lines.append(_line(name, ["-s", _host(ip), "-m", "mac", "--mac-source", pair_mac],
                           "RETURN"))
    lines.append(_line(name, [], "DROP"))
    return lines


def _ingress_lines(c: Chains, port: dict[str, Any], ipv6: bool,
                   rules: list[dict[str, Any]],
                   members: dict[str, dict[str, list[str]]]) -> list[str]:
    name = c.port("i", port["port_id"])
    lines = []
    if ipv6:
        lines += [_line(name, ["-p", "ipv6-icmp", "-m", "icmp6", "--icmpv6-type", str(t)],
                        "RETURN") for t in _ICMPV6_IN]
    lines += [_line(name, ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"], "RETURN"),
              _line(name, ["-m", "conntrack", "--ctstate", "INVALID"], "DROP")]
    dhcp = ["547", "546"] if ipv6 else ["67", "68"]
    lines.append(_line(name, ["-p", "udp", "-m", "udp", "--sport", dhcp[0], "--dport",
                              dhcp[1]], "RETURN"))
    lines += _sg_lines(name, "ingress", ipv6, rules, members)
    lines.append(_line(name, [], "DROP"))
    return lines


def _egress_lines(c: Chains, port: dict[str, Any], ipv6: bool,
                  rules: list[dict[str, Any]],
                  members: dict[str, dict[str, list[str]]]) -> list[str]:
    name = c.port("o", port["port_id"])
    lines = []
    if ipv6:
        # Before it has an address: MLD reports and duplicate address detection.
        lines += [_line(name, ["-s", "::/128", "-d", "ff02::/16", "-p", "ipv6-icmp", "-m",
                               "icmp6", "--icmpv6-type", str(t)], "RETURN")
                  for t in (131, 135, 143)]
        client, server = "546", "547"
    else:
        lines.append(_line(name, ["-s", "0.0.0.0/32", "-d", "255.255.255.255/32", "-p",
                                  "udp", "-m", "udp", "--sport", "68", "--dport", "67"],
                           "RETURN"))
        client, server = "68", "67"
    lines.append(_line(name, [], c.port("s", port["port_id"])))
    if ipv6:
        lines.append(_line(name, ["-p", "ipv6-icmp", "-m", "icmp6", "--icmpv6-type", "134"],
                           "DROP"))  # a guest is no router
        lines.append(_line(name, ["-p", "ipv6-icmp"], "RETURN"))
    lines += [_line(name, ["-p", "udp", "-m", "udp", "--sport", client, "--dport", server],
                    "RETURN"),
              _line(name, ["-p", "udp", "-m", "udp", "--sport", server, "--dport", client],
                    "DROP"),  # no DHCP server in a guest
              _line(name, ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"], "RETURN"),
              _line(name, ["-m", "conntrack", "--ctstate", "INVALID"], "DROP")]
    lines += _sg_lines(name, "egress", ipv6, rules, members)
    lines.append(_line(name, [], "DROP"))
    return lines


def _sg_lines(name: str, direction: str, ipv6: bool, rules: list[dict[str, Any]],
              members: dict[str, dict[str, list[str]]]) -> list[str]:
    out: list[str] = []
    for rule in rules:
        if rule["direction"] != direction:
            continue
        for matches in rule_matches(rule, ipv6, members):
            line = _line(name, matches, "RETURN")
            if line not in out:
                out.append(line)
    return out


def port_rules(port: dict[str, Any], sg_info: dict[str, Any]) -> list[dict[str, Any]]:
    """The rules of all the port's groups."""
    groups = sg_info.get("security_groups", {})
    rules: list[dict[str, Any]] = []
    for group in port.get("security_groups", []):
        rules += groups.get(group, [])
    return rules


def render(c: Chains, ports: list[dict[str, Any]], sg_info: dict[str, Any], ipv6: bool,
           existing: set[str] | None = None, hooked: bool = True) -> str:
    """iptables-restore input for ``ports`` (device details, see ``network.plugin.l2``).

    :param existing: the agent's chains in the table now (the stale ones get deleted).
    :param hooked: whether FORWARD already jumps to the agent's top chain.
    """
    members = sg_info.get("sg_member_ips", {})
    ports = sorted(ports, key=lambda p: p["device"])
    guarded = [p for p in ports if filtered(p)]
    chains = [c.top, c.sg]
    for port in guarded:
        chains += [c.port(k, port["port_id"]) for k in ("i", "o", "s")]
    stale = sorted(set(existing or ()) - set(chains))
    lines = ["*filter"] + [":%s - [0:0]" % c for c in chains + stale]
    if not hooked:
        lines.append("-I FORWARD 1 -j %s" % c.top)
    for port in guarded:
        lines += [_line(c.top, _physdev(d, port["device"]), c.sg)
                  for d in ("out", "in")]
    for port in ports:
        if not filtered(port):
            lines += [_line(c.top, _physdev(d, port["device"]), "ACCEPT")
                      for d in ("out", "in")]
    for port in guarded:
        lines.append(_line(c.sg, _physdev("out", port["device"]),
                           c.port("i", port["port_id"])))
        lines.append(_line(c.sg, _physdev("in", port["device"]),
                           c.port("o", port["port_id"])))
    lines.append(_line(c.sg, [], "ACCEPT"))
    for port in guarded:
        rules = port_rules(port, sg_info)
        lines += _ingress_lines(c, port, ipv6, rules, members)
        lines += _egress_lines(c, port, ipv6, rules, members)
        lines += _spoof_lines(c, port, ipv6)
    lines += ["-X %s" % c for c in stale]
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def parse_saved(c: Chains, saved: str) -> tuple[set[str], bool]:
    """The agent's chains in iptables-save output, and whether FORWARD jumps to them."""
    chains = {line[1:].split()[0] for line in saved.splitlines()
              if line.startswith(":") and c.ours(line[1:].split()[0])}
    hooked = any(line.split() == ["-A", "FORWARD", "-j", c.top]
                 for line in saved.splitlines())
    return chains, hooked


class Firewall(Protocol):

    def apply(self, ports: list[dict[str, Any]], sg_info: dict[str, Any]) -> None:
        """Filter exactly ``ports`` (all the agent's devices) as ``sg_info`` says."""
        ...


class NoopFirewall:
    """``[securitygroup] enable_security_group = false`` or ``firewall_driver = noop``."""

    def apply(self, ports: list[dict[str, Any]], sg_info: dict[str, Any]) -> None:
        return None


class IptablesFirewall:
    """Applies :func:`render` for IPv4 and IPv6 through the driver."""

    def __init__(self, driver: bridge_driver.Driver, chains: Chains) -> None:
        self._driver = driver
        self.chains = chains

    def apply(self, ports: list[dict[str, Any]], sg_info: dict[str, Any]) -> None:
        for ipv6 in (False, True):
            existing, hooked = parse_saved(self.chains, self._driver.iptables_save(ipv6))
            self._driver.iptables_restore(ipv6, render(self.chains, ports, sg_info, ipv6,
                                                       existing, hooked))

    def remove_all(self) -> None:
        """Remove every chain of the agent and its jump from FORWARD."""
        for ipv6 in (False, True):
            existing, hooked = parse_saved(self.chains, self._driver.iptables_save(ipv6))
            if not existing and not hooked:
                continue
            lines = ["*filter"] + [":%s - [0:0]" % c for c in sorted(existing)]
            if hooked:
                lines.append("-D FORWARD -j %s" % self.chains.top)
            lines += ["-X %s" % c for c in sorted(existing)]
            self._driver.iptables_restore(ipv6, "\n".join(lines + ["COMMIT"]) + "\n")
