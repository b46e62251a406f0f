"""The system calls every network agent makes: iproute2's ``ip`` for namespaces,
links, bridges, veth pairs and addresses, and the daemons the agents spawn
(dnsmasq, metadata proxies) found and stopped by pid file only.

The agents' drivers build on :class:`IpCommand`; they are the only modules that
change the system, so a later privsep/rootwrap split only has to move them.
pyroute2 is not a dependency yet: every call maps one to one onto its API.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import Any

from oslo_log import log as logging

LOG = logging.getLogger(__name__)
TIMEOUT = 60


def execute(cmd: list[str], check: bool = True,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; :raises: RuntimeError with its stderr when it fails and ``check``."""
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, input=stdin,
                            timeout=TIMEOUT)
    if check and result.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), result.returncode,
                                                   result.stderr.strip()))
    return result


class IpCommand:
    """Namespaces, links and addresses through ``ip`` (the binary from the config)."""

    def __init__(self, ip_binary: str = "ip") -> None:
        self._ip = ip_binary

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return execute([self._ip, *args], check=check)

    def _links(self, *args: str, ns: str | None = None) -> list[dict[str, Any]]:
        where = ["-n", ns] if ns else []
        out = self._run(*where, "-j", "link", "show", *args, check=False)
        if out.returncode != 0 or not out.stdout.strip():
            return []
        return list(json.loads(out.stdout))

    def link_exists(self, name: str, ns: str | None = None) -> bool:
        where = ["-n", ns] if ns else []
        return self._run(*where, "link", "show", "dev", name, check=False).returncode == 0

    def links(self, ns: str | None = None) -> list[str]:
        """Interface names (without the ``@peer`` suffix) in ``ns`` or the main one."""
        return [str(link["ifname"]).split("@")[0] for link in self._links(ns=ns)]

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

    def ensure_bridge(self, bridge: str, mtu: int | None) -> bool:
        """A bridge without STP or forwarding delay (a plugged port forwards at once).

        :returns: whether it had to be created.
        """
        created = not self.link_exists(bridge)
        if created:
            self._run("link", "add", bridge, "type", "bridge", "forward_delay", "0",
                      "stp_state", "0")
            LOG.info("Created bridge %s", bridge)
        if mtu:
            self._run("link", "set", bridge, "mtu", str(mtu))
        self._run("link", "set", bridge, "up")
        return created

    def delete_bridge(self, bridge: str) -> None:
        if self.link_exists(bridge):
            self._run("link", "delete", bridge)
            LOG.info("Deleted bridge %s", bridge)

    def plug_veth(self, ns: str, inner: str, outer: str, mac: str, cidrs: list[str],
                  mtu: int | None, bridge: str | None) -> bool:
        """A veth pair: ``outer`` in the main namespace (enslaved to ``bridge`` if
        given), ``inner`` in ``ns`` with ``mac`` and exactly ``cidrs``.

        :returns: whether the pair had to be created.
        """
        created = not self.link_exists(inner, ns)
        if created:
            if self.link_exists(outer):  # a stale end whose peer went with an old namespace
                self._run("link", "delete", outer)
            self._run("link", "add", outer, "type", "veth", "peer", "name", inner,
                      "netns", ns)
            LOG.info("Created veth %(outer)s / %(ns)s:%(inner)s",
                     {"outer": outer, "ns": ns, "inner": inner})
        mtu_args = ["mtu", str(mtu)] if mtu else []
        self._run("-n", ns, "link", "set", inner, "address", mac, *mtu_args)
        self._run("-n", ns, "link", "set", inner, "up")
        self.sync_addresses(ns, inner, cidrs)
        if mtu:
            self._run("link", "set", outer, "mtu", str(mtu))
        if bridge:
            self._run("link", "set", outer, "master", bridge)
        self._run("link", "set", outer, "up")
        return created

    def sync_addresses(self, ns: str, dev: str, cidrs: list[str]) -> None:
        """Make the global addresses of ``ns``:``dev`` exactly ``cidrs``."""
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

    def set_link_down(self, ns: str, name: str) -> None:
        self._run("-n", ns, "link", "set", name, "down")

    def delete_link(self, name: str, ns: str | None = None) -> None:
        """Delete ``name`` (a veth's peer goes with it) if it exists."""
        if self.link_exists(name, ns):
            where = ["-n", ns] if ns else []
            self._run(*where, "link", "delete", name, check=False)
            LOG.info("Deleted %(where)s%(dev)s", {"where": ns + ":" if ns else "",
                                                  "dev": name})

    # Daemons the agents run inside namespaces (dnsmasq, metadata proxies): each
    # daemonises and writes its pid file before the command returns.

    def start_process(self, ns: str, argv: list[str]) -> None:
        self._run("netns", "exec", ns, *argv)

    def process_pid(self, pid_file: str, marker: str) -> int | None:
        return process_pid(pid_file, marker)

    def stop_process(self, pid: int) -> None:
        stop_process(pid)


def process_pid(pid_file: str, marker: str) -> int | None:
    """The pid in ``pid_file`` if that process runs and is ours: its command line
    names ``marker`` and the pid file (a recycled pid of anything else is never
    signalled)."""
    try:
        with open(pid_file, encoding="ascii") as f:
            pid = int(f.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmdline = f.read().decode(errors="replace")
    except (OSError, ValueError):
        return None
    if marker in cmdline and pid_file in cmdline and alive(pid):
        return pid
    return None


def stop_process(pid: int, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def alive(pid: int) -> bool:
    """Running, not a zombie (daemons we spawn detach: their parent may never reap)."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
