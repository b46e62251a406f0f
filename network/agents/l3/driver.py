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
import signal
import subprocess
import time
from typing import Protocol

from oslo_log import log as logging


LOG = logging.getLogger(__name__)


class Driver(Protocol):
    """What the agent's convergence needs (the unit tests give a fake one)."""

    def namespaces(self) -> list[str]: ...

    def ensure_namespace(self, ns: str) -> bool: ...

    def delete_namespace(self, ns: str) -> None: ...

    def enable_forwarding(self, ns: str) -> None: ...

    def ensure_bridge(self, bridge: str, mtu: int | None) -> None: ...

    def plug(self, ns: str, inner: str, outer: str, mac: str, cidrs: list[str],
             mtu: int | None, bridge: str | None) -> bool: ...

    def delete_bridge_if_unused(self, bridge: str) -> None: ...

    def links(self, ns: str) -> list[str]: ...

    def delete_link(self, ns: str, name: str) -> None: ...

    def sync_routes(self, ns: str, routes: list[tuple[str, str]]) -> None: ...

    def restore_tables(self, ns: str, text: str) -> None: ...

    def process_pid(self, pid_file: str, marker: str) -> int | None: ...

    def start_process(self, ns: str, argv: list[str]) -> None: ...

    def stop_process(self, pid: int) -> None: ...

    def arping(self, ns: str, dev: str, address: str) -> None: ...


class IpDriver:
    """:class:`Driver` over ``ip``, ``sysctl``, ``iptables-restore`` and ``arping``."""

    def __init__(self, ip_binary: str = "ip", iptables_restore: str = "iptables-restore",
                 arping: str = "arping") -> None:
        self._ip = ip_binary
        self._restore = iptables_restore
        self._arping = arping

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [self._ip, *args]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), result.returncode,
                                                       result.stderr.strip()))
        return result

    def _exists(self, name: str, ns: str | None = None) -> bool:
        args = ["-n", ns] if ns else []
        return self._run(*args, "link", "show", "dev", name, check=False).returncode == 0

    def namespaces(self) -> list[str]:
        out = self._run("netns", "list").stdout
        return [line.split()[0] for line in out.splitlines() if line.strip()]

    def ensure_namespace(self, ns: str) -> bool:
        """:returns: whether the namespace had to be created."""
        created = ns not in self.namespaces()
        if created:
            self._run("netns", "add", ns)
            LOG.info("Created namespace %s", ns)
        self._run("-n", ns, "link", "set", "lo", "up")
        return created

    def delete_namespace(self, ns: str) -> None:
        if ns in self.namespaces():
            self._run("netns", "delete", ns)
            LOG.info("Deleted namespace %s", ns)

    def ensure_bridge(self, bridge: str, mtu: int | None) -> None:
        if not self._exists(bridge):
            self._run("link", "add", bridge, "type", "bridge")
            LOG.info("Created bridge %s", bridge)
        if mtu:
            self._run("link", "set", bridge, "mtu", str(mtu))
        self._run("link", "set", bridge, "up")

    def delete_bridge(self, bridge: str) -> None:
        if self._exists(bridge):
            self._run("link", "delete", bridge)
            LOG.info("Deleted bridge %s", bridge)

    def plug(self, ns: str, inner: str, outer: str, mac: str, cidrs: list[str],
             mtu: int | None, bridge: str | None) -> bool:
        """A veth pair ``outer`` (main namespace, into ``bridge`` if given) / ``inner``
        (in ``ns``, with ``mac`` and exactly ``cidrs``). :returns: whether it was created."""
        created = not self._exists(inner, ns)
        if created:
            if self._exists(outer):  # a stale end whose peer went with an old namespace
                self._run("link", "delete", outer)
            self._run("link", "add", outer, "type", "veth", "peer", "name", inner,
                      "netns", ns)
            LOG.info("Created veth %(outer)s / %(ns)s:%(inner)s",
                     {"outer": outer, "ns": ns, "inner": inner})
        mtu_args = ["mtu", str(mtu)] if mtu else []
        self._run("-n", ns, "link", "set", inner, "address", mac, *mtu_args)
        self._run("-n", ns, "link", "set", inner, "up")
        self._sync_addresses(ns, inner, cidrs)
        if mtu:
            self._run("link", "set", outer, "mtu", str(mtu))
        if bridge:
            self._run("link", "set", outer, "master", bridge)
        self._run("link", "set", outer, "up")
        return created

    def _sync_addresses(self, ns: str, dev: str, cidrs: list[str]) -> None:
        raw = self._run("-n", ns, "-j", "addr", "show", "dev", dev).stdout or "[]"
        have = set()
        for link in json.loads(raw):
            for addr in link.get("addr_info", []):
                if addr.get("scope") == "global":
                    have.add("%s/%s" % (addr["local"], addr["prefixlen"]))
        for cidr in sorted(have - set(cidrs)):
            self._run("-n", ns, "addr", "del", cidr, "dev", dev)
        for cidr in sorted(set(cidrs) - have):
            self._run("-n", ns, "addr", "add", cidr, "dev", dev)

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

    def links(self, ns: str) -> list[str]:
        raw = self._run("-n", ns, "-j", "link", "show").stdout or "[]"
        return [str(link["ifname"]).split("@")[0] for link in json.loads(raw)]

    def delete_link(self, ns: str, name: str) -> None:
        # Deleting one end of a veth deletes its peer in the main namespace too.
        self._run("-n", ns, "link", "delete", name, check=False)
        LOG.info("Deleted %(ns)s:%(dev)s", {"ns": ns, "dev": name})

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
        cmd = [self._ip, "netns", "exec", ns, self._restore]
        result = subprocess.run(cmd, input=text, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError("%s failed (%d): %s\n%s" % (" ".join(cmd), result.returncode,
                                                           result.stderr.strip(), text))

    def process_pid(self, pid_file: str, marker: str) -> int | None:
        try:
            with open(pid_file, encoding="ascii") as f:
                pid = int(f.read().strip())
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except (OSError, ValueError):
            return None
        # Only our process: a recycled pid of anything else is never killed.
        if marker in cmdline and pid_file in cmdline and _alive(pid):
            return pid
        return None

    def start_process(self, ns: str, argv: list[str]) -> None:
        # The process daemonises itself and writes its pid file before this returns.
        self._run("netns", "exec", ns, *argv)

    def stop_process(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(50):
            if not _alive(pid):
                return
            time.sleep(0.1)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return

    def arping(self, ns: str, dev: str, address: str) -> None:
        if shutil.which(self._arping) is None:
            return  # optional: neighbours learn the address on the next ARP anyway
        self._run("netns", "exec", ns, self._arping, "-U", "-c", "1", "-I", dev, address,
                  check=False)


def _alive(pid: int) -> bool:
    """Running, not a zombie."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
