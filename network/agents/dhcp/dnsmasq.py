"""What dnsmasq is given for one network: hosts file, options file, command line.

Pure functions of the network as the server describes it (see
``network.plugin.dhcp``); nothing here touches the system.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Any

METADATA_CIDR = "169.254.169.254/32"


@dataclass(frozen=True)
class Config:
    """The rendered configuration of one network's dnsmasq."""

    argv: list[str]
    hosts: str
    opts: str


def hostname(ip: str) -> str:
    """``host-10-0-0-5`` for ``10.0.0.5`` (colons become dashes for IPv6)."""
    return "host-" + ip.replace(".", "-").replace(":", "-")


def dhcp_subnets(network: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in network["subnets"] if s.get("enable_dhcp", True)]


def render_hosts(network: dict[str, Any]) -> str:
    """One ``mac,host-<ip>,ip`` line per address of a port on a DHCP subnet."""
    subnet_ids = {s["id"] for s in dhcp_subnets(network)}
    lines = []
    for port in sorted(network["ports"], key=lambda p: p["id"]):
        for fixed in port["fixed_ips"]:
            if fixed["subnet_id"] not in subnet_ids:
                continue
            ip = fixed["ip_address"]
            shown = "[%s]" % ip if ":" in ip else ip
            lines.append("%s,%s,%s" % (port["mac_address"], hostname(ip), shown))
    return "".join(line + "\n" for line in lines)


def _dhcp_ip(network: dict[str, Any], subnet_id: str) -> str | None:
    for fixed in network["dhcp_port"]["fixed_ips"]:
        if fixed["subnet_id"] == subnet_id:
            return str(fixed["ip_address"])
    return None


def metadata_subnets(network: dict[str, Any], isolated: bool, force: bool) -> set[str]:
    """The IPv4 DHCP subnets whose guests reach 169.254.169.254 through the DHCP
    namespace: all with ``force``, those without a router with ``isolated``."""
    return {sub["id"] for sub in dhcp_subnets(network) if sub["ip_version"] == 4
            and (force or (isolated and sub.get("isolated", True)))}


def render_opts(network: dict[str, Any], metadata: set[str] | None = None) -> str:
    """Per-subnet options (tagged ``subnet-<id>``): router, DNS servers, MTU (26) and
    classless static routes (121) for host routes and, on subnets without a router,
    the metadata address via the DHCP port."""
    lines = []
    mtu = network.get("mtu")
    for sub in dhcp_subnets(network):
        if sub["ip_version"] != 4:
            continue
        tag = "tag:subnet-%s" % sub["id"]
        gateway = sub.get("gateway_ip")
        lines.append("%s,option:router%s" % (tag, "," + gateway if gateway else ""))
        if sub.get("dns_nameservers"):
            lines.append("%s,option:dns-server,%s" % (tag, ",".join(sub["dns_nameservers"])))
        if mtu:
            lines.append("%s,option:mtu,%d" % (tag, int(mtu)))
        routes = [(r["destination"], r["nexthop"]) for r in sub.get("host_routes") or []]
        dhcp_ip = _dhcp_ip(network, sub["id"])
        if dhcp_ip and sub["id"] in (metadata or set()) and \
                not any(d == METADATA_CIDR for d, _ in routes):
            routes.append((METADATA_CIDR, dhcp_ip))
        if routes:
            # With option 121 clients ignore option 3: the default route goes in too.
            if gateway and not any(d == "0.0.0.0/0" for d, _ in routes):
                routes.append(("0.0.0.0/0", gateway))
            lines.append("%s,option:classless-static-route,%s" % (
                tag, ",".join("%s,%s" % (d, n) for d, n in routes)))
    return "".join(line + "\n" for line in lines)


def render_argv(network: dict[str, Any], directory: str, interface: str, binary: str,
                lease_time: int) -> list[str]:
    """dnsmasq's command line: DHCP only (no DNS), static leases on every DHCP subnet."""
    argv = [binary, "--no-hosts", "--no-resolv", "--port=0", "--conf-file=/dev/null",
            "--bind-interfaces", "--interface=%s" % interface, "--except-interface=lo",
            "--dhcp-authoritative",
            "--pid-file=%s" % os.path.join(directory, "pid"),
            "--dhcp-hostsfile=%s" % os.path.join(directory, "host"),
            "--dhcp-optsfile=%s" % os.path.join(directory, "opts"),
            "--dhcp-leasefile=%s" % os.path.join(directory, "leases")]
    for sub in dhcp_subnets(network):
        net = ipaddress.ip_network(sub["cidr"], strict=False)
        if net.version == 4:
            argv.append("--dhcp-range=set:subnet-%s,%s,static,%s,%ds" % (
                sub["id"], net.network_address, net.netmask, lease_time))
        else:
            argv.append("--dhcp-range=set:subnet-%s,%s,static,%d,%ds" % (
                sub["id"], net.network_address, net.prefixlen, lease_time))
    return argv


def render(network: dict[str, Any], directory: str, interface: str, binary: str,
           lease_time: int, metadata: set[str]) -> Config:
    """Everything dnsmasq needs for ``network``."""
    return Config(argv=render_argv(network, directory, interface, binary, lease_time),
                  hosts=render_hosts(network), opts=render_opts(network, metadata))


def port_cidrs(network: dict[str, Any]) -> list[str]:
    """The DHCP port's addresses with their subnets' prefix lengths (``10.0.0.2/24``)."""
    prefix = {s["id"]: ipaddress.ip_network(s["cidr"], strict=False).prefixlen
              for s in network["subnets"]}
    return ["%s/%d" % (f["ip_address"], prefix[f["subnet_id"]])
            for f in network["dhcp_port"]["fixed_ips"] if f["subnet_id"] in prefix]



def _pairs(hosts: str) -> set[tuple[str, str]]:
    found = set()
    for line in hosts.splitlines():
        parts = line.split(",")
        if len(parts) >= 3:
            found.add((parts[0].lower(), parts[-1].strip("[]")))
    return found


def _lease_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def _stale(line: str, wanted: set[tuple[str, str]]) -> bool:
    # "<expiry> <mac> <ip> <hostname> <client id>"; DUID lines and others are kept.
    fields = line.split()
    return len(fields) >= 3 and not line.startswith("duid") and \
        (fields[1].lower(), fields[2]) not in wanted


def has_stale_leases(path: str, hosts: str) -> bool:
    """Whether the lease file names an address no port (MAC, IP) in ``hosts`` holds.

    dnsmasq will not offer an address its leases give to another MAC (a deleted
    port's), so a new port reusing the address would never get a lease; and it
    reads the lease file only at start. The caller stops dnsmasq, calls
    :func:`prune_leases` and starts it again.
    """
    wanted = _pairs(hosts)
    return any(_stale(line, wanted) for line in _lease_lines(path))


def prune_leases(path: str, hosts: str) -> bool:
    """Drop the stale leases (see :func:`has_stale_leases`); True if any were."""
    lines = _lease_lines(path)
    wanted = _pairs(hosts)
    kept = [line for line in lines if not _stale(line, wanted)]
    if len(kept) == len(lines):
        return False
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in kept))
    os.replace(tmp, path)
    return True
