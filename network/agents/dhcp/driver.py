"""Every privileged action of the DHCP agent: namespaces, links, bridges, dnsmasq.

The agent runs as root; this is the one module of it that changes the system
(over :mod:`network.agents.linux`), so a later privsep split only has to move it.

Wiring (``[dhcp] bridge_mode``): the DHCP port is a veth pair, ``ns-<port id[:11]>``
inside ``qdhcp-<network id>`` carrying the port's MAC and addresses, and
``tap<port id[:11]>`` in the main namespace (Neutron's names). With ``none`` the
bridge agent plugs the outer end into the network's bridge like any port's device;
in ``standalone`` mode (default) the DHCP agent creates the bridge
``brq<network id[:11]>`` itself and plugs the outer end into it, so anything
plugged into that bridge (a guest's tap, a test namespace's veth) reaches dnsmasq.
"""
from __future__ import annotations

import os
import signal
from typing import Protocol

from oslo_log import log as logging

from network.agents import linux

LOG = logging.getLogger(__name__)

NS_PREFIX = "qdhcp-"


class Driver(Protocol):
    """What the agent's convergence needs (the unit tests give a fake one)."""

    def namespaces(self) -> list[str]: ...

    def ensure_namespace(self, ns: str) -> bool:
        """:returns: whether the namespace had to be created."""
        ...

    def delete_namespace(self, ns: str) -> None: ...

    def ensure_bridge(self, bridge: str, mtu: int | None) -> bool: ...

    def delete_bridge(self, bridge: str) -> None: ...

    def plug(self, ns: str, inner: str, outer: str, mac: str, cidrs: list[str],
             mtu: int | None, bridge: str | None) -> bool:
        """:returns: whether the veth pair had to be created."""
        ...

    def process_pid(self, pid_file: str, marker: str) -> int | None:
        """The running daemon (dnsmasq, metadata proxy) of ``pid_file``, if ours."""
        ...

    def start_process(self, ns: str, argv: list[str]) -> None:
        """Run ``argv`` in ``ns``; it daemonises and writes its pid file."""
        ...

    def reload_dnsmasq(self, pid: int) -> None: ...

    def stop_process(self, pid: int) -> None: ...


class IpDriver(linux.IpCommand):
    """:class:`Driver` over ``ip`` and dnsmasq; the binaries come from the config."""

    def plug(self, ns: str, inner: str, outer: str, mac: str, cidrs: list[str],
             mtu: int | None, bridge: str | None) -> bool:
        if not self.link_exists(inner, ns):
            # The namespace holds this port's interface only: an earlier one (another
            # name, an older version's) would answer with the same addresses.
            for stale in self.links(ns):
                if stale not in ("lo", inner):
                    self._run("-n", ns, "link", "delete", stale, check=False)
        return self.plug_veth(ns, inner, outer, mac, cidrs, mtu, bridge)

    def reload_dnsmasq(self, pid: int) -> None:
        os.kill(pid, signal.SIGHUP)
