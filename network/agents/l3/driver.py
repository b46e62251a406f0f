"""Every privileged action of the L3 agent: router namespaces, their interfaces,
routes, iptables and metadata proxies.

The one module of the agent that changes the system (a later privsep split only
has to move it). It drives iproute2's ``ip`` (pyroute2 is not a dependency yet),
``sysctl`` and ``iptables-restore`` inside the namespaces, and the metadata proxy
processes (daemons that write their own pid file). Unlike a DHCP namespace, a
router namespace holds several interfaces: plugging one never touches another.
"""
from __future__ import annotations

import json
import os
import shutil
from typing import Protocol

from oslo_log import log as logging

from network.agents import linux

LOG = logging.getLogger(__name__)


class Driver(Protocol):
    """What the agent's convergence needs (the unit tests give a fake one)."""

    def namespaces(self) -> list[str]: ...

    def ensure_namespace(self, ns: str) -> bool: ...

    def delete_namespace(self, ns: str) -> None: ...

    def enable_forwarding(self, ns: str) -> None: ...

    def ensure_bridge(self, bridge: str, mtu: int | None) -> bool: ...

    def plug(self, ns: str, inner: str, outer: str, mac: str, cidrs: list[str],
             mtu: int | None, bridge: str | None) -> bool: ...

    def delete_bridge_if_unused(self, bridge: str) -> None: ...

    def links(self, ns: str) -> list[str]: ...

    def delete_link(self, name: str, ns: str | None = None) -> None: ...

    def set_link_down(self, ns: str, name: str) -> None: ...

    def sync_routes(self, ns: str, routes: list[tuple[str, str]]) -> None: ...

    def restore_tables(self, ns: str, text: str) -> None: ...

    def process_pid(self, pid_file: str, marker: str) -> int | None: ...

    def start_process(self, ns: str, argv: list[str]) -> None: ...

    def stop_process(self, pid: int) -> None: ...

    def arping(self, ns: str, dev: str, address: str) -> None: ...


class IpDriver(linux.IpCommand):
    """:class:`Driver` over ``ip``, ``sysctl``, ``iptables-restore`` and ``arping``."""

    def __init__(self, ip_binary: str = "ip", iptables_restore: str = "iptables-restore",
                 arping: str = "arping") -> None:
        super().__init__(ip_binary)
        self._restore = iptables_restore
        self._arping = arping

    def plug(self, ns: str, inner: str, outer: str, mac: str, cidrs: list[str],
             mtu: int | None, bridge: str | None) -> bool:
        """A router port: several per namespace, plugging one never touches another."""
        return self.plug_veth(ns, inner, outer, mac, cidrs, mtu, bridge)

    def enable_forwarding(self, ns: str) -> None:
        self._run("netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # IPv6 may be disabled on the host: not fatal for an IPv4 router.
        self._run("netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1",
                  check=False)

    def delete_bridge_if_unused(self, bridge: str) -> None:
        """Delete ``bridge`` when nothing is plugged into it any more (a guest, the
        DHCP port or another router may still use it)."""
        try:
            members = os.listdir("/sys/class/net/%s/brif" % bridge)
        except FileNotFoundError:
            return
        if not members:
            self.delete_bridge(bridge)

    def sync_routes(self, ns: str, routes: list[tuple[str, str]]) -> None:
        """Make the routes with a next hop exactly ``routes`` (connected routes are
        the kernel's)."""
        for family in ("-4", "-6"):
            raw = self._run("-n", ns, "-j", family, "route", "show").stdout or "[]"
            wanted = {(d, h) for d, h in routes if (":" in h) == (family == "-6")}
            for route in json.loads(raw):
                if "gateway" not in route:
                    continue
                key = (str(route["dst"]), str(route["gateway"]))
                if family == "-6" and key[0] == "default":
                    key = ("::/0", key[1])
                if key not in wanted:
                    self._run("-n", ns, family, "route", "del", route["dst"], "via",
                              route["gateway"], check=False)
            for dest, hop in sorted(wanted):
                result = self._run("-n", ns, family, "route", "replace", dest, "via", hop,
                                   check=False)
                if result.returncode != 0:  # e.g. the next hop is not on-link yet
                    LOG.warning("Route %(d)s via %(h)s in %(ns)s: %(err)s",
                                {"d": dest, "h": hop, "ns": ns,
                                 "err": result.stderr.strip()})

    def restore_tables(self, ns: str, text: str) -> None:
        try:
            linux.execute([self._ip, "netns", "exec", ns, self._restore], stdin=text)
        except RuntimeError as err:
            raise RuntimeError("%s\n%s" % (err, text)) from None

    def arping(self, ns: str, dev: str, address: str) -> None:
        if shutil.which(self._arping) is None:
            return  # optional: neighbours learn the address on the next ARP anyway
        self._run("netns", "exec", ns, self._arping, "-U", "-c", "1", "-I", dev, address,
                  check=False)

