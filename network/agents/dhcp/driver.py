"""Every privileged action of the DHCP agent: namespaces, links, bridges, dnsmasq.

The agent runs as root; this is the one module that changes the system, so a
later privsep/rootwrap split only has to move it. It drives iproute2's ``ip``
command (pyroute2 is not a dependency yet; the calls map one to one).

Wiring (``[dhcp] bridge_mode``): the DHCP port is a veth pair, ``ns-<port id[:11]>``
inside ``qdhcp-<network id>`` carrying the port's MAC and addresses, and
``tap<port id[:11]>`` in the main namespace (Neutron's names). With ``none`` the
bridge agent plugs the outer end into the network's bridge like any port's device;
in ``standalone`` mode (default) the DHCP agent creates the bridge
``brq<network id[:11]>`` itself and plugs the outer end into it, so anything
plugged into that bridge (a guest's tap, a test namespace's veth) reaches dnsmasq.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import Protocol

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

NS_PREFIX = "qdhcp-"


class Driver(Protocol):
    """What the agent's convergence needs (the unit tests give a fake one)."""

    def namespaces(self) -> list[str]: ...

    def ensure_namespace(self, ns: str) -> bool:
        """:returns: whether the namespace had to be created."""
        ...

    def delete_namespace(self, ns: str) -> None: ...

    def ensure_bridge(self, bridge: str, mtu: int | None) -> None: ...

    def delete_bridge(self, bridge: str) -> None: ...

    def plug(self, ns: str, inner: str, outer: str, mac: str, cidrs: list[str],
             mtu: int | None, bridge: str | None) -> bool:
        """:returns: whether the veth pair had to be created."""
        ...

    def dnsmasq_pid(self, pid_file: str) -> int | None: ...

    def start_dnsmasq(self, ns: str, argv: list[str]) -> None: ...

    def reload_dnsmasq(self, pid: int) -> None: ...

    def stop_dnsmasq(self, pid: int) -> None: ...


class IpDriver:
    """:class:`Driver` over ``ip`` and dnsmasq; the binaries come from the config."""

    def __init__(self, ip_binary: str = "ip") -> None:
        self._ip = ip_binary

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
        created = not self._exists(inner, ns)
        if created:
            # The namespace holds this port's interface only: an earlier one (another
            # name, an older version's) would answer with the same addresses.
            for stale in self._links(ns):
                if stale not in ("lo", inner):
                    self._run("-n", ns, "link", "delete", stale, check=False)
            if self._exists(outer):
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

    def _links(self, ns: str) -> list[str]:
        raw = self._run("-n", ns, "-j", "link", "show", check=False).stdout or "[]"
        return [str(link["ifname"]).split("@")[0] for link in json.loads(raw)]

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

    def dnsmasq_pid(self, pid_file: str) -> int | None:
        try:
            with open(pid_file, encoding="ascii") as f:
                pid = int(f.read().strip())
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except (OSError, ValueError):
            return None
        # Only our dnsmasq: a recycled pid of anything else is not killed.
        if "dnsmasq" in cmdline and pid_file in cmdline and _alive(pid):
            return pid
        return None

    def start_dnsmasq(self, ns: str, argv: list[str]) -> None:
        # dnsmasq daemonises itself and writes its pid file before returning.
        self._run("netns", "exec", ns, *argv)
        LOG.info("Started dnsmasq in %s", ns)

    def reload_dnsmasq(self, pid: int) -> None:
        os.kill(pid, signal.SIGHUP)

    def stop_dnsmasq(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(50):
            if not _alive(pid):
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Running, not a zombie (dnsmasq daemonises: its parent may never reap it)."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
